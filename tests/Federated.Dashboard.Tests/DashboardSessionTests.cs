using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Federated.Simulations.LocalRuns;
using Xunit.Abstractions;

namespace Federated.Dashboard.Tests;

/// <summary>Dashboard sessions over plain HTTP: sign-out revokes server-side, and revocations and the throttle outlive a restart.</summary>
public class DashboardSessionTests(ITestOutputHelper output)
{
    private const string Password = "correct horse battery staple";

    private static Dictionary<string, string?> Settings => new()
    {
        ["Server:Dashboard:Enabled"] = "true",
        ["Server:Dashboard:Users:alice"] = Password,
        ["Server:Dashboard:Users:mallory"] = "mallory's own",
    };

    [Fact]
    public async Task A_signed_out_cookie_is_refused_for_reads_and_writes_also_after_a_restart_while_a_live_one_survives_it()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var data = Path.Combine(folder.Path, "server");
        Cookie stolen, kept;
        await using (var server = await LocalServer.StartAsync(data, logger, settings: Settings))
        {
            var victim = new Browser(server.HttpAddress);
            Assert.Equal(HttpStatusCode.OK, await victim.SignIn("alice", Password));
            stolen = victim.SessionCookie(); // an attacker's copy
            var thief = new Browser(server.HttpAddress, stolen);
            Assert.Equal(HttpStatusCode.NotFound, await thief.Read()); // the copy works while the session lives

            Assert.Equal(HttpStatusCode.OK, await victim.SignOut());
            Assert.Equal(HttpStatusCode.Unauthorized, await thief.Read());
            Assert.Equal(HttpStatusCode.Unauthorized, await thief.Write());

            var other = new Browser(server.HttpAddress);
            Assert.Equal(HttpStatusCode.OK, await other.SignIn("alice", Password));
            kept = other.SessionCookie();
        }
        await using (var restarted = await LocalServer.StartAsync(data, logger, settings: Settings))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await new Browser(restarted.HttpAddress, stolen).Read());
            Assert.Equal(HttpStatusCode.Unauthorized, await new Browser(restarted.HttpAddress, stolen).Write());
            Assert.Equal(HttpStatusCode.NotFound, await new Browser(restarted.HttpAddress, kept).Read());
        }
    }

    [Fact]
    public async Task Wrong_passwords_interleaved_with_another_accounts_good_sign_ins_are_refused_and_still_after_a_restart()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var data = Path.Combine(folder.Path, "server");
        await using (var server = await LocalServer.StartAsync(data, logger, settings: Settings))
        {
            var attacker = new Browser(server.HttpAddress);
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 20; i++)
            {
                statuses.Add(await attacker.SignIn("alice", $"guess {i}"));
                await new Browser(server.HttpAddress).SignIn("mallory", "mallory's own"); // from the same address
            }
            Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), statuses.Take(5));
            Assert.All(statuses.Skip(5), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        }
        await using (var restarted = await LocalServer.StartAsync(data, logger, settings: Settings))
            Assert.Equal(HttpStatusCode.TooManyRequests, await new Browser(restarted.HttpAddress).SignIn("alice", Password));
    }

    /// <summary>A cookie jar and the antiforgery token, as the dashboard's page keeps them.</summary>
    private sealed class Browser
    {
        private readonly CookieContainer _cookies = new();
        private readonly HttpClient _http;

        public Browser(string address, Cookie? session = null)
        {
            _http = new HttpClient(new HttpClientHandler { CookieContainer = _cookies }) { BaseAddress = new Uri(address) };
            if (session is not null)
                _cookies.Add(new Uri(address), new Cookie(session.Name, session.Value, "/"));
        }

        public Cookie SessionCookie() => _cookies.GetAllCookies().Single(c => c.Name == "federated.operator");

        public async Task<HttpStatusCode> SignIn(string user, string password)
            => (await Post("/dashboard/api/login", new { user, password })).StatusCode;

        public async Task<HttpStatusCode> SignOut() => (await Post("/dashboard/api/logout", new { })).StatusCode;

        /// <summary>An authorised read of a job that does not exist: 404 when signed in, 401 when not.</summary>
        public async Task<HttpStatusCode> Read() => (await _http.GetAsync("/dashboard/api/jobs/no-such-job/adapter")).StatusCode;

        /// <summary>An authorised write to a job that does not exist: 404 when signed in, 401 when not.</summary>
        public async Task<HttpStatusCode> Write() => (await Post("/dashboard/api/jobs/no-such-job/pause", new { })).StatusCode;

        private async Task<HttpResponseMessage> Post(string path, object body)
        {
            var session = await _http.GetFromJsonAsync<JsonElement>("/dashboard/api/session");
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            request.Headers.Add("X-CSRF-TOKEN", session.GetProperty("antiforgeryToken").GetString());
            return await _http.SendAsync(request);
        }
    }
}
