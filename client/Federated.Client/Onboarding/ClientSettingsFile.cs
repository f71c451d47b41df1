using System.Text.Json;
using System.Text.Json.Nodes;
using Federated.Client.Hosting;

namespace Federated.Client.Onboarding;

/// <summary>
/// The settings file `enrol` writes and the daemon reads with --config: the Client section only, everything else
/// at its default. It holds no secret (the credential stays in the work directory), so it may be world-readable.
/// </summary>
public static class ClientSettingsFile
{
    public const string DefaultPath = "/etc/federated/client.json";

    /// <summary>Writes <paramref name="settings"/> (keys of the Client section, e.g. "ServerAddress") atomically.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, string> settings)
    {
        var section = new JsonObject();
        foreach (var (key, value) in settings)
            section[key] = value;
        var text = new JsonObject { [ClientOptions.Section] = section }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = full + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(System.Text.Encoding.UTF8.GetBytes(text + "\n"));
            file.Flush(flushToDisk: true);
        }
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.Move(temporary, full, overwrite: true);
    }
}
