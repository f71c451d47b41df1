using Federated.Dashboard.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Federated.Dashboard.Tests;

/// <summary>The admin page in headless Chromium: a join token and an account made (their secrets shown once), both in the audit trail.</summary>
public class AdminPageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_admin_makes_a_join_token_and_an_account_and_sees_both_in_the_audit_trail()
    {
        await using var harness = await DashboardHarness.StartAsync(output);
        await harness.Page.GotoAsync(harness.DashboardUrl);
        // Polls the address rather than waiting for a navigation event, which the redirect may beat (seen twice).
        await Expect(harness.Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/dashboard/login\\.html$"));
        await harness.SignInAsync();
        await Expect(harness.Page.Locator("#nav-admin")).ToBeVisibleAsync();
        await harness.Page.Locator("#nav-admin").ClickAsync();
        await Expect(harness.Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/dashboard/admin\\.html$"));

        await harness.Page.Locator("#token-uses").FillAsync("3");
        await harness.Page.Locator("#token-label").FillAsync("rack 7");
        await harness.Page.Locator("#token-create").ClickAsync();
        await Expect(harness.Page.Locator("#token-secret-text")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^fjt1\.[0-9a-f]+\..+"));
        await Expect(harness.Page.Locator("#tokens tbody tr")).ToContainTextAsync("rack 7");
        await Expect(harness.Page.Locator("#tokens tbody tr")).ToContainTextAsync("0 / 3");

        await harness.Page.Locator("#user-name").FillAsync("viewer-1");
        await harness.Page.Locator("#user-role").SelectOptionAsync("viewer");
        await harness.Page.Locator("#user-add").ClickAsync();
        await Expect(harness.Page.Locator("#user-key-text")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^fop1\.viewer-1\..+"));
        await Expect(harness.Page.Locator("#users tr[data-user='viewer-1']")).ToContainTextAsync("managed");

        await harness.Page.Locator("#tokens tbody tr button").ClickAsync();
        await Expect(harness.Page.Locator("#tokens tbody tr")).ToContainTextAsync("revoked");
        await harness.Page.Locator("#audit-refresh").ClickAsync();
        var audit = harness.Page.Locator("#audit tbody");
        await Expect(audit).ToContainTextAsync("CreateJoinToken");
        await Expect(audit).ToContainTextAsync("RevokeJoinToken");
        await Expect(audit).ToContainTextAsync("AddUser");
        await Expect(audit).ToContainTextAsync("name=viewer-1");
        await Expect(audit.Locator("tr").First).ToContainTextAsync("RevokeJoinToken"); // newest first
        await harness.ScreenshotAsync("admin");
    }
}
