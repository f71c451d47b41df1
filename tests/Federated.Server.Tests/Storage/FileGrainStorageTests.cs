using Federated.Server.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using Orleans.Storage;

namespace Federated.Server.Tests.Storage;

public class FileGrainStorageTests
{
    private static readonly GrainId Grain = GrainId.Create("job", "j1");

    [Fact]
    public async Task State_written_is_read_back_with_its_version()
    {
        using var folder = new TemporaryDirectory();
        var storage = new FileGrainStorage("state", folder.Path, NullLogger<FileGrainStorage>.Instance);
        var state = new TestGrainState { State = new Sample { Name = "a", Values = [1, 2] } };
        await storage.WriteStateAsync("job", Grain, state);
        Assert.Equal("1", state.ETag);

        var read = new TestGrainState();
        await storage.ReadStateAsync("job", Grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal("1", read.ETag);
        Assert.Equal("a", read.State.Name);
        Assert.Equal([1, 2], read.State.Values);
    }

    [Fact]
    public async Task A_write_from_a_stale_copy_is_refused()
    {
        using var folder = new TemporaryDirectory();
        var storage = new FileGrainStorage("state", folder.Path, NullLogger<FileGrainStorage>.Instance);
        var first = new TestGrainState { State = new Sample { Name = "first" } };
        await storage.WriteStateAsync("job", Grain, first);
        var stale = new TestGrainState { State = new Sample { Name = "stale" } };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("job", Grain, stale));
        await storage.WriteStateAsync("job", Grain, first);
        Assert.Equal("2", first.ETag);
    }

    [Fact]
    public async Task A_damaged_state_file_is_reported_with_its_path()
    {
        using var folder = new TemporaryDirectory();
        var storage = new FileGrainStorage("state", folder.Path, NullLogger<FileGrainStorage>.Instance);
        var state = new TestGrainState { State = new Sample { Name = "x" } };
        await storage.WriteStateAsync("job", Grain, state);
        var file = Directory.GetFiles(folder.Path, "*.json", SearchOption.AllDirectories).Single();
        await File.WriteAllTextAsync(file, "{ not json");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => storage.ReadStateAsync("job", Grain, new TestGrainState()));
        Assert.Contains(file, error.Message);
    }

    [Fact]
    public async Task Keys_cannot_escape_the_storage_folder()
    {
        using var folder = new TemporaryDirectory();
        var storage = new FileGrainStorage("state", folder["inner"], NullLogger<FileGrainStorage>.Instance);
        await storage.WriteStateAsync("job", GrainId.Create("job", "../../escape"), new TestGrainState { State = new Sample() });
        Assert.All(Directory.GetFiles(folder.Path, "*", SearchOption.AllDirectories), f => Assert.StartsWith(folder["inner"], f));
    }

    public sealed class Sample
    {
        public string Name { get; set; } = "";

        public List<int> Values { get; set; } = [];
    }

    private sealed class TestGrainState : IGrainState<Sample>
    {
        [System.Diagnostics.CodeAnalysis.AllowNull]
        public Sample State { get; set; } = new();

        public string? ETag { get; set; }

        public bool RecordExists { get; set; }
    }
}
