using Federated.Protos;
using Microsoft.Extensions.Options;

namespace Federated.Client.Hosting;

/// <summary>
/// This client's own credential, as the coordinator issued it at the first enrolment: kept in the work directory,
/// readable by the daemon's user alone, and sent on every call. Before it exists the daemon enrols with a join token.
/// </summary>
public sealed class ClientCredentialStore
{
    public const string FileName = "credential";

    private readonly string _path;
    private volatile string? _current;

    public ClientCredentialStore(IOptions<ClientOptions> options)
    {
        _path = Path.Combine(Path.GetFullPath(options.Value.WorkDirectory), FileName);
        if (File.Exists(_path))
        {
            var text = File.ReadAllText(_path).Trim();
            if (!PrefixedSecret.TryParse(text, PrefixedSecret.ClientCredentialPrefix, out _))
                throw new InvalidOperationException($"{_path} does not hold a client credential (fcc1.<client>.<secret>); delete it and enrol again with a new join token");
            _current = text;
        }
    }

    /// <summary>The credential, or null before the first enrolment.</summary>
    public string? Current => _current;

    /// <summary>The client id the credential is bound to, or null.</summary>
    public string? ClientId => PrefixedSecret.TryParse(_current, PrefixedSecret.ClientCredentialPrefix, out var c) ? c.Id : null;

    /// <summary>Keeps a newly issued credential: written whole to a private temporary file, flushed, then renamed into place.</summary>
    public void Save(string credential)
    {
        if (!PrefixedSecret.TryParse(credential, PrefixedSecret.ClientCredentialPrefix, out _))
            throw new InvalidOperationException("the coordinator returned a credential that is not one (fcc1.<client>.<secret>)");
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        var temporary = _path + ".tmp";
        var access = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            access.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new FileStream(temporary, access))
        using (var writer = new StreamWriter(file))
        {
            writer.Write(credential);
            writer.Flush();
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, _path, overwrite: true);
        _current = credential;
    }
}
