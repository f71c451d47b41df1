using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Federated.Server.Tests.Cluster;

/// <summary>
/// An operator's browser over plain HTTP against any of several silos: one cookie jar (cookies ignore ports, so
/// what one silo set goes to every silo on 127.0.0.1, as behind a load balancer), the antiforgery token the
/// pages keep, and the dashboard's event streams read until a condition holds.
/// </summary>
internal sealed class OperatorHttp : IDisposable
{
    private readonly CookieContainer _cookies = new();
    private readonly Dictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);

    /// <summary>The token from the latest <see cref="TokenFrom"/>; sent with every POST.</summary>
    public string? AntiforgeryToken { get; private set; }

    public async Task<string> TokenFrom(string silo)
    {
        var session = await Http(silo).GetFromJsonAsync<JsonElement>("/dashboard/api/session");
        return AntiforgeryToken = session.GetProperty("antiforgeryToken").GetString()!;
    }

    public async Task<HttpStatusCode> SignIn(string silo, string user, string password)
    {
        await TokenFrom(silo);
        return (await Post(silo, "/dashboard/api/login", new { user, password })).StatusCode;
    }

    /// <summary>An authorised read of a job that does not exist: 404 when signed in, 401 when not.</summary>
    public async Task<HttpStatusCode> Read(string silo) => (await Http(silo).GetAsync("/dashboard/api/jobs/no-such-job/adapter")).StatusCode;

    /// <summary>POSTs with the token held (not a fresh one from this silo).</summary>
    public Task<HttpResponseMessage> Post(string silo, string path, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (AntiforgeryToken is not null)
            request.Headers.Add("X-CSRF-TOKEN", AntiforgeryToken);
        return Http(silo).SendAsync(request);
    }

    /// <summary>Reads the event stream at <paramref name="path"/> until an event satisfies <paramref name="done"/>; fails with the last one after <paramref name="timeout"/>.</summary>
    public async Task<JsonElement> Until(string silo, string path, Func<JsonElement, bool> done, TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        string? last = null;
        try
        {
            using var response = await Http(silo).GetAsync(path, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(limit.Token));
            while (await reader.ReadLineAsync(limit.Token) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                    continue;
                last = line["data: ".Length..];
                var value = JsonSerializer.Deserialize<JsonElement>(last);
                if (done(value))
                    return value;
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
        }
        throw new Xunit.Sdk.XunitException($"{silo}{path}: no event within {timeout.TotalSeconds} s met the condition; the last: {last ?? "(none)"}");
    }

    private HttpClient Http(string silo)
    {
        if (!_clients.TryGetValue(silo, out var http))
            _clients[silo] = http = new HttpClient(new HttpClientHandler { CookieContainer = _cookies }) { BaseAddress = new Uri(silo), Timeout = TimeSpan.FromSeconds(60) };
        return http;
    }

    /// <summary>A clients page's counts ("counts") or the overview's ("clients").</summary>
    public static (int Total, int Active, int Idle, int Unavailable) Counts(JsonElement view)
    {
        var counts = view.TryGetProperty("counts", out var c) ? c : view.GetProperty("clients");
        return (counts.GetProperty("total").GetInt32(), counts.GetProperty("active").GetInt32(), counts.GetProperty("idle").GetInt32(), counts.GetProperty("unavailable").GetInt32());
    }

    /// <summary>The client ids of a clients page, in its order.</summary>
    public static string[] Ids(JsonElement page) => [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!)];

    public void Dispose()
    {
        foreach (var http in _clients.Values)
            http.Dispose();
    }
}
