using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Federated.Contracts;
using Federated.Contracts.Clients;
using Federated.Protos;
using Federated.Server.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace Federated.Server.Access;

/// <summary>
/// Establishes who calls the Coordinator service before any handler runs, and holds each caller to its share of calls.
/// A call carries "authorization: Bearer &lt;credential&gt;" (fcc1.&lt;client&gt;.&lt;secret&gt;), checked against that client's grain
/// (one activation in the cluster, so a removal revokes it on every silo at once); or the shared Server:ClientToken of
/// the migration switch; or nothing, which only a first Enrol may do (with a join token). The caller is left in the
/// call's <see cref="ClientCaller"/>; handlers then refuse any message naming another client.
/// </summary>
public sealed class ClientAuthentication : Interceptor, IDisposable
{
    public const string ServicePrefix = "/federated.v1.Coordinator/";
    private const string EnrolMethod = ServicePrefix + "Enrol";

    /// <summary>The trailer a refusal for rate carries: how long to wait, in milliseconds.</summary>
    public const string RetryAfterTrailer = "retry-after-ms";

    private readonly IGrainFactory _grains;
    private readonly byte[]? _sharedToken;
    private readonly Dictionary<string, (string Name, int PerMinute, PartitionedRateLimiter<string>? Limiter)> _limits;

    public ClientAuthentication(IGrainFactory grains, IOptions<ServerOptions> server, IOptions<EnrolmentOptions> enrolment)
    {
        _grains = grains;
        _sharedToken = string.IsNullOrEmpty(server.Value.ClientToken) ? null : Encoding.UTF8.GetBytes(server.Value.ClientToken);
        var e = enrolment.Value;
        var upload = ("upload", e.UploadPerMinute, Limiter(e.UploadPerMinute));
        _limits = new(StringComparer.Ordinal)
        {
            [EnrolMethod] = ("enrol", e.EnrolPerMinute, Limiter(e.EnrolPerMinute)),
            [ServicePrefix + "PollTask"] = ("poll", e.PollPerMinute, Limiter(e.PollPerMinute)),
            [ServicePrefix + "Heartbeat"] = ("heartbeat", e.HeartbeatPerMinute, Limiter(e.HeartbeatPerMinute)),
            [ServicePrefix + "UploadUpdate"] = upload,
            [ServicePrefix + "GetUploadOffset"] = upload, // one budget: asking where to resume is part of an upload
        };
    }

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await Admit(context, request);
        return await continuation(request, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await Admit(context, message: null);
        return await continuation(requestStream, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await Admit(context, request);
        await continuation(request, responseStream, context);
    }

    private async Task Admit(ServerCallContext context, object? message)
    {
        if (!context.Method.StartsWith(ServicePrefix, StringComparison.Ordinal))
            return;
        var caller = await Identify(context);
        caller.AttachTo(context);
        Limit(context, Partition(caller, message, context));
    }

    /// <summary>
    /// Whose budget a call spends: its client's; for a shared-token caller the client its message names (each such
    /// daemon its own, as before credentials; an upload's header comes later, so its address); else its address.
    /// </summary>
    private static string Partition(ClientCaller caller, object? message, ServerCallContext context)
    {
        if (caller.ClientId is { } id)
            return "client:" + id;
        if (caller.Legacy && ClientIdOf.Message(message) is { Length: > 0 } claimed && Identifiers.IsValid(claimed))
            return "client:" + claimed;
        return "address:" + Address(context.Peer);
    }

    private async Task<ClientCaller> Identify(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue("authorization") ?? "";
        var presented = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..].Trim() : "";
        if (PrefixedSecret.TryParse(presented, PrefixedSecret.ClientCredentialPrefix, out var credential))
        {
            if (!Identifiers.IsValid(credential.Id))
                throw Refused(StatusCode.Unauthenticated, "the credential's client id is not valid; present the credential exactly as Enrol returned it");
            var refusal = await _grains.GetGrain<IClientGrain>(credential.Id).Authenticate(credential.Hash());
            if (refusal is not null && refusal.EndsWith(ClientRefusal.RemovedText, StringComparison.Ordinal))
                throw new RpcException(
                    new Status(StatusCode.Unauthenticated, $"{refusal}, and its id may not enrol again; enrol the machine under a new client id, with a new join token"),
                    new Metadata { { ClientRefusal.Trailer, ClientRefusal.Removed } });
            if (refusal is not null)
                throw Refused(StatusCode.Unauthenticated, $"{refusal}; ask an operator for a new join token");
            return new ClientCaller(credential.Id, false);
        }
        if (_sharedToken is not null && presented.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _sharedToken))
            return ClientCaller.SharedToken;
        if (context.Method == EnrolMethod && presented.Length == 0)
            return ClientCaller.Anonymous; // a first enrolment: the handler asks for its join token
        throw Refused(StatusCode.Unauthenticated, presented.Length == 0
            ? "this call needs the client's credential (authorization: Bearer fcc1.…), which its first Enrol (with a join token) returned"
            : "the authorization presented is neither a client credential (fcc1.…) nor this server's shared client token");
    }

    private void Limit(ServerCallContext context, string partition)
    {
        if (!_limits.TryGetValue(context.Method, out var limit) || limit.Limiter is null)
            return;
        using var lease = limit.Limiter.AttemptAcquire(partition);
        if (lease.IsAcquired)
            return;
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1.0 / limit.PerMinute);
        var milliseconds = Math.Max(1, (long)Math.Ceiling(wait.TotalMilliseconds));
        throw new RpcException(
            new Status(StatusCode.ResourceExhausted, $"too many {limit.Name} calls from {partition.Replace(':', ' ')}: at most {limit.PerMinute} a minute (Server:Enrolment:{char.ToUpperInvariant(limit.Name[0])}{limit.Name[1..]}PerMinute); retry in {wait.TotalSeconds:0.###} s"),
            new Metadata { { RetryAfterTrailer, milliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
    }

    /// <summary>
    /// A token bucket per caller holding a minute's calls, refilled evenly over the minute. ASP.NET Core's rate-limiting
    /// middleware answers before gRPC does (HTTP 429, which gRPC clients read as UNAVAILABLE) and before the caller is
    /// known, so its limiters are used here, after authentication: a forged id cannot spend another client's budget.
    /// </summary>
    private static PartitionedRateLimiter<string>? Limiter(int perMinute)
        => perMinute <= 0 ? null : PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = Math.Max(1, perMinute / 60),
            ReplenishmentPeriod = TimeSpan.FromMinutes((double)Math.Max(1, perMinute / 60) / perMinute),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>"ipv4:1.2.3.4:5678" → "1.2.3.4" (the port changes with every connection).</summary>
    private static string Address(string peer)
    {
        var colon = peer.LastIndexOf(':');
        var start = peer.IndexOf(':');
        return colon > start && start >= 0 ? peer[(start + 1)..colon] : peer;
    }

    private static RpcException Refused(StatusCode code, string message) => new(new Status(code, message));

    public void Dispose()
    {
        foreach (var limiter in _limits.Values.Select(l => l.Limiter).Distinct())
            limiter?.Dispose();
    }
}
