using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Runtime;
using Orleans.Storage;

namespace Federated.Server.Storage;

/// <summary>
/// Grain state as one JSON file per grain under a folder: the embedded default, needing no database.
/// Each file holds {"version": n, "state": …}; the version is the ETag that guards against lost updates.
/// Writes go to a temporary file that is flushed to disk and renamed over the old one, so a crash leaves
/// either the old state or the new, never a torn file.
/// </summary>
public sealed partial class FileGrainStorage(string name, string rootDirectory, ILogger<FileGrainStorage> logger) : IGrainStorage
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
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, useAsync: true);
            stored = await JsonSerializer.DeserializeAsync<StoredState<T>>(stream, Json).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"grain state file {path} is not valid: {e.Message}", e);
        }
        if (stored is null || stored.State is null)
            throw new InvalidDataException($"grain state file {path} holds no state");
        grainState.State = stored.State;
        grainState.ETag = stored.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        var current = await ReadVersionAsync<T>(path).ConfigureAwait(false);
        CheckETag(current, grainState.ETag, path);
        var next = (current ?? 0) + 1;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, useAsync: true))
            {
                await JsonSerializer.SerializeAsync(stream, new StoredState<T>(next, grainState.State), Json).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
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
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
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

    [LoggerMessage(Level = LogLevel.Trace, Message = "Storage {Storage} wrote {Grain} at version {Version}")]
    private static partial void LogWrote(ILogger logger, string storage, string grain, long version);

    private sealed record StoredState<T>(long Version, T? State);
}
