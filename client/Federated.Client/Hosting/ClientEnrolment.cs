using Federated.Core.Runtime;
using Federated.Protos;
using Federated.Protos.V1;
using Grpc.Core;

namespace Federated.Client.Hosting;

/// <summary>What a client says about itself when it enrols; the daemon and the `enrol` command send the same.</summary>
public static class ClientEnrolment
{
    /// <summary>Measures the chosen device (a short matrix-multiply benchmark) for the scheduler.</summary>
    public static DeviceProfile Probe(ComputeDevice choice)
    {
        var device = ComputeDevices.Resolve(choice);
        var report = DeviceProbe.Measure(device, TimeSpan.FromMilliseconds(300));
        return new DeviceProfile
        {
            Kind = report.Kind == "cuda" ? DeviceKind.Cuda : DeviceKind.Cpu,
            CpuCores = report.CpuCores,
            MemoryBytes = report.MemoryBytes,
            AcceleratorName = report.AcceleratorName,
            MeasuredGflops = report.MeasuredGflops,
        };
    }

    /// <param name="joinToken">The operator's join token on a first enrolment; empty once the client holds its credential.</param>
    public static EnrolRequest Request(string clientId, DeviceProfile profile, IReadOnlyDictionary<string, string> labels, string joinToken)
    {
        var request = new EnrolRequest
        {
            ClientId = clientId,
            Device = profile,
            ClientVersion = typeof(ClientEnrolment).Assembly.GetName().Version?.ToString() ?? "",
            JoinToken = joinToken,
        };
        foreach (var (key, value) in labels)
            request.Labels[key] = value;
        return request;
    }

    /// <summary>What to tell a person when the coordinator refused this client.</summary>
    public static string RefusalAdvice(RpcException e, bool hadCredential, string serverAddress)
    {
        var what = hadCredential ? "this client's credential" : "this client's enrolment";
        var next = ClientRefusal.IsRemoval(e)
            ? $"ask an operator for a new join token and run `Federated.Client enrol --server {serverAddress} --join-token TOKEN --client-id NEW-ID` (a removed id cannot enrol again)"
            : $"ask an operator for a new join token and run `Federated.Client enrol --server {serverAddress} --join-token TOKEN`";
        return $"the coordinator refused {what} ({e.StatusCode}): {e.Status.Detail}; {next}{(hadCredential ? "" : " (or set Client:JoinToken)")}";
    }
}
