using Federated.Server.Dashboard;

namespace Federated.Dashboard.Tests;

/// <summary>The sign-in throttle: sliding windows of wrong passwords per address and per account.</summary>
public class SignInThrottleTests
{
    private static SignInThrottle Throttle(Clock clock, int perAddress = 3, int perAccount = 5)
        => new(new DashboardOptions { SignInAttempts = perAddress, SignInAttemptsPerAccount = perAccount, SignInWindowSeconds = 60 }, clock, new SignInThrottleState());

    [Fact]
    public void An_address_is_refused_after_its_wrong_passwords_until_the_oldest_leaves_the_window_and_others_are_not()
    {
        var clock = new Clock();
        var throttle = Throttle(clock);
        throttle.Failed("10.0.0.1", "operator");
        clock.Advance(10);
        throttle.Failed("10.0.0.1", "operator");
        Assert.Null(throttle.Refusal("10.0.0.1", "operator"));
        clock.Advance(10);
        throttle.Failed("10.0.0.1", "operator");

        var refused = throttle.Refusal("10.0.0.1", "operator");
        Assert.Equal(TimeSpan.FromSeconds(40), refused?.Wait); // the first failure leaves the window at 60 s
        Assert.Contains("from this address (3 within 60 s)", refused?.Reason);
        Assert.Null(throttle.Refusal("10.0.0.2", "operator"));
        clock.Advance(40);
        Assert.Null(throttle.Refusal("10.0.0.1", "operator"));
        throttle.Failed("10.0.0.1", "operator");
        Assert.Equal(TimeSpan.FromSeconds(10), throttle.Refusal("10.0.0.1", "operator")?.Wait);

        Assert.True(throttle.Succeeded("10.0.0.1", "operator")); // the operator's own typos are forgiven
        Assert.Null(throttle.Refusal("10.0.0.1", "operator"));
    }

    [Fact]
    public void Good_sign_ins_to_another_account_do_not_reset_the_wrong_passwords_for_the_attacked_one()
    {
        var clock = new Clock();
        var throttle = Throttle(clock);
        var refusals = 0;
        for (var i = 0; i < 20; i++)
        {
            if (throttle.Refusal("10.0.0.9", "victim") is not null)
            {
                refusals++;
                continue;
            }
            throttle.Failed("10.0.0.9", "victim");
            Assert.False(throttle.Succeeded("10.0.0.9", "mallory")); // mallory's own account, right password
            clock.Advance(1);
        }
        Assert.Equal(17, refusals); // 3 guesses, then refused for the rest of the window
    }

    [Fact]
    public void An_account_guessed_at_from_many_addresses_is_refused_everywhere_and_other_accounts_are_not()
    {
        var clock = new Clock();
        var throttle = Throttle(clock);
        for (var i = 0; i < 5; i++)
            throttle.Failed($"10.0.1.{i}", "victim");

        var refused = throttle.Refusal("10.0.2.1", "victim");
        Assert.Contains("for this account (5 within 60 s)", refused?.Reason);
        Assert.Null(throttle.Refusal("10.0.2.1", "operator"));
        Assert.False(throttle.Succeeded("10.0.2.1", "victim")); // a good sign-in elsewhere keeps the others' failures
        Assert.NotNull(throttle.Refusal("10.0.2.2", "victim"));
    }

    private sealed class Clock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

        public void Advance(int seconds) => _now += TimeSpan.FromSeconds(seconds);

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
