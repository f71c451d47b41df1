using Federated.Dashboard.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Federated.Dashboard.Tests;

/// <summary>Plain HTTP beyond loopback (Server:AllowInsecure) is shown on every page, before the password is typed too.</summary>
public class DashboardInsecureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Plain_http_beyond_loopback_shows_a_warning_on_the_sign_in_page_and_after()
    {
        await using var harness = await DashboardHarness.StartAsync(output, settings: new Dictionary<string, string?>
        {
            ["Server:ListenAddress"] = "0.0.0.0",
            ["Server:Tls:Mode"] = "Off",
            ["Server:AllowInsecure"] = "true",
        });
        await harness.Page.GotoAsync(harness.DashboardUrl);
        await harness.Page.WaitForURLAsync("**/dashboard/login.html");
        await harness.ExplainingFailureAsync(() => Expect(harness.Page.Locator("#insecure")).ToBeVisibleAsync());
        await Expect(harness.Page.Locator("#insecure")).ToContainTextAsync("Plain HTTP beyond this machine");

        await harness.SignInAsync();
        await Expect(harness.Page.Locator("#user")).ToHaveTextAsync("operator (admin)");
        await Expect(harness.Page.Locator("#insecure")).ToBeVisibleAsync();
        await harness.ScreenshotAsync("insecure");
    }

    [Fact]
    public async Task A_loopback_dashboard_shows_no_warning()
    {
        await using var harness = await DashboardHarness.StartAsync(output);
        await harness.Page.GotoAsync(harness.DashboardUrl);
        await harness.Page.WaitForURLAsync("**/dashboard/login.html");
        await harness.SignInAsync();
        await Expect(harness.Page.Locator("#user")).ToHaveTextAsync("operator (admin)");
        await Expect(harness.Page.Locator("#insecure")).ToBeHiddenAsync();
    }
}
