using System.Security.Cryptography;
using System.Text;
using Federated.Contracts.Access;
using Federated.Server.Dashboard;
using Microsoft.Extensions.Options;

namespace Federated.Server.Access;

/// <summary>
/// The operator accounts in the settings: Server:Dashboard:Password (account "operator"), Server:Dashboard:Users
/// (name → password), each with the role Server:Dashboard:Roles:&lt;name&gt; gives it, admin when none does.
/// Passwords are compared in constant time.
/// </summary>
public sealed class ConfiguredAccounts
{
    public const string DefaultUser = "operator";

    private readonly Dictionary<string, (byte[] Digest, OperatorRole Role)> _accounts = new(StringComparer.Ordinal);

    /// <exception cref="OptionsValidationException">A role that is not viewer, operator or admin, or one for no account.</exception>
    public ConfiguredAccounts(DashboardOptions options, string? generatedPassword)
    {
        var problems = new List<string>();
        var passwords = new Dictionary<string, string>(StringComparer.Ordinal);
        // A name cannot hold ':' (the settings' own separator), so the CLI's "name:password" splits at the first one.
        foreach (var (user, password) in options.Users.Where(u => !string.IsNullOrEmpty(u.Value)))
            passwords[user] = password;
        var single = string.IsNullOrEmpty(options.Password) ? generatedPassword : options.Password;
        if (!string.IsNullOrEmpty(single))
            passwords[DefaultUser] = single;
        foreach (var (user, text) in options.Roles)
        {
            if (!OperatorRoles.TryParse(text, out _))
                problems.Add($"{DashboardOptions.Section}:Roles:{user}: '{text}' is not a role: use viewer, operator or admin");
            else if (!passwords.ContainsKey(user))
                problems.Add($"{DashboardOptions.Section}:Roles:{user}: there is no such account (set {DashboardOptions.Section}:Users:{user}, or {DashboardOptions.Section}:Password for '{DefaultUser}')");
        }
        if (problems.Count > 0)
            throw new OptionsValidationException(DashboardOptions.Section, typeof(DashboardOptions), problems);
        foreach (var (user, password) in passwords)
        {
            var role = options.Roles.TryGetValue(user, out var text) && OperatorRoles.TryParse(text, out var r) ? r : OperatorRole.Admin;
            _accounts[user] = (Digest(password), role);
        }
    }

    public IEnumerable<(string Name, OperatorRole Role)> All => _accounts.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => (a.Key, a.Value.Role));

    public bool Has(string name) => _accounts.ContainsKey(name);

    public OperatorRole? RoleOf(string name) => _accounts.TryGetValue(name, out var account) ? account.Role : null;

    /// <summary>The account's role when the password is its; null otherwise.</summary>
    public OperatorRole? Check(string? user, string? password)
    {
        var name = string.IsNullOrEmpty(user) ? DefaultUser : user;
        var given = Digest(password ?? "");
        // Compare against something even for unknown names, so timing does not tell which names exist.
        var found = _accounts.TryGetValue(name, out var account);
        var expected = found ? account.Digest : Digest(Guid.NewGuid().ToString());
        return CryptographicOperations.FixedTimeEquals(given, expected) && found ? account.Role : null;
    }

    private static byte[] Digest(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));
}
