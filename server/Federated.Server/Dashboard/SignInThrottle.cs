using Federated.Contracts.Dashboard;

namespace Federated.Server.Dashboard;

/// <summary>A wrong password: when, from where, for which account.</summary>
public sealed record SignInFailure(DateTimeOffset At, string Address, string Account);

/// <summary>The throttle's persisted part: the wrong passwords still inside the window, oldest first.</summary>
public sealed class SignInThrottleState
{
    public List<SignInFailure> Failures { get; set; } = [];
}

/// <summary>
/// Refuses sign-in from an address that gave <see cref="DashboardOptions.SignInAttempts"/> wrong passwords, or to an
/// account that was given <see cref="DashboardOptions.SignInAttemptsPerAccount"/>, within the last
/// <see cref="DashboardOptions.SignInWindowSeconds"/> (sliding windows), until the oldest of them leaves the window.
/// A successful sign-in clears only that account's failures from that address: an attacker's good sign-ins to an
/// account of their own reset nothing about another's. Behind a proxy every operator shares the proxy's address,
/// which is why the account limit is separate (and larger: the account is shared by every address).
/// </summary>
public sealed class SignInThrottle(DashboardOptions options, TimeProvider time, SignInThrottleState state)
{
    /// <summary>At most this many failures are kept (the oldest go first), so a flood from many addresses stays bounded.</summary>
    public const int MaxKept = 100_000;

    private TimeSpan Window => TimeSpan.FromSeconds(options.SignInWindowSeconds);

    public SignInRefusal? Refusal(string address, string account)
    {
        var now = time.GetUtcNow();
        Prune(now);
        var byAddress = Wait(state.Failures.Where(f => f.Address == address), options.SignInAttempts, now);
        var byAccount = Wait(state.Failures.Where(f => f.Account == account), options.SignInAttemptsPerAccount, now);
        if (byAddress is null && byAccount is null)
            return null;
        return byAddress >= (byAccount ?? TimeSpan.Zero)
            ? new SignInRefusal(byAddress.Value, $"too many wrong passwords from this address ({options.SignInAttempts} within {options.SignInWindowSeconds} s)")
            : new SignInRefusal(byAccount!.Value, $"too many wrong passwords for this account ({options.SignInAttemptsPerAccount} within {options.SignInWindowSeconds} s)");
    }

    /// <summary>Records a wrong password.</summary>
    public void Failed(string address, string account)
    {
        var now = time.GetUtcNow();
        Prune(now);
        state.Failures.Add(new SignInFailure(now, address, account));
        if (state.Failures.Count > MaxKept)
            state.Failures.RemoveRange(0, state.Failures.Count - MaxKept);
    }

    /// <summary>Clears this account's failures from this address; false when there were none (nothing to save).</summary>
    public bool Succeeded(string address, string account)
        => state.Failures.RemoveAll(f => f.Address == address && f.Account == account) > 0;

    /// <summary>How long until fewer than <paramref name="limit"/> of <paramref name="failures"/> (oldest first) are in the window.</summary>
    private TimeSpan? Wait(IEnumerable<SignInFailure> failures, int limit, DateTimeOffset now)
    {
        var inWindow = failures.ToList();
        return inWindow.Count < limit ? null : inWindow[inWindow.Count - limit].At + Window - now;
    }

    private void Prune(DateTimeOffset now)
    {
        var expired = state.Failures.FindIndex(f => f.At > now - Window);
        state.Failures.RemoveRange(0, expired < 0 ? state.Failures.Count : expired);
    }
}
