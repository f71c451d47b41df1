using System.Net;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;

namespace Federated.Server.Tests.Dashboard;

/// <summary>The dashboard's embedded pages: public (the sign-in page must be), typed, revalidated, and nothing else served.</summary>
public class DashboardStaticFilesTests : IAsyncLifetime
{
    private readonly TemporaryDirectory _folder = new();
    private LocalServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await LocalServer.StartAsync(_folder["server"], Serilog.Core.Logger.None, settings: new Dictionary<string, string?>
        {
            ["Server:Dashboard:Enabled"] = "true",
            ["Server:Dashboard:Password"] = "static files",
        });
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(_server.HttpAddress) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    [Theory]
    [InlineData("/dashboard/", "text/html; charset=utf-8", "<!doctype html>")]
    [InlineData("/dashboard/index.html", "text/html; charset=utf-8", "dashboard.js")]
    [InlineData("/dashboard/login.html", "text/html; charset=utf-8", "login.js")]
    [InlineData("/dashboard/login.js", "text/javascript; charset=utf-8", "fetch")]
    [InlineData("/dashboard/dashboard.js", "text/javascript; charset=utf-8", "EventSource")]
    [InlineData("/dashboard/charts.js", "text/javascript; charset=utf-8", "svg")]
    [InlineData("/dashboard/dashboard.css", "text/css; charset=utf-8", "{")]
    public async Task Each_page_is_served_without_a_session_with_its_type_and_headers(string path, string type, string contains)
    {
        using var response = await _http.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType?.ToString());
        Assert.Contains(contains, await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.True(response.Headers.CacheControl?.NoCache, "pages are revalidated so a new server version shows at once");
        Assert.NotNull(response.Headers.ETag);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Contains("frame-ancestors 'none'", Header(response, "Content-Security-Policy"));
    }

    [Fact]
    public async Task An_unchanged_page_is_answered_not_modified()
    {
        using var first = await _http.GetAsync("/dashboard/dashboard.js");
        using var again = new HttpRequestMessage(HttpMethod.Get, "/dashboard/dashboard.js");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        using var response = await _http.SendAsync(again);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
    }

    [Fact]
    public async Task The_folder_without_a_slash_redirects_and_unknown_files_or_the_api_without_a_session_are_refused()
    {
        using var bare = await _http.GetAsync("/dashboard");
        Assert.True(bare.StatusCode is HttpStatusCode.Moved or HttpStatusCode.Redirect, $"got {bare.StatusCode}");
        Assert.Equal("/dashboard/", new Uri(_http.BaseAddress!, bare.Headers.Location!).AbsolutePath);

        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("/dashboard/missing.js")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.GetAsync("/dashboard/api/overview")).StatusCode);
    }

    private static string Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : throw new Xunit.Sdk.XunitException($"no {name} header");
}
