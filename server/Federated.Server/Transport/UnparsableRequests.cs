using Microsoft.AspNetCore.Http.Features;

namespace Federated.Server.Transport;

/// <summary>
/// A unary gRPC request is parsed before any interceptor runs, so a body that is not valid protobuf escapes
/// <see cref="ErrorInterceptor"/>: Grpc.AspNetCore answers UNKNOWN and logs an error with a stack trace. Every
/// exception inside a handler is turned into a defined status by the interceptor, so UNKNOWN can only come from
/// outside it, that is from reading the request: this middleware rewrites it to INVALID_ARGUMENT with a clear
/// message and logs it once at warning (the framework's own error line is filtered out in
/// <see cref="Hosting.FederatedServerHost.ConfigureLogging"/>). Messages of a stream are read inside the handler,
/// where the interceptor maps the parser's exception itself.
/// </summary>
public static partial class UnparsableRequests
{
    private const string StatusHeader = "grpc-status";
    private const string MessageHeader = "grpc-message";
    private static readonly string Unknown = ((int)Grpc.Core.StatusCode.Unknown).ToString(System.Globalization.CultureInfo.InvariantCulture);
    private static readonly string InvalidArgument = ((int)Grpc.Core.StatusCode.InvalidArgument).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static void Use(WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(UnparsableRequests).FullName!);
        app.Use(async (context, next) =>
        {
            await next(context);
            if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) != true)
                return;
            // Trailers-only (nothing was written: the usual case) carries the status in the headers, else in the trailers.
            var where = !context.Response.HasStarted ? context.Response.Headers : context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
            if (where is null || where[StatusHeader] != Unknown)
                return;
            var message = $"the request to {context.Request.Path} could not be read: it is not valid protobuf for that method";
            where[StatusHeader] = InvalidArgument;
            where[MessageHeader] = Uri.EscapeDataString(message); // grpc-message is percent-encoded
            LogRefused(logger, context.Request.Path.Value ?? "", message);
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} refused (InvalidArgument): {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, string reason);
}
