using Federated.Contracts.Clients;
using Federated.Dashboard.Tests.Infrastructure;
using Federated.Protos.V1;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Federated.Dashboard.Tests;

/// <summary>The dashboard in headless Chromium with 10,000 enrolled clients (enrolled through the grains, no daemons).</summary>
public class ScaleTests(ITestOutputHelper output)
{
    private const int Clients = 10_000;

    [Fact]
    public async Task The_clients_page_pages_and_filters_10000_clients_and_the_overview_counts_them_per_job()
    {
        // Every client stays live (seen within 3·60 + 20 s of its enrolment) for the whole test.
        await using var harness = await DashboardHarness.StartAsync(output, settings: new Dictionary<string, string?> { ["Server:HeartbeatIntervalSeconds"] = "60" });
        var grains = harness.Server.App.Services.GetRequiredService<IGrainFactory>();
        await VirtualClients.EnrolAsync(grains, Clients);
        await grains.GetGrain<IClientGrain>(VirtualClients.Name(123)).SetAdmission(ClientAdmission.Paused);
        using (var channel = GrpcChannel.ForAddress(harness.Server.GrpcAddress))
        {
            var spec = new JobSpec { JobId = "wide", BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, ClientsPerRound = 2, LocalSteps = 1 };
            spec.Ranks.Add(2);
            await new Operator.OperatorClient(channel).CreateJobAsync(new CreateJobRequest { Spec = spec });
            var coordinator = CredentialKeeper.Client(channel, new CredentialKeeper());
            await coordinator.EnrolAsync(new EnrolRequest { ClientId = VirtualClients.Name(42) }); // its credential (enrolled through the grains, it had none)
            var task = await coordinator.PollTaskAsync(new PollTaskRequest { ClientId = VirtualClients.Name(42), WaitSeconds = 10 });
            Assert.Equal("wide", task.Task.JobId);
        }

        var page = harness.Page;
        await harness.SignInAsync();
        await Expect(page.Locator("#client-counts [data-count=clients] .big")).ToHaveTextAsync("10000");
        await Expect(page.Locator("#client-counts [data-count=unavailable] .big")).ToHaveTextAsync("1");
        await Expect(page.Locator("#client-counts [data-count=active] .big")).ToHaveTextAsync("1");
        // Per job: the client with its task is active, the paused one unavailable, every other idle.
        await Expect(page.Locator("tr[data-job='wide'] .job-clients")).ToHaveTextAsync("1 / 9998 / 1");
        await harness.ScreenshotAsync("overview-10000-clients");

        await page.ClickAsync("#nav-clients");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("page 1 of 200 (10000 clients)");
        await page.ClickAsync("#next-page");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("page 2 of 200 (10000 clients)");
        await page.ClickAsync("#next-page");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("page 3 of 200 (10000 clients)");
        var rows = page.Locator("#clients-table tbody tr");
        await Expect(rows).ToHaveCountAsync(50);
        await Expect(rows.First).ToHaveAttributeAsync("data-client", VirtualClients.Name(100));
        await Expect(rows.Last).ToHaveAttributeAsync("data-client", VirtualClients.Name(149));
        await Expect(page.Locator($"tr[data-client='{VirtualClients.Name(123)}'] .admission")).ToHaveTextAsync("paused");
        await Expect(page.Locator($"tr[data-client='{VirtualClients.Name(120)}']")).ToContainTextAsync("cuda (NVIDIA A100)");
        // The version and labels each client enrolled with.
        await Expect(page.Locator($"tr[data-client='{VirtualClients.Name(121)}'] .version")).ToHaveTextAsync(VirtualClients.Version);
        await Expect(page.Locator($"tr[data-client='{VirtualClients.Name(121)}'] .labels .label")).ToHaveTextAsync($"site={VirtualClients.Site(121)}");
        await harness.ScreenshotAsync("clients-10000-page-3");

        await page.FillAsync("#client-search", "virtual-0042");
        await page.PressAsync("#client-search", "Enter");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("page 1 of 1 (10 clients)");
        await Expect(rows).ToHaveCountAsync(10);
        await Expect(rows.First).ToHaveAttributeAsync("data-client", VirtualClients.Name(420));
        await Expect(page.Locator("#next-page")).ToBeDisabledAsync();

        await page.FillAsync("#client-search", "paused");
        await page.PressAsync("#client-search", "Enter");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("page 1 of 1 (1 clients)");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToHaveAttributeAsync("data-client", VirtualClients.Name(123));

        await page.FillAsync("#client-search", "site=site-3");
        await page.PressAsync("#client-search", "Enter");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("page 1 of 50 (2500 clients)");
        await Expect(rows.First).ToHaveAttributeAsync("data-client", VirtualClients.Name(3));

        await page.FillAsync("#client-search", "A100");
        await page.PressAsync("#client-search", "Enter");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("page 1 of 20 (1000 clients)");
        await Expect(rows.First).ToHaveAttributeAsync("data-client", VirtualClients.Name(0));
        await harness.ScreenshotAsync("clients-10000-filtered");
    }
}
