using Federated.Contracts.Dashboard;
using Federated.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Federated.Server.Dashboard;

/// <summary>The sign-in throttle's failures and the revoked sessions, persisted together.</summary>
public sealed class DashboardSessionsState
{
    public SignInThrottleState Throttle { get; set; } = new();

    /// <summary>Revoked session ids, each kept until no cookie of it can still be valid (revocation + the session's length).</summary>
    public Dictionary<string, DateTimeOffset> Revoked { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Keeps <see cref="IDashboardSessionsGrain"/>'s state in the server's grain storage (one activation, calls in
/// turn, so the throttle needs no locks).
/// </summary>
[GrainType("dashboard-sessions")]
public sealed class DashboardSessionsGrain(
    [PersistentState("sessions", StorageNames.State)] IPersistentState<DashboardSessionsState> state,
    IOptions<DashboardOptions> options,
    TimeProvider time) : Grain, IDashboardSessionsGrain
{
    /// <summary>At most this many revocations are kept; past it the oldest go (their cookies expire by then in any normal use).</summary>
    public const int MaxRevoked = 100_000;

    private SignInThrottle Throttle => new(options.Value, time, state.State.Throttle);

    public Task<SignInRefusal?> Refusal(string address, string account) => Task.FromResult(Throttle.Refusal(address, account));

    public async Task Failed(string address, string account)
    {
        Throttle.Failed(address, account);
        await state.WriteStateAsync();
    }

    public async Task Succeeded(string address, string account)
    {
        if (Throttle.Succeeded(address, account))
            await state.WriteStateAsync();
    }

    public async Task Revoke(string sessionId)
    {
        var now = time.GetUtcNow();
        var revoked = state.State.Revoked;
        foreach (var (id, _) in revoked.Where(r => r.Value <= now).ToList())
            revoked.Remove(id);
        revoked[sessionId] = now + TimeSpan.FromMinutes(options.Value.SessionMinutes);
        if (revoked.Count > MaxRevoked)
        {
            foreach (var (id, _) in revoked.OrderBy(r => r.Value).Take(revoked.Count - MaxRevoked).ToList())
                revoked.Remove(id);
        }
        await state.WriteStateAsync();
    }

    public Task<bool> IsRevoked(string sessionId) => Task.FromResult(state.State.Revoked.ContainsKey(sessionId));
}
