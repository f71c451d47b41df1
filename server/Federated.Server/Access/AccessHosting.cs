using System.Net;
using Federated.Core.Configuration;
using Federated.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Federated.Server.Access;

/// <summary>Registers client admission (join tokens, credentials, rate limits) and says at start what is left open.</summary>
public static partial class AccessHosting
{
    public static void Add(WebApplicationBuilder builder, ServerOptions server)
    {
        var enrolment = builder.Configuration.GetSection(EnrolmentOptions.Section).Get<EnrolmentOptions>() ?? new EnrolmentOptions();
        AnnotatedOptionsValidator<EnrolmentOptions>.ThrowIfInvalid(enrolment, EnrolmentOptions.Section);
        builder.Services.AddOptions<EnrolmentOptions>().BindConfiguration(EnrolmentOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EnrolmentOptions>>(new AnnotatedOptionsValidator<EnrolmentOptions>(EnrolmentOptions.Section));
        builder.Services.AddSingleton<ClientAuthentication>();
        builder.Services.AddSingleton<Enrolment>();
        builder.Services.AddSingleton<JoinTokenIssuer>();
        builder.Services.AddHostedService(services => new StartWarnings(server, enrolment, services.GetRequiredService<ILogger<StartWarnings>>()));
    }

    /// <summary>Logs, once at start, each setting that lets callers in more loosely than join tokens and credentials do.</summary>
    private sealed partial class StartWarnings(ServerOptions server, EnrolmentOptions enrolment, ILogger<StartWarnings> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (!string.IsNullOrEmpty(server.ClientToken))
                LogSharedToken(logger);
            if (enrolment.Open && !IPAddress.IsLoopback(IPAddress.Parse(server.ListenAddress)))
                LogOpenEnrolment(logger, server.ListenAddress);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Warning, Message = "Server:ClientToken is set: a migration switch. Any holder of that one token is taken for whichever client its messages name. Enrol daemons with join tokens (federated tokens create) so each gets its own credential, then remove the setting")]
        private static partial void LogSharedToken(ILogger logger);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Server:Enrolment:Open is true while listening on {Address}: anyone who reaches this server can enrol a client without a join token")]
        private static partial void LogOpenEnrolment(ILogger logger, string address);
    }
}
