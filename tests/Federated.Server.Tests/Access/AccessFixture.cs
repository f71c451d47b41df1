using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Federated.Protos;
using Grpc.Net.Client;

namespace Federated.Server.Tests.Access;

/// <summary>
/// A coordinator that requires operator credentials, with the dashboard on and one configured account per role
/// (plus the legacy operator token), for the role tests.
/// </summary>
public sealed class AccessFixture : IAsyncLifetime
{
    public const string Password = "pass-word";
    public const string LegacyToken = "legacy-secret";

    /// <summary>The configured account of each role.</summary>
    public static readonly IReadOnlyDictionary<string, string> Accounts = new Dictionary<string, string>
    {
        ["viewer"] = "vera",
        ["operator"] = "otto",
        ["admin"] = "ada",
    };

    private readonly TemporaryDirectory _folder = new();
    private readonly List<GrpcChannel> _channels = [];

    public TlsLoopbackServer Server { get; private set; } = null!;

    public static Dictionary<string, string?> Settings(bool requireCredentials = true)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Server:Dashboard:Enabled"] = "true",
            ["Server:OperatorToken"] = LegacyToken,
            ["Server:Operators:RequireCredentials"] = requireCredentials ? "true" : "false",
            // Many sign-ins from one address in a few seconds: the throttle is not what these tests are about.
            ["Server:Dashboard:SignInAttempts"] = "1000",
        };
        foreach (var (role, name) in Accounts)
        {
            settings[$"Server:Dashboard:Users:{name}"] = Password;
            if (role != "admin")
                settings[$"Server:Dashboard:Roles:{name}"] = role;
        }
        return settings;
    }

    public async Task InitializeAsync()
        => Server = await TlsLoopbackServer.StartAsync(_folder, settings: Settings());

    /// <summary>A channel carrying <paramref name="credential"/> (none when null).</summary>
    public GrpcChannel Channel(string? credential)
    {
        var channel = Server.Channel(credential);
        _channels.Add(channel);
        return channel;
    }

    /// <summary>The CLI credential of the configured account of <paramref name="role"/>.</summary>
    public static string CredentialOf(string role) => $"{Accounts[role]}:{Password}";

    public async Task DisposeAsync()
    {
        foreach (var channel in _channels)
            channel.Dispose();
        await Server.DisposeAsync();
        _folder.Dispose();
    }
}

/// <summary>A browser's session against the dashboard API: cookies, the antiforgery token, plain requests.</summary>
public sealed class DashboardSession(string address, ServerTrust? trust = null) : IDisposable
{
    private readonly HttpClient _http = new(Handler(address, trust)) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };

    private static SocketsHttpHandler Handler(string address, ServerTrust? trust)
    {
        var handler = new SocketsHttpHandler { CookieContainer = new CookieContainer() };
        trust?.ApplyTo(handler, CoordinatorAddresses.Parse(address));
        return handler;
    }
    private string? _antiforgery;

    public async Task<HttpStatusCode> SignInAsync(string user, string password)
    {
        await RefreshTokenAsync();
        var status = (await SendAsync(HttpMethod.Post, "/dashboard/api/login", new { user, password })).StatusCode;
        await RefreshTokenAsync(); // the token is bound to the signed-in user
        return status;
    }

    public async Task RefreshTokenAsync()
        => _antiforgery = (await _http.GetFromJsonAsync<JsonElement>("/dashboard/api/session")).GetProperty("antiforgeryToken").GetString();

    /// <summary>Sends and returns once the headers are in (event streams are not read).</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (method == HttpMethod.Post)
        {
            request.Content = JsonContent.Create(body ?? new { });
            if (_antiforgery is not null)
                request.Headers.Add("X-CSRF-TOKEN", _antiforgery);
        }
        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    public async Task<JsonElement> GetJsonAsync(string path) => await _http.GetFromJsonAsync<JsonElement>(path);

    public async Task<string> GetTextAsync(string path) => await _http.GetStringAsync(path);

    public void Dispose() => _http.Dispose();
}
