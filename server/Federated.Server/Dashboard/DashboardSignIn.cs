using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Federated.Contracts.Dashboard;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Federated.Server.Dashboard;

/// <summary>
/// Signing operators in and out. Each sign-in gets a session id (a claim in the cookie); signing out revokes that
/// id server-side (<see cref="IDashboardSessionsGrain"/>), and every request's cookie is checked against the
/// revocations, so a copied cookie stops working at sign-out, also after a restart.
/// </summary>
public static class DashboardSignIn
{
    public const string SessionClaim = "federated:session";

    public static async Task<IResult> Login(HttpContext context, LoginRequest request, OperatorCredentials credentials, IGrainFactory grains)
    {
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var user = string.IsNullOrWhiteSpace(request.User) ? OperatorCredentials.DefaultUser : request.User.Trim();
        var sessions = grains.GetGrain<IDashboardSessionsGrain>(0);
        if (await sessions.Refusal(address, user) is { } refusal)
        {
            var seconds = (int)Math.Ceiling(refusal.Wait.TotalSeconds);
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return Results.Json(new ErrorView($"{refusal.Reason}: try again in {seconds} s", "password"), statusCode: StatusCodes.Status429TooManyRequests);
        }
        if (!credentials.Check(user, request.Password))
        {
            await sessions.Failed(address, user);
            return Results.Json(new ErrorView("wrong user name or password", "password"), statusCode: StatusCodes.Status401Unauthorized);
        }
        await sessions.Succeeded(address, user);
        var session = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user), new Claim(SessionClaim, session)], CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
        return Results.Ok(new { user });
    }

    public static async Task<IResult> Logout(HttpContext context, IGrainFactory grains)
    {
        if (context.User.FindFirst(SessionClaim)?.Value is { } session)
            await grains.GetGrain<IDashboardSessionsGrain>(0).Revoke(session);
        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Results.Ok();
    }

    /// <summary>Refuses a cookie without a session id (made before ids existed) or with a revoked one.</summary>
    public static async Task ValidatePrincipal(CookieValidatePrincipalContext context)
    {
        var session = context.Principal?.FindFirst(SessionClaim)?.Value;
        var grains = context.HttpContext.RequestServices.GetRequiredService<IGrainFactory>();
        if (session is null || await grains.GetGrain<IDashboardSessionsGrain>(0).IsRevoked(session))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        }
    }
}
