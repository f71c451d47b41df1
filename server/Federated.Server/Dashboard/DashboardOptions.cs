using System.ComponentModel.DataAnnotations;

namespace Federated.Server.Dashboard;

/// <summary>The operators' web dashboard (appsettings.json section "Server:Dashboard").</summary>
public sealed class DashboardOptions
{
    public const string Section = "Server:Dashboard";

    /// <summary>Serve the dashboard on the HTTP/1.1 port under /dashboard/ (and Orleans' own under <see cref="OrleansPath"/>).</summary>
    public bool Enabled { get; set; }

    /// <summary>Password of the single operator "operator"; alternatively (or as well) <see cref="Users"/>.</summary>
    public string? Password { get; set; }

    /// <summary>Operators by name, each with its password.</summary>
    public Dictionary<string, string> Users { get; set; } = [];

    /// <summary>
    /// Roles of the configured accounts by name (viewer, operator or admin; "operator" is the account of
    /// <see cref="Password"/>). An account with none is admin, as every configured account was before roles.
    /// </summary>
    public Dictionary<string, string> Roles { get; set; } = [];

    /// <summary>
    /// Development only: with no credential configured, make up an operator password and log it once at start-up
    /// instead of refusing to start.
    /// </summary>
    public bool GeneratePassword { get; set; }

    /// <summary>Mark cookies Secure whatever the request's scheme (set it when TLS ends at a proxy in front).</summary>
    public bool RequireSecureCookies { get; set; }

    /// <summary>How long a sign-in lasts without activity.</summary>
    [Range(1, 7 * 24 * 60)]
    public int SessionMinutes { get; set; } = 8 * 60;

    /// <summary>Wrong passwords an address may give within <see cref="SignInWindowSeconds"/> before sign-in from it is refused (HTTP 429).</summary>
    [Range(1, 1000)]
    public int SignInAttempts { get; set; } = 5;

    /// <summary>
    /// Wrong passwords an account may be given, from any addresses, within <see cref="SignInWindowSeconds"/> before
    /// sign-in to it is refused: larger than the per-address limit, as every address shares it (and an attacker
    /// could otherwise lock an operator out cheaply).
    /// </summary>
    [Range(1, 10_000)]
    public int SignInAttemptsPerAccount { get; set; } = 20;

    /// <summary>The sliding window over which <see cref="SignInAttempts"/> counts, and so the longest an address waits.</summary>
    [Range(1, 24 * 60 * 60)]
    public int SignInWindowSeconds { get; set; } = 300;

    /// <summary>How often the shared client table (liveness, activity) is refreshed for every open page.</summary>
    [Range(1, 3600)]
    public int ClientRefreshSeconds { get; set; } = 2;

    /// <summary>Where Orleans' own dashboard (silos, grains) is mounted.</summary>
    [Required]
    public string OrleansPath { get; set; } = "/orleans";

    public bool HasCredential => !string.IsNullOrEmpty(Password) || Users.Any(u => !string.IsNullOrEmpty(u.Value));
}
