using Federated.Core.Data;
using Federated.Simulations.LocalRuns;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Federated.Dashboard.Tests.Infrastructure;

/// <summary>
/// One test's world: a real server (own data folder and free ports) with the dashboard on, optional real client
/// daemons, and headless Debian Chromium driven by Playwright. Screenshots go to TestResults/screenshots.
/// </summary>
public sealed class DashboardHarness : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string Password = "correct horse battery staple";

    private readonly ITestOutputHelper _output;
    private readonly TemporaryDirectory _folder;
    private readonly Serilog.Core.Logger _logger;
    private readonly List<LocalClient> _clients = [];
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    private DashboardHarness(TemporaryDirectory folder, Serilog.Core.Logger logger, LocalServer server, ITestOutputHelper output)
    {
        _output = output;
        _folder = folder;
        _logger = logger;
        Server = server;
    }

    public LocalServer Server { get; }

    public IPage Page { get; private set; } = null!;

    public string DashboardUrl => $"{Server.HttpAddress}/dashboard/";

    public string Folder => _folder.Path;

    public static string ScreenshotFolder => Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");

    /// <param name="settings">Server configuration on top of the harness's own.</param>
    public static async Task<DashboardHarness> StartAsync(ITestOutputHelper output, int clients = 0, IReadOnlyDictionary<string, string?>? settings = null)
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"the dashboard tests need Debian's Chromium at {ChromiumPath}: ./test.sh installs it (apt-get install chromium)");
        var folder = new TemporaryDirectory();
        var logger = TestLogging.For(output);
        var configuration = new Dictionary<string, string?>
        {
            ["Server:Dashboard:Enabled"] = "true",
            ["Server:Dashboard:Password"] = Password,
            ["Server:Dashboard:ClientRefreshSeconds"] = "1",
            ["Server:SchedulerTickSeconds"] = "1",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            configuration[key] = value;
        var server = await LocalServer.StartAsync(Path.Combine(folder.Path, "server"), logger, settings: configuration);
        var harness = new DashboardHarness(folder, logger, server, output);
        try
        {
            var shards = clients == 0 ? [] : SyntheticShards.Write(clients, 64, 1, i => Path.Combine(folder.Path, "clients", LocalFederation.ClientName(i), "data"));
            harness._clients.AddRange(await LocalFederation.StartClientsAsync(server.GrpcAddress, shards, folder.Path, logger, Core.Runtime.ComputeDevice.Cpu));
            harness._playwright = await Playwright.CreateAsync();
            harness._browser = await harness._playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ["--no-sandbox"],
            });
            var context = await harness._browser.NewContextAsync(new BrowserNewContextOptions { AcceptDownloads = true, ViewportSize = new ViewportSize { Width = 1400, Height = 1100 } });
            context.SetDefaultTimeout(120_000);
            harness.Page = await context.NewPageAsync();
            // The browser's own complaints go into the test's output, to tell why a page did not do what it should.
            harness.Page.Console += (_, message) => Log(output, $"browser console {message.Type}: {message.Text}");
            harness.Page.Response += (_, response) =>
            {
                if (response.Status >= 400)
                    Log(output, $"browser got {response.Status} for {response.Request.Method} {response.Url}");
            };
            harness.Page.RequestFailed += (_, request) => Log(output, $"browser request failed: {request.Method} {request.Url}: {request.Failure}");
            harness.Page.PageError += (_, error) => Log(output, $"browser page error: {error}");
            Assertions.SetDefaultExpectTimeout(120_000);
            return harness;
        }
        catch
        {
            await harness.DisposeAsync();
            throw;
        }
    }

    private static void Log(ITestOutputHelper output, string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // the test has ended
        }
    }

    public async Task SignInAsync(string password = Password)
    {
        await Page.GotoAsync($"{DashboardUrl}login.html");
        await Page.FillAsync("#password", password);
        await Page.ClickAsync("#sign-in");
    }

    /// <summary>
    /// Runs a page check; when it fails, writes the page's address and markup into the test's output first, so that a
    /// failure seen once on a CI machine says what the browser had in front of it.
    /// </summary>
    public async Task ExplainingFailureAsync(Func<Task> check)
    {
        try
        {
            await check();
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            Log(_output, $"the check failed on {Page.Url}; the page was:{Environment.NewLine}{await Page.ContentAsync()}");
            throw;
        }
    }

    /// <summary>Saves a full-page screenshot as a test artefact and returns its path.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        var path = Path.Combine(ScreenshotFolder, $"{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
            await _browser.DisposeAsync();
        _playwright?.Dispose();
        foreach (var client in _clients)
            await client.DisposeAsync();
        await Server.DisposeAsync();
        await _logger.DisposeAsync();
        _folder.Dispose();
    }
}
