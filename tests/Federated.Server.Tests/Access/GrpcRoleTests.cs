using Federated.Protos.V1;
using Federated.Server.Access;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federated.Server.Tests.Access;

/// <summary>Every operator-side gRPC method, called by each role: allowed exactly per the roles' definition.</summary>
public class GrpcRoleTests(AccessFixture fixture) : IClassFixture<AccessFixture>
{
    /// <summary>
    /// The roles' definition, written out here independently of <see cref="OperatorMethods"/>: what viewers and
    /// operators may call; admins may call everything.
    /// </summary>
    private static readonly HashSet<string> ViewerMethods = ["Operator/GetJob", "Operator/ListJobs", "Operator/WatchJob", "Operator/DownloadGlobalAdapter", "Operator/ListClients"];

    private static readonly HashSet<string> OperatorMethodsAllowed =
    [
        .. ViewerMethods, "Operator/CreateJob", "Operator/PauseJob", "Operator/ResumeJob", "Operator/StopJob",
        "Operator/PauseClient", "Operator/ResumeClient", "Operator/DrainClient", "Operator/RemoveClient",
    ];

    public static readonly IReadOnlyList<ServiceDescriptor> Services = [Operator.Descriptor, Admin.Descriptor, Accounts.Descriptor];

    /// <summary>
    /// The services the server maps: the Admin service once its class exists (a gRPC method of an unmapped service
    /// is answered Unimplemented before any interceptor runs, so its roles cannot be seen from outside).
    /// </summary>
    public static readonly IReadOnlyList<ServiceDescriptor> Called =
        Type.GetType("Federated.Server.Access.AdminService, Federated.Server") is null ? [Operator.Descriptor, Accounts.Descriptor] : Services;

    public static TheoryData<string, string> RolesAndMethods()
    {
        var data = new TheoryData<string, string>();
        foreach (var role in new[] { "viewer", "operator", "admin", "legacy" })
        {
            foreach (var service in Called)
            {
                foreach (var method in service.Methods)
                    data.Add(role, $"{service.Name}/{method.Name}");
            }
        }
        return data;
    }

    [Fact]
    public void Every_method_of_the_operator_side_services_is_in_the_role_table()
    {
        var methods = Services.SelectMany(s => s.Methods.Select(m => $"/{s.FullName}/{m.Name}")).ToHashSet();
        Assert.Empty(methods.Except(OperatorMethods.Rules.Keys));
        Assert.Empty(OperatorMethods.Rules.Keys.Except(methods)); // no entry for a method that does not exist
        Assert.Equal(Services.Select(s => s.FullName).Order(), OperatorMethods.Services.Order());
        Assert.All(methods, m => Assert.True(OperatorMethods.Covers(m), m));
        Assert.False(OperatorMethods.Covers("/federated.v1.Coordinator/Enrol"));
        Assert.False(OperatorMethods.Covers("/federated.v1.OperatorX/GetJob"));
    }

    [Theory]
    [MemberData(nameof(RolesAndMethods))]
    public async Task Each_role_may_call_exactly_its_methods(string role, string method)
    {
        var credential = role == "legacy" ? AccessFixture.LegacyToken : AccessFixture.CredentialOf(role);
        var allowed = role is "admin" or "legacy" || (role == "operator" ? OperatorMethodsAllowed : ViewerMethods).Contains(method);
        var status = await CallAsync(fixture.Channel(credential), method);
        if (allowed)
            Assert.True(status.StatusCode is not (StatusCode.PermissionDenied or StatusCode.Unauthenticated), $"{role} {method}: {status}");
        else
        {
            Assert.Equal(StatusCode.PermissionDenied, status.StatusCode);
            var needed = OperatorMethodsAllowed.Contains(method) ? "operator" : "admin";
            Assert.Contains($"needs role {needed}", status.Detail);
        }
    }

    [Theory]
    [InlineData(null, "missing")]
    [InlineData("vera:wrong", "wrong")]
    [InlineData("fop1.nobody.AAAA", "wrong")]
    [InlineData("not-the-token", "wrong")]
    public async Task A_call_without_a_valid_credential_is_unauthenticated(string? credential, string why)
    {
        foreach (var service in Called)
        {
            var status = await CallAsync(fixture.Channel(credential), $"{service.Name}/{service.Methods[0].Name}");
            Assert.Equal(StatusCode.Unauthenticated, status.StatusCode);
            Assert.Contains($"they were {why}", status.Detail);
        }
    }

    /// <summary>Calls "Service/Method" with an empty request (every field at its default), returning the call's status.</summary>
    public static async Task<Status> CallAsync(GrpcChannel channel, string method)
    {
        var (serviceName, methodName) = (method[..method.IndexOf('/')], method[(method.IndexOf('/') + 1)..]);
        var service = Services.Single(s => s.Name == serviceName);
        var descriptor = service.FindMethodByName(methodName);
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var type = descriptor.IsServerStreaming ? MethodType.ServerStreaming : MethodType.Unary;
        var call = new Method<byte[], byte[]>(type, service.FullName, methodName, bytes, bytes);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            if (descriptor.IsServerStreaming)
            {
                using var stream = channel.CreateCallInvoker().AsyncServerStreamingCall(call, null, new CallOptions(cancellationToken: timeout.Token), []);
                while (await stream.ResponseStream.MoveNext(timeout.Token))
                {
                }
            }
            else
                await channel.CreateCallInvoker().AsyncUnaryCall(call, null, new CallOptions(cancellationToken: timeout.Token), []);
            return Status.DefaultSuccess;
        }
        catch (RpcException e)
        {
            return e.Status;
        }
    }
}
