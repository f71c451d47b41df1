using Federated.Protos;
using Microsoft.Extensions.Options;

namespace Federated.Client.Hosting;

/// <summary>
/// This client's own credential ("fcc1.&lt;clientId&gt;.&lt;secret&gt;"), given by the coordinator on the first
/// enrolment and kept in &lt;WorkDirectory&gt;/credential, readable by the daemon's user alone. The channel reads
/// <see cref="Current"/> on every call, so a credential that arrives mid-session is sent from the next call on.
/// </summary>
public sealed class ClientCredentialStore(IOptions<ClientOptions> options)
{
    public const string FileName = "credential";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private volatile string? _current;

    public string Path { get; } = System.IO.Path.GetFullPath(System.IO.Path.Combine(options.Value.WorkDirectory, FileName));

    /// <summary>The credential to send, or null before the first enrolment.</summary>
    public string? Current => _current;

    /// <summary>Reads the stored credential, if any.</summary>
    /// <exception cref="InvalidOperationException">The file is not a credential, or it is another client's.</exception>
    public void Load(string clientId)
    {
        if (!File.Exists(Path))
        {
            _current = null;
            return;
        }
        var text = File.ReadAllText(Path).Trim();
        Check(text, clientId, Path);
        _current = text;
    }

    /// <summary>Keeps <paramref name="credential"/>: a temporary file made owner-only, flushed to the disk, renamed into place.</summary>
    /// <param name="clientId">When given, the client the credential must be bound to.</param>
    /// <exception cref="InvalidOperationException">The coordinator sent something that is not (this client's) credential.</exception>
    public void Save(string credential, string? clientId = null)
    {
        Check(credential, clientId, "the credential the coordinator sent");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var temporary = Path + ".tmp";
        File.Delete(temporary); // an earlier, interrupted write: its mode need not be ours
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            create.UnixCreateMode = OwnerOnly;
        using (var file = new FileStream(temporary, create))
        {
            file.Write(System.Text.Encoding.UTF8.GetBytes(credential + "\n"));
            file.Flush(flushToDisk: true);
        }
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, OwnerOnly); // whatever the umask did
        File.Move(temporary, Path, overwrite: true);
        _current = credential;
    }

    private static void Check(string text, string? clientId, string source)
    {
        if (!PrefixedSecret.TryParse(text, PrefixedSecret.ClientCredentialPrefix, out var secret))
            throw new InvalidOperationException($"{source} is not a client credential ({PrefixedSecret.ClientCredentialPrefix}.<client id>.<secret>): remove it and enrol again with a new join token (Federated.Client enrol)");
        if (clientId is not null && secret.Id != clientId)
            throw new InvalidOperationException($"{source} belongs to client '{secret.Id}', but this client's id is '{clientId}' (Client:ClientId): a credential is bound to its client id; set Client:ClientId to '{secret.Id}', or enrol '{clientId}' with a new join token (Federated.Client enrol)");
    }
}
