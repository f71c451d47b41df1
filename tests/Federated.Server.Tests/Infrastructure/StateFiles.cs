using Federated.Server.Storage;

namespace Federated.Server.Tests.Infrastructure;

/// <summary>Reads and rewrites a grain state file as the server's storage does (header + MessagePack), for tests that edit one.</summary>
public static class StateFiles
{
    private static readonly MessagePackGrainStateSerializer Serializer = new();

    public static (long Version, T State) Read<T>(string path)
    {
        var decoded = StateFileFormat.Decode(File.ReadAllBytes(path), path, out var problem)
            ?? throw new InvalidDataException($"{path}: {problem}");
        return (decoded.Version, Serializer.Deserialize<T>(new BinaryData(decoded.Payload)));
    }

    public static void Write<T>(string path, long version, T state)
        => File.WriteAllBytes(path, StateFileFormat.Encode(version, Serializer.Serialize(state).ToMemory().Span));

    /// <summary>Reads the state, lets <paramref name="edit"/> change it, writes it back at the same version.</summary>
    public static void Edit<T>(string path, Action<T> edit)
    {
        var (version, state) = Read<T>(path);
        edit(state);
        Write(path, version, state);
    }
}
