using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Runtime;
using Orleans.Storage;

namespace Federated.Server.Storage;

/// <summary>
/// Grain state as one JSON file per grain under a folder: the embedded default, needing no database.
/// Each file holds {"version": n, "state": …}; the version is the ETag that guards against lost updates.
/// Writes go to a temporary file that is flushed to disk and renamed over the old one, so a crash leaves
/// either the old state or the new, never a torn file; the folder is fsynced after the rename so that the new
/// state survives power loss once the write returns (<see cref="DurableFiles"/>).
/// </summary>
/// <remarks>
/// A file that does not parse (truncated, edited, damaged on disk) is moved aside as <c>&lt;name&gt;.damaged-&lt;UTC time&gt;</c>,
/// never deleted, recorded in <see cref="DamagedStateFiles"/> and handed to <c>onDamage</c>; the grain then reads an
/// empty state and decides what that means for it (a job fails naming the file, a directory rebuilds its list), so
/// one damaged file never fails every call that touches the grain.
/// </remarks>
public sealed partial class FileGrainStorage(
    string name,
    string rootDirectory,
    ILogger<FileGrainStorage> logger,
    DamagedStateFiles? damaged = null,
    TimeProvider? time = null,
    Func<StateDamage, Task>? onDamage = null) : IGrainStorage
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public string RootDirectory { get; } = Path.GetFullPath(rootDirectory);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        if (!File.Exists(path))
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        StoredState<T>? stored;
        string? problem = null;
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, useAsync: true);
            stored = await JsonSerializer.DeserializeAsync<StoredState<T>>(stream, Json).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            stored = null;
            // Where, not what: the message quotes none of the file's bytes.
            problem = FormattableString.Invariant($"not valid JSON for its state at line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}");
        }
        if (problem is null && (stored is null || stored.State is null))
            problem = "it holds no state";
        if (problem is not null)
        {
            await MoveAsideAsync(stateName, grainId, path, problem).ConfigureAwait(false);
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        grainState.State = stored!.State!;
        grainState.ETag = stored.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        var current = await ReadVersionAsync<T>(path).ConfigureAwait(false);
        CheckETag(current, grainState.ETag, path);
        var next = (current ?? 0) + 1;
        DurableFiles.CreateDirectoryDurably(Path.GetDirectoryName(path)!);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, useAsync: true))
            {
                await JsonSerializer.SerializeAsync(stream, new StoredState<T>(next, grainState.State), Json).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            DurableFiles.MoveDurably(temporary, path, overwrite: true); // the new directory entry is on disk before the write is acknowledged
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
        grainState.ETag = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        LogWrote(logger, name, grainId.ToString(), next);
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        CheckETag(await ReadVersionAsync<T>(path).ConfigureAwait(false), grainState.ETag, path);
        File.Delete(path);
        DurableFiles.SyncDirectory(Path.GetDirectoryName(path)!);
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    /// <summary>Every key with a state file (or a moved-aside damaged one) of <paramref name="stateName"/> for grains of <paramref name="grainType"/>.</summary>
    public IReadOnlyList<string> ListKeys(string grainType, string stateName)
    {
        var folder = Path.Combine(RootDirectory, Safe(grainType));
        if (!Directory.Exists(folder))
            return [];
        var suffix = "." + Safe(stateName) + ".json";
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var fileName = Path.GetFileName(file);
            var at = fileName.LastIndexOf(suffix, StringComparison.Ordinal);
            if (at <= 0)
                continue;
            var rest = fileName[(at + suffix.Length)..];
            if (rest.Length == 0 || rest.StartsWith(DamagedMark, StringComparison.Ordinal))
                keys.Add(Uri.UnescapeDataString(fileName[..at]));
        }
        return [.. keys];
    }

    private const string DamagedMark = ".damaged-";

    private async Task MoveAsideAsync(string stateName, GrainId grainId, string path, string problem)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        var stamp = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var movedTo = path + DamagedMark + stamp;
        for (var n = 2; File.Exists(movedTo); n++)
            movedTo = path + DamagedMark + stamp + "-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        DurableFiles.MoveDurably(path, movedTo, overwrite: false);
        var damage = new StateDamage(grainId, stateName, path, movedTo, problem, now);
        LogDamaged(logger, path, problem, movedTo);
        damaged?.Record(damage);
        if (onDamage is not null)
            await onDamage(damage).ConfigureAwait(false);
    }

    private static void CheckETag(long? stored, string? expected, string path)
    {
        var storedText = stored?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (storedText != expected)
            throw new InconsistentStateException($"grain state {path} is at version {storedText ?? "none"} but the grain expected {expected ?? "none"}", storedText, expected);
    }

    private static async Task<long?> ReadVersionAsync<T>(string path)
    {
        if (!File.Exists(path))
            return null;
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, useAsync: true);
        using var document = await JsonDocument.ParseAsync(stream).ConfigureAwait(false);
        return document.RootElement.GetProperty("Version").GetInt64();
    }

    private string PathOf(string stateName, GrainId grainId)
        => Path.Combine(RootDirectory, Safe(grainId.Type.ToString()), Safe(grainId.Key.ToString()!) + "." + Safe(stateName) + ".json");

    /// <summary>Keys are validated at the edges; escaping here keeps any other name inside the folder.</summary>
    private static string Safe(string part)
    {
        var escaped = Uri.EscapeDataString(part);
        return escaped.Replace("..", "%2E%2E", StringComparison.Ordinal);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Grain state file {Path} is damaged ({Problem}); moved aside to {MovedTo}")]
    private static partial void LogDamaged(ILogger logger, string path, string problem, string movedTo);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Storage {Storage} wrote {Grain} at version {Version}")]
    private static partial void LogWrote(ILogger logger, string storage, string grain, long version);

    private sealed record StoredState<T>(long Version, T? State);
}
