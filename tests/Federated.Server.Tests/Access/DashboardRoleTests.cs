using System.Net;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Federated.Server.Tests.Access;

/// <summary>Every dashboard API endpoint, requested by each role: allowed exactly per the roles' definition.</summary>
public class DashboardRoleTests(AccessFixture fixture) : IClassFixture<AccessFixture>
{
    /// <summary>Each endpoint (as routed), a request to it that changes nothing, and the least role it needs (null: anyone).</summary>
    private static readonly (string Route, string Method, string Path, string? Role)[] Endpoints =
    [
        ("GET /dashboard/api/session", "GET", "/dashboard/api/session", null),
        ("POST /dashboard/api/login", "POST", "/dashboard/api/login", null),
        ("POST /dashboard/api/logout", "POST", "/dashboard/api/logout", "viewer"),
        ("GET /dashboard/api/overview", "GET", "/dashboard/api/overview", "viewer"),
        ("GET /dashboard/api/jobs/{id}", "GET", "/dashboard/api/jobs/no-such-job", "viewer"),
        ("GET /dashboard/api/clients", "GET", "/dashboard/api/clients", "viewer"),
        ("GET /dashboard/api/jobs/{id}/adapter", "GET", "/dashboard/api/jobs/no-such-job/adapter", "viewer"),
        ("POST /dashboard/api/jobs", "POST", "/dashboard/api/jobs", "operator"),
        ("POST /dashboard/api/jobs/{id}/{action}", "POST", "/dashboard/api/jobs/no-such-job/pause", "operator"),
        ("POST /dashboard/api/clients/{id}/{action}", "POST", "/dashboard/api/clients/no-such-client/drain", "operator"),
        ("GET /dashboard/api/tokens", "GET", "/dashboard/api/tokens", "admin"),
        ("POST /dashboard/api/tokens", "POST", "/dashboard/api/tokens", "admin"),
        ("POST /dashboard/api/tokens/{id}/revoke", "POST", "/dashboard/api/tokens/no-such-token/revoke", "admin"),
        ("GET /dashboard/api/users", "GET", "/dashboard/api/users", "admin"),
        ("POST /dashboard/api/users", "POST", "/dashboard/api/users", "admin"),
        ("POST /dashboard/api/users/{name}/role", "POST", "/dashboard/api/users/no-such-user/role", "admin"),
        ("POST /dashboard/api/users/{name}/remove", "POST", "/dashboard/api/users/no-such-user/remove", "admin"),
        ("GET /dashboard/api/audit", "GET", "/dashboard/api/audit", "admin"),
        ("GET /dashboard/api/audit.jsonl", "GET", "/dashboard/api/audit.jsonl", "admin"),
    ];

    private static readonly string[] Ranks = ["viewer", "operator", "admin"];

    public static TheoryData<string, string> RolesAndEndpoints()
    {
        var data = new TheoryData<string, string>();
        foreach (var role in Ranks.Append("none"))
        {
            foreach (var endpoint in Endpoints)
                data.Add(role, endpoint.Route);
        }
        return data;
    }

    [Fact]
    public void Every_dashboard_api_endpoint_is_in_the_table()
    {
        var routed = fixture.Server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/dashboard/api", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => $"{m} {e.RoutePattern.RawText}"))
            .ToHashSet();
        Assert.Equal(Endpoints.Select(e => e.Route).Order(), routed.Order());
    }

    [Theory]
    [MemberData(nameof(RolesAndEndpoints))]
    public async Task Each_role_may_use_exactly_its_endpoints(string role, string route)
    {
        var endpoint = Endpoints.Single(e => e.Route == route);
        using var session = fixture.Server.Browser();
        if (role != "none")
            Assert.Equal(HttpStatusCode.OK, await session.SignInAsync(AccessFixture.Accounts[role], AccessFixture.Password));
        else
            await session.RefreshTokenAsync();
        // Signing in is open to anyone, and answers 401 only to a wrong password: give it a right one.
        var body = endpoint.Path.EndsWith("/login", StringComparison.Ordinal) ? new { user = "vera", password = AccessFixture.Password } : null;
        using var response = await session.SendAsync(new HttpMethod(endpoint.Method), endpoint.Path, body);
        var status = response.StatusCode;
        if (endpoint.Role is null)
            Assert.True(status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{role} {route}: {status}");
        else if (role == "none")
            Assert.Equal(HttpStatusCode.Unauthorized, status);
        else if (Array.IndexOf(Ranks, role) >= Array.IndexOf(Ranks, endpoint.Role))
            Assert.True(status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{role} {route}: {status}");
        else
        {
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Contains($"needs role {endpoint.Role}", await response.Content.ReadAsStringAsync());
        }
    }
}
