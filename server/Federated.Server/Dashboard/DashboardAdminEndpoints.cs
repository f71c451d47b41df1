using System.Text;
using System.Text.Json;
using Federated.Contracts.Access;
using Federated.Contracts.Errors;
using Federated.Server.Access;
using Federated.Server.Transport;

namespace Federated.Server.Dashboard;

/// <summary>The admin's part of the dashboard API: join tokens, operator accounts and the audit trail (role admin).</summary>
public static class DashboardAdminEndpoints
{
    /// <summary>Most entries the audit page asks for at once.</summary>
    public const int MaxAuditPage = 1000;

    private static readonly JsonSerializerOptions JsonLines = new(JsonSerializerDefaults.Web);

    public static void Map(RouteGroupBuilder api, Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> antiforgery)
    {
        var admin = OperatorRole.Admin.Name();
        var read = api.MapGroup("").RequireAuthorization(admin);
        read.MapGet("/tokens", async (JoinTokenIssuer issuer) => Results.Ok((await issuer.ListAsync()).Select(TokenView.Of)));
        read.MapGet("/users", async (OperatorAccounts accounts) => Results.Ok((await accounts.ListAsync()).Select(a => UserView.Of(a.Info, a.Configured))));
        read.MapGet("/audit", async (AuditTrail audit, int? count) => Results.Ok((await audit.NewestAsync(Math.Clamp(count ?? 200, 1, MaxAuditPage))).Select(AuditView.Of)));
        read.MapGet("/audit.jsonl", ExportAudit).Audited(_ => "ExportAudit");

        var write = api.MapGroup("").RequireAuthorization(admin).AddEndpointFilter(antiforgery);
        write.MapPost("/tokens", CreateToken).Audited(_ => "CreateJoinToken");
        write.MapPost("/tokens/{id}/revoke", RevokeToken).Audited(_ => "RevokeJoinToken", "id");
        write.MapPost("/users", AddUser).Audited(_ => "AddUser");
        write.MapPost("/users/{name}/role", SetRole).Audited(_ => "SetUserRole", "name");
        write.MapPost("/users/{name}/remove", RemoveUser).Audited(_ => "RemoveUser", "name");
    }

    private static async Task<IResult> CreateToken(HttpContext context, CreateTokenRequest request, JoinTokenIssuer issuer)
        => await Refusals(async () =>
        {
            if (request.Uses is not { } uses)
                throw FederatedException.Invalid("uses: how many enrolments the token admits is required");
            if (request.ExpiresInSeconds is not { } seconds || seconds < 1)
                throw FederatedException.Invalid("expiresInSeconds: the token's lifetime in seconds, 1 or more, is required");
            var (info, token) = await issuer.CreateAsync(uses, TimeSpan.FromSeconds(Math.Min(seconds, TimeSpan.MaxValue.TotalSeconds / 2)), request.Label ?? "", DashboardAccess.Who(context));
            DashboardAccess.SetAuditTarget(context, $"id={info.Id}");
            return Results.Ok(new { info = TokenView.Of(info), token });
        });

    private static Task<IResult> RevokeToken(string id, JoinTokenIssuer issuer)
        => Refusals(async () => Results.Ok(TokenView.Of(await issuer.RevokeAsync(id))));

    private static Task<IResult> AddUser(HttpContext context, UserRequest request, OperatorAccounts accounts)
        => Refusals(async () =>
        {
            var (info, key) = await accounts.AddAsync(request.Name ?? "", OperatorRoles.Require(request.Role, "role"), DashboardAccess.Who(context));
            DashboardAccess.SetAuditTarget(context, $"name={info.Name}");
            return Results.Ok(new { info = UserView.Of(info, configured: false), key });
        });

    private static Task<IResult> SetRole(string name, UserRequest request, OperatorAccounts accounts)
        => Refusals(async () => Results.Ok(UserView.Of(await accounts.SetRoleAsync(name, OperatorRoles.Require(request.Role, "role")), configured: false)));

    private static Task<IResult> RemoveUser(string name, OperatorAccounts accounts)
        => Refusals(async () => Results.Ok(UserView.Of(await accounts.RemoveAsync(name), configured: false)));

    /// <summary>Every kept entry (or those at or after ?since=, an ISO 8601 time), oldest first, one JSON object a line.</summary>
    private static async Task<IResult> ExportAudit(HttpContext context, AuditTrail audit, string? since)
    {
        DateTimeOffset? from = null;
        if (!string.IsNullOrEmpty(since))
        {
            if (!DateTimeOffset.TryParse(since, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed))
                return Results.BadRequest(new ErrorView($"since: '{Contracts.Excerpt.Of(since)}' is not a time (use ISO 8601, e.g. 2026-12-03T18:00:00Z)", "since"));
            from = parsed;
        }
        var text = new StringBuilder();
        await foreach (var entry in audit.ExportAsync(from, context.RequestAborted))
            text.Append(JsonSerializer.Serialize(AuditView.Of(entry), JsonLines)).Append('\n');
        return Results.Text(text.ToString(), "application/jsonl; charset=utf-8");
    }

    private static async Task<IResult> Refusals(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (FederatedException e)
        {
            var colon = e.Message.IndexOf(':', StringComparison.Ordinal);
            var field = colon > 0 && e.Message[..colon].All(char.IsAsciiLetter) ? e.Message[..colon] : null;
            return Results.Json(new ErrorView(e.Message, field), statusCode: ErrorStatus.Http(e.Error));
        }
    }
}

public sealed record CreateTokenRequest(int? Uses, long? ExpiresInSeconds, string? Label);

public sealed record UserRequest(string? Name, string? Role);

public sealed record TokenView(string Id, string Label, int Uses, int Used, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, bool Revoked, string CreatedBy, IReadOnlyList<string> Clients)
{
    public static TokenView Of(JoinTokenInfo t) => new(t.Id, t.Label, t.Uses, t.Used, t.CreatedAt, t.ExpiresAt, t.Revoked, t.CreatedBy, t.Clients);
}

public sealed record UserView(string Name, string Role, string Source, DateTimeOffset? CreatedAt, string CreatedBy)
{
    public static UserView Of(OperatorAccountInfo a, bool configured) => new(a.Name, a.Role.Name(), configured ? "configured" : "managed", configured ? null : a.CreatedAt, a.CreatedBy);
}

/// <summary>An audit entry as the page and the JSON-lines export show it.</summary>
public sealed record AuditView(long Sequence, DateTimeOffset At, string Who, string? Role, string Action, string Target, string Outcome, string Detail, string From, string Through)
{
    public static AuditView Of(AuditEntry e) => new(e.Sequence, e.At, e.Who, e.Role?.Name(), e.Action, e.Target, e.Outcome, e.Detail, e.From, e.Through);
}
