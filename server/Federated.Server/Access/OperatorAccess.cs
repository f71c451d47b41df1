using Federated.Server.Dashboard;
using Federated.Server.Hosting;
using Federated.Server.Jobs;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Federated.Server.Access;

/// <summary>Registers operator accounts, roles and the audit trail; maps the Accounts gRPC service.</summary>
public static partial class OperatorAccess
{
    /// <summary>Call after <see cref="DashboardEndpoints.AddDashboard"/> (which registers the configured accounts with a generated password).</summary>
    public static void Add(WebApplicationBuilder builder, DashboardOptions dashboard)
    {
        // Built here, not lazily, so that a bad Server:Dashboard:Roles entry stops the start, naming it.
        builder.Services.TryAddSingleton(new ConfiguredAccounts(dashboard, generatedPassword: null));
        builder.Services.AddOptions<OperatorAccessOptions>().BindConfiguration(OperatorAccessOptions.Section);
        builder.Services.AddSingleton<OperatorAccounts>();
        builder.Services.AddSingleton<AuditTrail>();
        builder.Services.AddSingleton<OperatorActions>();
        builder.Services.AddSingleton<OperatorAuthorization>();
    }

    public static void Map(WebApplication app, ServerOptions server)
    {
        app.MapGrpcService<AccountsService>();
        var access = app.Configuration.GetSection(OperatorAccessOptions.Section).Get<OperatorAccessOptions>() ?? new OperatorAccessOptions();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Federated.Server.Access");
        if (!string.IsNullOrEmpty(server.OperatorToken))
            LogLegacyToken(logger);
        if (!OperatorAuthorization.Required(access, server))
            LogOpen(logger);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Server:OperatorToken is set: it acts as an admin account without a name (\"legacy operator token\" in the audit trail); prefer accounts (federated users add NAME --role ROLE)")]
    private static partial void LogLegacyToken(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Operator gRPC calls without a credential act as an anonymous admin (Server:Operators:RequireCredentials=false, or unset on loopback): set it true unless only trusted hosts reach the gRPC port")]
    private static partial void LogOpen(ILogger logger);
}
