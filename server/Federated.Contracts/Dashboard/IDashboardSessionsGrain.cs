namespace Federated.Contracts.Dashboard;

/// <summary>
/// The dashboard's sign-in throttle and revoked sessions (one grain, key 0), kept with the server's state so a
/// restart neither forgets an attacker's wrong passwords nor revives a signed-out session.
/// </summary>
public interface IDashboardSessionsGrain : IGrainWithIntegerKey
{
    /// <summary>Null when <paramref name="account"/> may try to sign in from <paramref name="address"/>; else why not and for how long.</summary>
    Task<SignInRefusal?> Refusal(string address, string account);

    Task Failed(string address, string account);

    /// <summary>Clears the failures of this account from this address only (another account's do not count as cleared).</summary>
    Task Succeeded(string address, string account);

    /// <summary>Ends a session for good: its cookie, even a copy, is refused from now on.</summary>
    Task Revoke(string sessionId);

    [AlwaysInterleave]
    Task<bool> IsRevoked(string sessionId);
}

/// <summary>Sign-in is refused for <see cref="Wait"/>; <see cref="Reason"/> says which limit (address or account) was reached.</summary>
[GenerateSerializer]
[Immutable]
public sealed record SignInRefusal([property: Id(0)] TimeSpan Wait, [property: Id(1)] string Reason);
