using System.IO.Compression;
using System.Net;
using System.Text.RegularExpressions;
using Federated.Core.Adapters.Peft;
using Federated.Dashboard.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Federated.Dashboard.Tests;

/// <summary>The dashboard in headless Chromium against a real server (and, where a job runs, real client daemons).</summary>
public partial class DashboardTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sign_in_refuses_a_wrong_password_and_writes_need_a_session_and_an_antiforgery_token()
    {
        await using var harness = await DashboardHarness.StartAsync(output);

        // Without a session every state-changing endpoint is refused, and so is reading.
        using (var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(harness.Server.HttpAddress) })
        {
            var create = await anonymous.PostAsync("/dashboard/api/jobs", new StringContent("""{"baseModel":"builtin:tiny","rounds":1}"""));
            Assert.Equal(HttpStatusCode.Unauthorized, create.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/dashboard/api/jobs/x/pause", null)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/dashboard/api/overview")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/dashboard/api/clients/client-1/remove", null)).StatusCode);
            var orleans = await anonymous.GetAsync("/orleans/");
            Assert.Equal(HttpStatusCode.Redirect, orleans.StatusCode);
            Assert.Contains("/dashboard/login.html", orleans.Headers.Location!.ToString());
            Assert.Equal(HttpStatusCode.BadRequest, (await anonymous.PostAsync("/dashboard/api/login", new StringContent("""{"password":"x"}""", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        }

        // The pages send a visitor without a session to the sign-in page.
        await harness.Page.GotoAsync(harness.DashboardUrl);
        await harness.Page.WaitForURLAsync("**/dashboard/login.html");

        await harness.SignInAsync("not the password");
        await Expect(harness.Page.Locator("#login-error")).ToHaveTextAsync("wrong user name or password");
        await harness.ScreenshotAsync("login");
        Assert.EndsWith("/login.html", harness.Page.Url);

        await harness.SignInAsync();
        await Expect(harness.Page.Locator("#user")).ToHaveTextAsync("operator (admin)");
        await Expect(harness.Page.Locator("#client-counts")).ToContainTextAsync("unavailable");
        await harness.ScreenshotAsync("overview-empty");

        // Orleans' own dashboard, behind the same sign-in.
        var silo = await harness.Page.GotoAsync($"{harness.Server.HttpAddress}/orleans/");
        Assert.Equal(200, silo!.Status);
        await Expect(harness.Page.GetByText("Loading...")).ToHaveCountAsync(0);
        await Expect(harness.Page.Locator("body")).ToContainTextAsync("Silos");
        await harness.ScreenshotAsync("orleans");

        // Signed in, but without the antiforgery token a write is still refused (the cookie alone is not enough).
        var forged = await harness.Page.Context.APIRequest.PostAsync($"{harness.Server.HttpAddress}/dashboard/api/jobs", new APIRequestContextOptions { DataObject = new { baseModel = "builtin:tiny", rounds = 1 } });
        Assert.Equal(400, forged.Status);
        Assert.Contains("antiforgery", await forged.TextAsync());
    }

    [Fact]
    public async Task Sign_in_is_refused_with_429_after_five_wrong_passwords_from_one_address_even_with_the_right_one()
    {
        await using var harness = await DashboardHarness.StartAsync(output);
        for (int i = 0; i < 5; i++)
        {
            await harness.SignInAsync($"guess {i}");
            await Expect(harness.Page.Locator("#login-error")).ToHaveTextAsync("wrong user name or password");
        }

        await harness.SignInAsync();
        await Expect(harness.Page.Locator("#login-error")).ToContainTextAsync("too many wrong passwords from this address (5 within 300 s): try again in");
        Assert.EndsWith("/login.html", harness.Page.Url);
        await harness.ScreenshotAsync("login-throttled");

        var api = harness.Page.Context.APIRequest;
        var session = await (await api.GetAsync($"{harness.DashboardUrl}api/session")).JsonAsync();
        var refused = await api.PostAsync($"{harness.DashboardUrl}api/login", new APIRequestContextOptions
        {
            Headers = new Dictionary<string, string> { ["X-CSRF-TOKEN"] = session!.Value.GetProperty("antiforgeryToken").GetString()! },
            DataObject = new { password = DashboardHarness.Password },
        });
        Assert.Equal(429, refused.Status);
        Assert.InRange(int.Parse(refused.Headers["retry-after"], System.Globalization.CultureInfo.InvariantCulture), 1, 300);
    }

    [Fact]
    public async Task An_invalid_job_shows_the_validators_message_at_its_field_and_is_not_created()
    {
        await using var harness = await DashboardHarness.StartAsync(output);
        await harness.SignInAsync();
        await harness.Page.ClickAsync("#nav-create");
        await harness.Page.FillAsync("#job-id", "bad-job");
        await harness.Page.FillAsync("#rounds", "0");
        await harness.Page.ClickAsync("#create-submit");

        await Expect(harness.Page.Locator("[data-for=rounds]")).ToContainTextAsync("rounds: must be between 1 and");
        await Expect(harness.Page.Locator("#create-error")).ToContainTextAsync("rounds");
        await harness.ScreenshotAsync("create-invalid");

        // Scheduler parameters: the validator's message at the parameter; a malformed tier is named before sending.
        await harness.Page.FillAsync("#rounds", "2");
        await harness.Page.FillAsync("[name='scheduler.min_steps']", "5");
        await harness.Page.FillAsync("[name='scheduler.max_steps']", "3");
        await harness.Page.ClickAsync("#create-submit");
        await Expect(harness.Page.Locator("[data-for='scheduler.max_steps']")).ToContainTextAsync("must be at least min_steps (5), got 3");
        await harness.Page.FillAsync("[name='scheduler.max_steps']", "");
        await harness.Page.FillAsync("#rank-tiers", "16:16,eight");
        await harness.Page.ClickAsync("#create-submit");
        await Expect(harness.Page.Locator("[data-for='scheduler.rank_tiers']")).ToHaveTextAsync("tier 2 ('eight') is not rank:min memory GiB[:max seconds per step]");
        await harness.Page.FillAsync("#rank-tiers", "16:16,9999:1");
        await harness.Page.ClickAsync("#create-submit");
        await Expect(harness.Page.Locator("[data-for='scheduler.rank_tiers']")).ToContainTextAsync("scheduler.rank_tiers[1].rank: rank 9999 is outside");

        await harness.Page.ClickAsync("#nav-overview");
        await Expect(harness.Page.Locator("#jobs")).ToHaveTextAsync("No jobs yet.");
    }

    [Fact]
    public async Task A_job_created_in_the_browser_trains_live_pauses_resumes_and_its_adapter_downloads()
    {
        await using var harness = await DashboardHarness.StartAsync(output, clients: 2);
        var page = harness.Page;
        await harness.SignInAsync();

        await page.ClickAsync("#nav-create");
        await page.FillAsync("#job-id", "browser-job");
        await page.FillAsync("#rounds", "6");
        await page.FillAsync("[name=min_clients_per_round]", "2");
        await page.FillAsync("[name=local_steps]", "5");
        await page.SelectOptionAsync("#scheduler", "synchronous"); // rounds of both clients, so the Gantt has two bars
        await page.FillAsync("[name='scheduler.max_missed_deadlines']", "4");
        await page.FillAsync("[name=evaluation_dataset]", "builtin:synthetic?split=test&count=16&seed=1");
        await page.ClickAsync("#create-submit");
        await page.WaitForURLAsync("**#/job/browser-job");
        await Expect(page.Locator("#config tr", new() { HasText = "scheduler.maxMissedDeadlines" }).Locator("td")).ToHaveTextAsync("4");

        // The base model's evaluation is the chart's first point; a completed round adds the next.
        var points = page.Locator("#loss-chart circle.point");
        await Expect(page.Locator("#loss-chart circle.point[data-x='0']")).ToHaveCountAsync(1);
        await Expect(page.Locator("#loss-chart circle.point[data-x='1']")).ToHaveCountAsync(1);
        await Expect(page.Locator("#loss-chart")).ToContainTextAsync("loss (nats / token)");

        await page.ClickAsync("#job-pause");
        await Expect(page.Locator("#job-status")).ToHaveTextAsync("paused");
        await Expect(page.Locator("#job-resume")).ToBeEnabledAsync();
        await harness.ScreenshotAsync("job-paused");
        await page.ClickAsync("#job-resume");
        await Expect(page.Locator("#job-status")).ToHaveTextAsync(new Regex("running|completed"));
        await Expect(page.Locator("#job-status")).ToHaveTextAsync("completed", new() { Timeout = 240_000 });
        await Expect(points).ToHaveCountAsync(7);
        await Expect(page.Locator("#events")).ToContainTextAsync("paused by an operator");
        await Expect(page.Locator("#events")).ToContainTextAsync("resumed by an operator");
        await Expect(page.Locator("#gantt rect.task-train")).ToHaveCountAsync(2);
        // Drawn from the server's hand-out and arrival times: each client waited for the round's aggregation.
        await Expect(page.Locator("#gantt")).ToContainTextAsync("since the first task was handed out");
        Assert.True(await page.Locator("#gantt rect.task-wait").CountAsync() >= 1, "no client is shown waiting for the aggregation");
        await harness.ScreenshotAsync("job");

        await page.SelectOptionAsync("#adapter-round", "2");
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-adapter"));
        var zip = Path.Combine(harness.Folder, "adapter.zip");
        await download.SaveAsAsync(zip);
        var unpacked = Path.Combine(harness.Folder, "adapter");
        ZipFile.ExtractToDirectory(zip, unpacked);
        Assert.True(File.Exists(Path.Combine(unpacked, "adapter_config.json")));
        var adapter = await PeftAdapterDirectory.ReadAsync(unpacked);
        Assert.True(adapter.Adapter.ModuleNames.Count > 0);
        Assert.Equal("browser-job-round-2-adapter.zip", download.SuggestedFilename);

        await page.ClickAsync("#nav-overview");
        await Expect(page.Locator("tr[data-job='browser-job']")).ToContainTextAsync("6 / 6");
        // Both clients enrolled, live and admitted, neither working on the completed job: idle for it.
        await Expect(page.Locator("tr[data-job='browser-job'] .job-clients")).ToHaveTextAsync("0 / 2 / 0");
        await harness.ScreenshotAsync("overview");
        await page.ClickAsync("#nav-clients");
        await Expect(page.Locator("#clients-table tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("tr[data-client='client-1']")).ToContainTextAsync("GFLOP/s");
        // Each client's last task as the scheduler handed it out: job, rank, local steps.
        await Expect(page.Locator("tr[data-client='client-1'] .assignment")).ToHaveTextAsync(new Regex(@"^browser-job · r\d+ · \d+ steps$"));

        // Client actions: pause and resume one; drain the other, which is removed once it asks for work again.
        var first = page.Locator("tr[data-client='client-1']");
        var second = page.Locator("tr[data-client='client-2']");
        await first.Locator("button[data-action=pause]").ClickAsync();
        await Expect(first.Locator(".admission")).ToHaveTextAsync("paused");
        await first.Locator("button[data-action=resume]").ClickAsync();
        await Expect(first.Locator(".admission")).ToHaveTextAsync("active");
        await second.Locator("button[data-action=drain]").ClickAsync();
        await Expect(second.Locator(".admission")).ToHaveTextAsync("removed");
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await first.Locator("button[data-action=remove]").ClickAsync();
        await Expect(first.Locator(".admission")).ToHaveTextAsync("removed");
        await harness.ScreenshotAsync("clients");
    }
}
