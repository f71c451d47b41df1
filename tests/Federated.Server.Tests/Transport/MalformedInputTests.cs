using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Federated.Core.Adapters;
using Federated.Core.Tensors;
using Federated.Protos.V1;
using Federated.Server.Hosting;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federated.Server.Tests.Transport;

/// <summary>Input that does not parse is refused as INVALID_ARGUMENT with a clear message, never INTERNAL or UNKNOWN.</summary>
public sealed class MalformedInputTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(fixture.Server.GrpcAddress);

    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);

    /// <summary>Field 1 declared 16 bytes long with one present; field 1 with wire type 7, which does not exist.</summary>
    public static TheoryData<byte[]> NotProtobuf => new() { new byte[] { 0x0A, 0x10, 0x41 }, new byte[] { 0x0F, 0x01 } };

    [Theory]
    [MemberData(nameof(NotProtobuf))]
    public async Task A_unary_request_that_is_not_protobuf_is_invalid_argument(byte[] body)
    {
        var method = new Method<byte[], byte[]>(MethodType.Unary, "federated.v1.Coordinator", "Enrol", Raw, Raw);
        var error = await Assert.ThrowsAsync<RpcException>(() => Invoker().AsyncUnaryCall(method, null, default, body).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("the request to /federated.v1.Coordinator/Enrol could not be read: it is not valid protobuf for that method", error.Status.Detail);
    }

    [Theory]
    [MemberData(nameof(NotProtobuf))]
    public async Task A_streamed_message_that_is_not_protobuf_is_invalid_argument(byte[] body)
    {
        var method = new Method<byte[], byte[]>(MethodType.ClientStreaming, "federated.v1.Coordinator", "UploadUpdate", Raw, Raw);
        await fixture.Coordinator.EnrolAsync(new EnrolRequest { ClientId = "raw-sender" }); // the stream is read only for a known client
        var credential = new Metadata { { "authorization", "Bearer " + TestClients.CredentialOf("raw-sender") } };
        using var call = Invoker().AsyncClientStreamingCall(method, null, new CallOptions(credential));
        await call.RequestStream.WriteAsync(body);
        await call.RequestStream.CompleteAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("not valid protobuf", error.Status.Detail);
    }

    [Theory]
    [InlineData("[4294967296, 4294967296]", "[0, 4]", "element count overflows")]
    [InlineData("[2305843009213693952]", "[0, 4]", "size in bytes overflows")]
    [InlineData("[2305843009213693951]", "[0, 9223372036854775804]", "past what a payload's size can count")]
    public void A_safetensors_header_whose_sizes_overflow_is_a_format_error(string shape, string offsets, string message)
    {
        var json = Encoding.UTF8.GetBytes("{\"t\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}");
        var error = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsHeader.Parse(json));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task An_upload_whose_header_overflows_is_refused_as_invalid_argument()
    {
        var spec = new JobSpec { JobId = "overflowing", BaseModel = "builtin:tiny", Rounds = 1, LocalSteps = 1, Scheduler = new SchedulerSpec { Policy = "fedasync" } };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        await fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
        try
        {
            var task = await fixture.Coordinator.EnrolAndTakeTask("overflower");
            var json = Encoding.UTF8.GetBytes("""{"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}""");
            var payload = new byte[AdapterSerializer.ToBytes(Updates.For(task)).Length]; // the size a real update has: the header is what is wrong
            BinaryPrimitives.WriteUInt64LittleEndian(payload, (ulong)json.Length);
            json.CopyTo(payload, 8);
            var status = await Updates.Refused(() => Updates.Upload(fixture.Coordinator, Updates.Header(task, "overflower", payload.Length), payload));
            Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
            Assert.Contains("element count overflows", status.Detail);
        }
        finally
        {
            await fixture.StopRunningJobsAsync();
        }
    }

    [Theory]
    [InlineData("Server:SiloPort")]
    [InlineData("Server:GrpcPort")]
    public async Task A_port_already_in_use_stops_the_server_at_start_naming_the_setting_and_port(string setting)
    {
        using var folder = new TemporaryDirectory();
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var taken = ((IPEndPoint)holder.LocalEndpoint).Port;
        int Port(string name) => name == setting ? taken : FreePorts.Next();
        var error = await Assert.ThrowsAsync<PortInUseException>(() => LocalServer.StartAsync(
            folder["server"], Serilog.Core.Logger.None, Port("Server:GrpcPort"), Port("Server:HttpPort"), Port("Server:SiloPort")));
        Assert.Equal($"{setting}: port {taken} on 127.0.0.1 is already in use (address already in use); stop what holds it or choose another port", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    private CallInvoker Invoker() => _channel.CreateCallInvoker();

    public void Dispose() => _channel.Dispose();
}
