using Federated.Server.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime;
using Orleans.Storage;

namespace Federated.Server.Tests.Storage;

public class FileGrainStorageTests
{
    private static readonly GrainId Grain = GrainId.Create("job", "j1");

    private static readonly MessagePackGrainStateSerializer Serializer = new();

    [Fact]
    public async Task State_written_is_read_back_with_its_version()
    {
        using var folder = new TemporaryDirectory();
        var storage = new FileGrainStorage("state", folder.Path, Serializer, NullLogger<FileGrainStorage>.Instance);
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
        var storage = new FileGrainStorage("state", folder.Path, Serializer, NullLogger<FileGrainStorage>.Instance);
        var first = new TestGrainState { State = new Sample { Name = "first" } };
        await storage.WriteStateAsync("job", Grain, first);
        var stale = new TestGrainState { State = new Sample { Name = "stale" } };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("job", Grain, stale));
        await storage.WriteStateAsync("job", Grain, first);
        Assert.Equal("2", first.ETag);
    }

    [Fact]
    public async Task A_damaged_state_file_is_moved_aside_recorded_and_read_as_no_state()
    {
        using var folder = new TemporaryDirectory();
        var damaged = new DamagedStateFiles();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 6, 30, 0, TimeSpan.Zero));
        var handed = new List<StateDamage>();
        var storage = new FileGrainStorage("state", folder.Path, Serializer, NullLogger<FileGrainStorage>.Instance, damaged, time, d => { handed.Add(d); return Task.CompletedTask; });
        await storage.WriteStateAsync("job", Grain, new TestGrainState { State = new Sample { Name = "x" } });
        var file = Directory.GetFiles(folder.Path, "*.state", SearchOption.AllDirectories).Single();
        await File.WriteAllTextAsync(file, "{ not json");

        var read = new TestGrainState();
        await storage.ReadStateAsync("job", Grain, read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.False(File.Exists(file));
        Assert.Equal("{ not json", await File.ReadAllTextAsync(file + ".damaged-20261202T063000Z")); // never deleted
        var damage = Assert.Single(handed);
        Assert.Equal(damage, damaged.Find(Grain));
        Assert.Equal(file, damage.Path);
        Assert.Equal("no state-file header (it does not start with FDST)", damage.Problem);
        Assert.DoesNotContain("not json", damage.Describe()); // where, never what the file holds

        // A new state is written in its place, and the moved-aside file stays; a second damage gets its own name.
        await storage.WriteStateAsync("job", Grain, read);
        await File.WriteAllTextAsync(file, "");
        await storage.ReadStateAsync("job", Grain, new TestGrainState());
        Assert.True(File.Exists(file + ".damaged-20261202T063000Z-2"));
        Assert.Equal(["j1"], storage.ListKeys("job", "job"));
    }

    [Fact]
    public async Task A_write_syncs_the_folder_after_the_rename_so_the_new_entry_survives_power_loss()
    {
        using var folder = new TemporaryDirectory();
        var storage = new FileGrainStorage("state", folder.Path, Serializer, NullLogger<FileGrainStorage>.Instance);
        var synced = new List<string>();
        void Record(string path)
        {
            if (path.StartsWith(folder.Path, StringComparison.Ordinal))
                lock (synced)
                    synced.Add(path);
        }

        DurableFiles.DirectorySynced += Record;
        try
        {
            await storage.WriteStateAsync("job", Grain, new TestGrainState { State = new Sample { Name = "x" } });
        }
        finally
        {
            DurableFiles.DirectorySynced -= Record;
        }
        var file = Directory.GetFiles(folder.Path, "*.state", SearchOption.AllDirectories).Single();
        Assert.Contains(Path.GetDirectoryName(file)!, synced); // the rename's folder
        Assert.Contains(folder.Path, synced); // and the folder's parent, as the folder was made by this write
    }

    [Fact]
    public void Syncing_a_folder_that_does_not_exist_fails_naming_it()
    {
        using var folder = new TemporaryDirectory();
        var missing = folder["missing"];
        var error = Assert.Throws<IOException>(() => DurableFiles.SyncDirectory(missing));
        Assert.Contains(missing, error.Message);
    }

    [Theory]
    [InlineData("truncated", "truncated or extended: its header says")]
    [InlineData("header only", "truncated or extended: its header says")]
    [InlineData("short", "10 bytes, shorter than a state file's 21-byte header")]
    [InlineData("empty", "0 bytes, shorter than a state file's 21-byte header")]
    [InlineData("bit flipped", "its payload does not match its CRC-32")]
    [InlineData("other type", "its payload does not read as Sample")]
    public async Task A_damaged_state_file_is_detected_whatever_the_damage(string damage, string problem)
    {
        using var folder = new TemporaryDirectory();
        var damaged = new DamagedStateFiles();
        var storage = new FileGrainStorage("state", folder.Path, Serializer, NullLogger<FileGrainStorage>.Instance, damaged);
        await storage.WriteStateAsync("job", Grain, new TestGrainState { State = new Sample { Name = "some name", Values = [1, 2, 3] } });
        var file = Directory.GetFiles(folder.Path, "*.state", SearchOption.AllDirectories).Single();
        var bytes = await File.ReadAllBytesAsync(file);
        var broken = damage switch
        {
            "truncated" => bytes[..^3],
            "header only" => bytes[..StateFileFormat.HeaderBytes],
            "short" => bytes[..10], // the magic, then too little
            "empty" => [],
            "bit flipped" => [.. bytes[..^1], (byte)(bytes[^1] ^ 1)],
            _ => StateFileFormat.Encode(1, Serializer.Serialize(new[] { 1, 2 }).ToMemory().Span), // a valid file of another state
        };
        await File.WriteAllBytesAsync(file, broken);

        var read = new TestGrainState();
        await storage.ReadStateAsync("job", Grain, read);
        Assert.False(read.RecordExists);
        Assert.StartsWith(problem, damaged.Find(Grain)!.Problem);
        Assert.Equal(broken, await File.ReadAllBytesAsync(Assert.Single(Directory.GetFiles(Path.GetDirectoryName(file)!, "*.damaged-*"))));
    }

    [Fact]
    public async Task A_file_in_a_newer_format_is_refused_naming_it_and_left_in_place()
    {
        using var folder = new TemporaryDirectory();
        var storage = new FileGrainStorage("state", folder.Path, Serializer, NullLogger<FileGrainStorage>.Instance);
        await storage.WriteStateAsync("job", Grain, new TestGrainState { State = new Sample { Name = "x" } });
        var file = Directory.GetFiles(folder.Path, "*.state", SearchOption.AllDirectories).Single();
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[4] = StateFileFormat.FormatVersion + 1;
        await File.WriteAllBytesAsync(file, bytes);

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => storage.ReadStateAsync("job", Grain, new TestGrainState()));
        Assert.Contains(file, error.Message);
        Assert.Contains("format 2", error.Message);
        Assert.True(File.Exists(file)); // not damage: a newer server can still read it
    }

    [Fact]
    public async Task A_json_file_of_an_earlier_version_is_read_and_replaced_at_the_next_write()
    {
        using var folder = new TemporaryDirectory();
        var storage = new FileGrainStorage("state", folder.Path, Serializer, NullLogger<FileGrainStorage>.Instance);
        var legacy = Path.Combine(folder.Path, "job", "j1.job.json");
        Directory.CreateDirectory(Path.GetDirectoryName(legacy)!);
        await File.WriteAllTextAsync(legacy, """{ "Version": 4, "State": { "Name": "old", "Values": [7] } }""");
        Assert.Equal(["j1"], storage.ListKeys("job", "job"));

        var read = new TestGrainState();
        await storage.ReadStateAsync("job", Grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(("4", "old", 7), (read.ETag, read.State.Name, read.State.Values.Single()));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("job", Grain, new TestGrainState { State = new Sample() })); // its version guards it

        read.State.Name = "new";
        await storage.WriteStateAsync("job", Grain, read);
        Assert.Equal("5", read.ETag);
        Assert.False(File.Exists(legacy));
        Assert.True(File.Exists(Path.ChangeExtension(legacy, ".state")));
        var again = new TestGrainState();
        await storage.ReadStateAsync("job", Grain, again);
        Assert.Equal(("5", "new"), (again.ETag, again.State.Name));
        Assert.Equal(["j1"], storage.ListKeys("job", "job"));
    }

    [Fact]
    public async Task A_damaged_json_file_of_an_earlier_version_is_moved_aside_as_before()
    {
        using var folder = new TemporaryDirectory();
        var damaged = new DamagedStateFiles();
        var storage = new FileGrainStorage("state", folder.Path, Serializer, NullLogger<FileGrainStorage>.Instance, damaged);
        var legacy = Path.Combine(folder.Path, "job", "j1.job.json");
        Directory.CreateDirectory(Path.GetDirectoryName(legacy)!);
        await File.WriteAllTextAsync(legacy, """{ "Version": 4, "State": { "Na""");

        await storage.ReadStateAsync("job", Grain, new TestGrainState());
        Assert.StartsWith("not valid JSON for its state at line 1", damaged.Find(Grain)!.Problem);
        Assert.Equal(legacy, damaged.Find(Grain)!.Path);
        Assert.False(File.Exists(legacy));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(legacy)!, "j1.job.json.damaged-*"));
        Assert.Equal(["j1"], storage.ListKeys("job", "job"));
    }

    [Fact]
    public async Task Keys_cannot_escape_the_storage_folder()
    {
        using var folder = new TemporaryDirectory();
        var storage = new FileGrainStorage("state", folder["inner"], Serializer, NullLogger<FileGrainStorage>.Instance);
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
