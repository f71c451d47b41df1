using System.Security.Claims;
using Federated.Contracts.Access;
using Federated.Server.Access;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;

namespace Federated.Server.Dashboard;

/// <summary>
/// Roles on the dashboard: a policy per role (named as the role), the role as a claim refreshed from the account on
/// every request, refusals for role recorded in the audit trail, and the audit filter of state-changing endpoints.
/// </summary>
public static class DashboardAccess
{
    private const string AuditTargetKey = "federated:audit-target";

    public static void AddPolicies(AuthorizationOptions options)
    {
        foreach (var role in OperatorRoles.All)
            options.AddPolicy(role.Name(), policy => policy.RequireAuthenticatedUser().RequireAssertion(c => RoleOf(c.User) is { } held && held.Allows(role)));
    }

    public static OperatorRole? RoleOf(ClaimsPrincipal user)
        => user.FindFirst(ClaimTypes.Role)?.Value is { } text && OperatorRoles.TryParse(text, out var role) ? role : null;

    public static string Who(HttpContext context) => context.User.Identity?.Name ?? "(not signed in)";

    public static string From(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>
    /// Holds the session to its account as it is now: refused once the account is gone, its role claim replaced by
    /// the account's current role (so a demotion applies at the next request, not at the next sign-in).
    /// </summary>
    /// <returns>False when the session must end.</returns>
    public static async Task<bool> RefreshRoleAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal!;
        var name = principal.Identity?.Name;
        var accounts = context.HttpContext.RequestServices.GetRequiredService<OperatorAccounts>();
        if (name is null || await accounts.CurrentRoleAsync(name) is not { } role)
            return false;
        if (RoleOf(principal) != role)
        {
            var identity = new ClaimsIdentity(principal.Claims.Where(c => c.Type != ClaimTypes.Role).Append(new Claim(ClaimTypes.Role, role.Name())), CookieAuthenticationDefaults.AuthenticationScheme);
            context.ReplacePrincipal(new ClaimsPrincipal(identity));
            context.ShouldRenew = true;
        }
        return true;
    }

    /// <summary>The 403 of a signed-in operator whose role is too low for the endpoint: recorded, and answered naming the role needed.</summary>
    public static async Task RefuseForRoleAsync(HttpContext context)
    {
        var needed = context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).LastOrDefault(p => p is not null) ?? "?";
        var role = RoleOf(context.User);
        var why = $"needs role {needed}; {Who(context)} has role {role?.Name() ?? "none"}";
        await context.RequestServices.GetRequiredService<AuditTrail>().RecordAsync(Who(context), role, $"{context.Request.Method} {context.Request.Path}", "", AuditOutcome.Refused, why, From(context), AuditTrail.Dashboard);
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await context.Response.WriteAsJsonAsync(new ErrorView(why, null));
    }

    /// <summary>A handler names what it acted on when the route does not (a job's generated id).</summary>
    public static void SetAuditTarget(HttpContext context, string target) => context.Items[AuditTargetKey] = target;

    /// <summary>
    /// Records the endpoint's outcome: done for a success, refused (with the error's message) for a 4xx, failed otherwise.
    /// <paramref name="action"/> names it from the route values (e.g. "PauseJob" of POST /jobs/x/pause).
    /// </summary>
    public static TBuilder Audited<TBuilder>(this TBuilder builder, Func<HttpContext, string> action, string? targetRoute = null, string? targetLabel = null) where TBuilder : IEndpointConventionBuilder
        => builder.AddEndpointFilter(async (invocation, next) =>
        {
            var context = invocation.HttpContext;
            object? result;
            try
            {
                result = await next(invocation);
            }
            catch (Exception e)
            {
                await Record(context, action(context), targetRoute, targetLabel, AuditOutcome.Failed, e.GetType().Name);
                throw;
            }
            var status = (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK;
            var (outcome, detail) = status < 400 ? (AuditOutcome.Done, "") : (status < 500 ? AuditOutcome.Refused : AuditOutcome.Failed, (result as IValueHttpResult)?.Value is ErrorView error ? error.Error : $"HTTP {status}");
            await Record(context, action(context), targetRoute, targetLabel, outcome, detail);
            return result;
        });

    public static Task Record(HttpContext context, string action, string? targetRoute, string? targetLabel, string outcome, string detail)
    {
        var target = context.Items.TryGetValue(AuditTargetKey, out var set) && set is string t ? t
            : targetRoute is not null && context.Request.RouteValues.TryGetValue(targetRoute, out var value) ? $"{targetLabel ?? targetRoute}={value}" : "";
        return context.RequestServices.GetRequiredService<AuditTrail>().RecordAsync(Who(context), RoleOf(context.User), action, target, outcome, detail, From(context), AuditTrail.Dashboard);
    }
}
