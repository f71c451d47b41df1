using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Runtime;
using Orleans.Storage;

namespace Federated.Server.Storage;

/// <summary>
/// Grain state as one file per grain under a folder: the embedded default, needing no database.
/// Each <c>.state</c> file is a small header (magic, format, the state's version, payload length and CRC-32:
/// <see cref="StateFileFormat"/>) and the state as written by the injected <see cref="IGrainStorageSerializer"/>
/// (MessagePack); the version is the ETag that guards against lost updates.
/// Writes go to a temporary file that is flushed to disk and renamed over the old one, so a crash leaves
/// either the old state or the new, never a torn file; the folder is fsynced after the rename so that the new
/// state survives power loss once the write returns (<see cref="DurableFiles"/>).
/// </summary>
/// <remarks>
/// A file that does not read (truncated, edited, damaged on disk) is moved aside as <c>&lt;name&gt;.damaged-&lt;UTC time&gt;</c>,
/// never deleted, recorded in <see cref="DamagedStateFiles"/> and handed to <c>onDamage</c>; the grain then reads an
/// empty state and decides what that means for it (a job fails naming the file, a directory rebuilds its list), so
/// one damaged file never fails every call that touches the grain.
/// A data directory from before MessagePack holds <c>.json</c> files ({"Version": n, "State": …}): one is read
/// when the grain has no <c>.state</c> file, and its grain's next write replaces it with one (migrate on read).
/// </remarks>
public sealed partial class FileGrainStorage(
    string name,
    string rootDirectory,
    IGrainStorageSerializer serializer,
    ILogger<FileGrainStorage> logger,
    DamagedStateFiles? damaged = null,
    TimeProvider? time = null,
    Func<StateDamage, Task>? onDamage = null,
    IReadOnlySet<string>? mirrored = null) : IGrainStorage
{
    public const string Extension = ".state";

    /// <summary>The second copy of a mirrored grain type's state file.</summary>
    public const string MirrorSuffix = ".mirror";

    /// <summary>
    /// Grain types whose state is written twice, for what a damaged file must not cost: a client's credential,
    /// pause or removal, the join tokens, the operator accounts. Small files written seldom, so the second write is cheap.
    /// </summary>
    public static readonly IReadOnlySet<string> Mirrored = new HashSet<string>(StringComparer.Ordinal) { "client", "join-tokens", "operator-accounts" };

    /// <summary>The files of earlier versions, read to migrate them.</summary>
    public const string LegacyExtension = ".json";

    private static readonly JsonSerializerOptions LegacyJson = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public string RootDirectory { get; } = Path.GetFullPath(rootDirectory);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId, Extension);
        var legacy = PathOf(stateName, grainId, LegacyExtension);
        var read = File.Exists(path) ? await ReadAsync<T>(path).ConfigureAwait(false)
            : File.Exists(legacy) ? await ReadLegacyAsync<T>(legacy).ConfigureAwait(false)
            : null;
        if (read is null)
        {
            SetEmpty(grainState);
            return;
        }
        var (version, state, problem) = read.Value;
        if (problem is null && state is null)
            problem = "it holds no state";
        if (problem is not null && IsMirrored(grainId) && File.Exists(path) && File.Exists(path + MirrorSuffix) && await ReadAsync<T>(path + MirrorSuffix).ConfigureAwait(false) is ({ } mirrorVersion, { } mirrorState, null))
        {
            // The second copy holds the same state: keep the damaged file aside for an operator and put the copy in its place.
            var movedTo = MoveAsideQuietly(path);
            DurableFiles.CopyDurably(path + MirrorSuffix, path);
            LogRestored(logger, path, problem, movedTo, mirrorVersion);
            (version, state, problem) = (mirrorVersion, mirrorState, null);
        }
        if (problem is not null)
        {
            await MoveAsideAsync(stateName, grainId, File.Exists(path) ? path : legacy, problem).ConfigureAwait(false);
            SetEmpty(grainState);
            return;
        }
        grainState.State = state!;
        grainState.ETag = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId, Extension);
        var legacy = PathOf(stateName, grainId, LegacyExtension);
        var current = await ReadVersionAsync(path, legacy).ConfigureAwait(false);
        CheckETag(current, grainState.ETag, path);
        var next = (current ?? 0) + 1;
        var bytes = StateFileFormat.Encode(next, serializer.Serialize(grainState.State).ToMemory().Span);
        DurableFiles.CreateDirectoryDurably(Path.GetDirectoryName(path)!);
        await WriteDurablyAsync(path, bytes).ConfigureAwait(false);
        if (IsMirrored(grainId))
            await WriteDurablyAsync(path + MirrorSuffix, bytes).ConfigureAwait(false); // second: a crash between leaves the newer state in the file read first
        if (File.Exists(legacy))
        {
            // Migrated: the .state file now holds a newer version, so the .json one would only mislead.
            File.Delete(legacy);
            DurableFiles.SyncDirectory(Path.GetDirectoryName(path)!);
        }
        grainState.ETag = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        LogWrote(logger, name, grainId.ToString(), next);
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId, Extension);
        var legacy = PathOf(stateName, grainId, LegacyExtension);
        CheckETag(await ReadVersionAsync(path, legacy).ConfigureAwait(false), grainState.ETag, path);
        File.Delete(path);
        File.Delete(path + MirrorSuffix);
        File.Delete(legacy);
        DurableFiles.SyncDirectory(Path.GetDirectoryName(path)!);
        SetEmpty(grainState);
    }

    /// <summary>Every key with a state file (or a moved-aside damaged one) of <paramref name="stateName"/> for grains of <paramref name="grainType"/>.</summary>
    public IReadOnlyList<string> ListKeys(string grainType, string stateName)
    {
        var folder = Path.Combine(RootDirectory, Safe(grainType));
        if (!Directory.Exists(folder))
            return [];
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var fileName = Path.GetFileName(file);
            foreach (var extension in (ReadOnlySpan<string>)[Extension, LegacyExtension])
            {
                var suffix = "." + Safe(stateName) + extension;
                var at = fileName.LastIndexOf(suffix, StringComparison.Ordinal);
                if (at <= 0)
                    continue;
                var rest = fileName[(at + suffix.Length)..];
                if (rest.Length == 0 || rest.StartsWith(DamagedMark, StringComparison.Ordinal))
                    keys.Add(Uri.UnescapeDataString(fileName[..at]));
            }
        }
        return [.. keys];
    }

    private const string DamagedMark = ".damaged-";

    /// <summary>
    /// Writes a temporary file, flushes it to disk and renames it over <paramref name="path"/>, so a crash leaves the
    /// old file or the new, and the new directory entry is on disk before the write is acknowledged.
    /// </summary>
    private static async Task WriteDurablyAsync(string path, byte[] bytes)
    {
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, useAsync: true))
            {
                await stream.WriteAsync(bytes).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            DurableFiles.MoveDurably(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }

    private bool IsMirrored(GrainId grainId) => mirrored is not null && mirrored.Contains(grainId.Type.ToString()!);

    /// <summary>Moves a damaged file to <c>&lt;name&gt;.damaged-&lt;UTC time&gt;</c> (never over another) and returns where.</summary>
    private string MoveAsideQuietly(string path)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        var stamp = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var movedTo = path + DamagedMark + stamp;
        for (var n = 2; File.Exists(movedTo); n++)
            movedTo = path + DamagedMark + stamp + "-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        DurableFiles.MoveDurably(path, movedTo, overwrite: false);
        return movedTo;
    }

    private async Task MoveAsideAsync(string stateName, GrainId grainId, string path, string problem)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        var movedTo = MoveAsideQuietly(path);
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

    /// <summary>The state in a .state file, or why it does not read (where, never what: no byte of the file is quoted).</summary>
    private async Task<(long Version, T? State, string? Problem)?> ReadAsync<T>(string path)
    {
        var bytes = await File.ReadAllBytesAsync(path).ConfigureAwait(false);
        var decoded = StateFileFormat.Decode(bytes, path, out var problem);
        if (decoded is null)
            return (0, default, problem);
        try
        {
            return (decoded.Value.Version, serializer.Deserialize<T>(new BinaryData(decoded.Value.Payload)), null);
        }
        catch (Exception e) when (e is MessagePack.MessagePackSerializationException or EndOfStreamException or InvalidOperationException or FormatException)
        {
            return (decoded.Value.Version, default, $"its payload does not read as {typeof(T).Name}");
        }
    }

    /// <summary>A .json file of an earlier version: {"Version": n, "State": …}.</summary>
    private static async Task<(long Version, T? State, string? Problem)?> ReadLegacyAsync<T>(string path)
    {
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, useAsync: true);
            var stored = await JsonSerializer.DeserializeAsync<LegacyState<T>>(stream, LegacyJson).ConfigureAwait(false);
            return (stored?.Version ?? 0, stored is null ? default : stored.State, null);
        }
        catch (JsonException e)
        {
            return (0, default, FormattableString.Invariant($"not valid JSON for its state at line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}"));
        }
    }

    /// <summary>The stored version (the .state file's header, else a legacy file's), for the ETag check.</summary>
    private static async Task<long?> ReadVersionAsync(string path, string legacy)
    {
        if (File.Exists(path))
        {
            var header = new byte[StateFileFormat.HeaderBytes];
            int read;
            await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true))
                read = await stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false).ConfigureAwait(false);
            return StateFileFormat.ReadVersion(header.AsSpan(0, read), path, out var problem)
                ?? throw new IOException($"grain state file {path} is damaged ({problem}); it is moved aside when its grain next reads it");
        }
        if (!File.Exists(legacy))
            return null;
        await using var json = new FileStream(legacy, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, useAsync: true);
        using var document = await JsonDocument.ParseAsync(json).ConfigureAwait(false);
        return document.RootElement.GetProperty("Version").GetInt64();
    }

    private static void SetEmpty<T>(IGrainState<T> grainState)
    {
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private string PathOf(string stateName, GrainId grainId, string extension)
        => Path.Combine(RootDirectory, Safe(grainId.Type.ToString()), Safe(grainId.Key.ToString()!) + "." + Safe(stateName) + extension);

    /// <summary>Keys are validated at the edges; escaping here keeps any other name inside the folder.</summary>
    private static string Safe(string part)
    {
        var escaped = Uri.EscapeDataString(part);
        return escaped.Replace("..", "%2E%2E", StringComparison.Ordinal);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Grain state file {Path} is damaged ({Problem}); moved aside to {MovedTo} and restored from its second copy (version {Version})")]
    private static partial void LogRestored(ILogger logger, string path, string problem, string movedTo, long version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Grain state file {Path} is damaged ({Problem}); moved aside to {MovedTo}")]
    private static partial void LogDamaged(ILogger logger, string path, string problem, string movedTo);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Storage {Storage} wrote {Grain} at version {Version}")]
    private static partial void LogWrote(ILogger logger, string storage, string grain, long version);

    private sealed record LegacyState<T>(long Version, T? State);
}
