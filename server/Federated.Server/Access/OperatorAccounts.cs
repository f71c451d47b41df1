using System.Security.Cryptography;
using System.Text;
using Federated.Contracts;
using Federated.Contracts.Access;
using Federated.Contracts.Errors;
using Federated.Protos;
using Federated.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Federated.Server.Access;

/// <summary>
/// Every operator account, configured (<see cref="ConfiguredAccounts"/>) or added at run time
/// (<see cref="IOperatorAccountsGrain"/>), and every way to prove one: a managed account's key
/// ("fop1.&lt;name&gt;.&lt;secret&gt;"), a configured account's "name:password", or the legacy Server:OperatorToken.
/// Nothing is cached: a removed or demoted account is refused, or held to its new role, at its next call.
/// </summary>
public sealed class OperatorAccounts(ConfiguredAccounts configured, IGrainFactory grains, IOptions<ServerOptions> server)
{
    /// <summary>The prefix of a managed account's key.</summary>
    public const string KeyPrefix = "fop1";

    private IOperatorAccountsGrain Managed => grains.GetGrain<IOperatorAccountsGrain>(0);

    /// <summary>The caller a bearer credential proves, or null when it proves none.</summary>
    public async Task<OperatorPrincipal?> FromBearerAsync(string presented)
    {
        var legacy = server.Value.OperatorToken;
        if (!string.IsNullOrEmpty(legacy) && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(legacy)))
            return OperatorPrincipal.LegacyToken;
        if (PrefixedSecret.TryParse(presented, KeyPrefix, out var key))
            return await Managed.Verify(key.Id, key.Hash()) is { } role ? new OperatorPrincipal(key.Id, role, PrincipalKind.Managed) : null;
        var colon = presented.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && configured.Check(presented[..colon], presented[(colon + 1)..]) is { } configuredRole)
            return new OperatorPrincipal(presented[..colon], configuredRole, PrincipalKind.Configured);
        return null;
    }

    /// <summary>The dashboard's sign-in: a configured account's password, or a managed account's key as its password.</summary>
    public async Task<OperatorPrincipal?> SignInAsync(string user, string? password)
    {
        if (configured.Has(user))
            return configured.Check(user, password) is { } role ? new OperatorPrincipal(user, role, PrincipalKind.Configured) : null;
        if (PrefixedSecret.TryParse(password, KeyPrefix, out var key) && key.Id == user && await Managed.Verify(user, key.Hash()) is { } managed)
            return new OperatorPrincipal(user, managed, PrincipalKind.Managed);
        configured.Check(user, password); // the same work as for a configured name, so timing tells nothing
        return null;
    }

    /// <summary>The account's role now; null when there is no such account (any more).</summary>
    public async Task<OperatorRole?> CurrentRoleAsync(string name)
        => configured.RoleOf(name) ?? (Identifiers.IsValid(name) ? await Managed.RoleOf(name) : null);

    /// <returns>The account and its key (shown once).</returns>
    public async Task<(OperatorAccountInfo Info, string Key)> AddAsync(string name, OperatorRole role, string createdBy)
    {
        Identifiers.Require(name, "name");
        RefuseConfigured(name);
        var key = PrefixedSecret.Create(KeyPrefix, name);
        var info = await Managed.Add(name, role, key.Hash(), createdBy);
        return (info, key.ToString());
    }

    public async Task<IReadOnlyList<(OperatorAccountInfo Info, bool Configured)>> ListAsync()
    {
        var list = configured.All.Select(a => (new OperatorAccountInfo(a.Name, a.Role, default, "settings"), true)).ToList();
        list.AddRange((await Managed.List()).Where(a => !configured.Has(a.Name)).Select(a => (a, false)));
        return list;
    }

    public Task<OperatorAccountInfo> RemoveAsync(string name)
    {
        RefuseConfigured(name);
        return Managed.Remove(Identifiers.Require(name, "name"));
    }

    public Task<OperatorAccountInfo> SetRoleAsync(string name, OperatorRole role)
    {
        RefuseConfigured(name);
        return Managed.SetRole(Identifiers.Require(name, "name"), role);
    }

    private void RefuseConfigured(string name)
    {
        if (configured.Has(name))
            throw FederatedException.Precondition($"name: account '{name}' is configured in the settings (Server:Dashboard); change it there");
    }
}
