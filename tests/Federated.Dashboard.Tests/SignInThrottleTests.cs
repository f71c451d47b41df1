using Federated.Server.Dashboard;

namespace Federated.Dashboard.Tests;

/// <summary>The sign-in throttle: a sliding window of wrong passwords per address.</summary>
public class SignInThrottleTests
{
    [Fact]
    public void An_address_is_refused_after_its_wrong_passwords_until_the_oldest_leaves_the_window_and_others_are_not()
    {
        var clock = new Clock();
        var throttle = new SignInThrottle(new DashboardOptions { SignInAttempts = 3, SignInWindowSeconds = 60 }, clock);
        throttle.Failed("10.0.0.1");
        clock.Advance(10);
        throttle.Failed("10.0.0.1");
        Assert.Null(throttle.RetryAfter("10.0.0.1"));
        clock.Advance(10);
        throttle.Failed("10.0.0.1");

        Assert.Equal(TimeSpan.FromSeconds(40), throttle.RetryAfter("10.0.0.1")); // the first failure leaves the window at 60 s
        Assert.Null(throttle.RetryAfter("10.0.0.2"));
        clock.Advance(40);
        Assert.Null(throttle.RetryAfter("10.0.0.1"));
        throttle.Failed("10.0.0.1");
        Assert.Equal(TimeSpan.FromSeconds(10), throttle.RetryAfter("10.0.0.1"));

        throttle.Succeeded("10.0.0.1"); // e.g. the other operator on the same proxy address
        Assert.Null(throttle.RetryAfter("10.0.0.1"));
    }

    private sealed class Clock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

        public void Advance(int seconds) => _now += TimeSpan.FromSeconds(seconds);

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
