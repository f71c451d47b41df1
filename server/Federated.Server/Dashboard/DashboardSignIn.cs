using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Federated.Contracts;
using Federated.Contracts.Access;
using Federated.Contracts.Dashboard;
using Federated.Server.Access;
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
    private const string SignIn = "SignIn";

    public static async Task<IResult> Login(HttpContext context, LoginRequest request, OperatorAccounts accounts, AuditTrail audit, IGrainFactory grains)
    {
        var address = DashboardAccess.From(context);
        var user = string.IsNullOrWhiteSpace(request.User) ? ConfiguredAccounts.DefaultUser : request.User.Trim();
        var sessions = grains.GetGrain<IDashboardSessionsGrain>(0);
        if (await sessions.Refusal(address, user) is { } refusal)
        {
            var seconds = (int)Math.Ceiling(refusal.Wait.TotalSeconds);
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await audit.RecordAsync(Excerpt.Of(user), null, SignIn, "", AuditOutcome.Refused, refusal.Reason, address, AuditTrail.Dashboard);
            return Results.Json(new ErrorView($"{refusal.Reason}: try again in {seconds} s", "password"), statusCode: StatusCodes.Status429TooManyRequests);
        }
        if (await accounts.SignInAsync(user, request.Password) is not { } principal)
        {
            await sessions.Failed(address, user);
            await audit.RecordAsync(Excerpt.Of(user), null, SignIn, "", AuditOutcome.Refused, "wrong user name or password", address, AuditTrail.Dashboard);
            return Results.Json(new ErrorView("wrong user name or password", "password"), statusCode: StatusCodes.Status401Unauthorized);
        }
        await sessions.Succeeded(address, user);
        await audit.RecordAsync(user, principal.Role, SignIn, "", AuditOutcome.Done, "", address, AuditTrail.Dashboard);
        var session = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        // The name identifier is what antiforgery tokens are bound to; without one they would be bound to every claim,
        // and a role changed in flight (DashboardAccess.RefreshRoleAsync) would void the page's token.
        Claim[] claims = [new(ClaimTypes.Name, user), new(ClaimTypes.NameIdentifier, user), new(ClaimTypes.Role, principal.Role.Name()), new(SessionClaim, session)];
        var identity = new ClaimsIdentity(claims, CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
        return Results.Ok(new { user, role = principal.Role.Name() });
    }

    public static async Task<IResult> Logout(HttpContext context, IGrainFactory grains, AuditTrail audit)
    {
        if (context.User.FindFirst(SessionClaim)?.Value is { } session)
            await grains.GetGrain<IDashboardSessionsGrain>(0).Revoke(session);
        await audit.RecordAsync(DashboardAccess.Who(context), DashboardAccess.RoleOf(context.User), "SignOut", "", AuditOutcome.Done, "", DashboardAccess.From(context), AuditTrail.Dashboard);
        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Results.Ok();
    }

    /// <summary>
    /// Refuses a cookie without a session id (made before ids existed), with a revoked one, or of an account that is
    /// gone; gives the principal its account's current role.
    /// </summary>
    public static async Task ValidatePrincipal(CookieValidatePrincipalContext context)
    {
        var session = context.Principal?.FindFirst(SessionClaim)?.Value;
        var grains = context.HttpContext.RequestServices.GetRequiredService<IGrainFactory>();
        if (session is null || await grains.GetGrain<IDashboardSessionsGrain>(0).IsRevoked(session) || !await DashboardAccess.RefreshRoleAsync(context))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        }
    }
}
