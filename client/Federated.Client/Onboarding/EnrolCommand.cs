using System.CommandLine;
using Federated.Client.Hosting;
using Federated.Client.Transport;
using Federated.Core.Runtime;
using Federated.Protos;
using Federated.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federated.Client.Onboarding;

/// <summary>
/// `Federated.Client enrol`: an edge machine's one-time set-up. It probes the device as the daemon does, enrols once
/// with an operator's join token, keeps the credential the coordinator gives in the work directory (owner-only) and
/// writes the settings file the daemon (its systemd unit) starts from.
/// </summary>
public static class EnrolCommand
{
    public const string DefaultWorkDirectory = "/var/lib/federated-client";

    public static Command Create()
    {
        var server = new Option<string>("--server") { Description = "The coordinator's gRPC address (http(s)://host:port, or several separated by commas)", Required = true };
        var joinToken = new Option<string>("--join-token") { Description = "The operator's join token (fjt1.…): one enrolment, then this client's own credential", Required = true };
        var fingerprint = new Option<string?>("--ca-fingerprint") { Description = "For an https --server: the SHA-256 fingerprint of the coordinator's CA, as it logs it at start (stored as Client:ServerCaFingerprint)" };
        var caFile = new Option<string?>("--ca-file") { Description = "For an https --server: a PEM file with the CA to trust, e.g. a copy of the coordinator's data/tls/ca.pem (stored as Client:ServerCaFile)" };
        var clientId = new Option<string?>("--client-id") { Description = "This client's id (default: the one kept in the work directory, else one made from the host name)" };
        var config = new Option<string>("--config") { Description = "The settings file to write", DefaultValueFactory = _ => ClientSettingsFile.DefaultPath };
        var workDirectory = new Option<string>("--work-dir") { Description = "The daemon's state: credential, client id, adapters, pending uploads", DefaultValueFactory = _ => DefaultWorkDirectory };
        var data = new Option<string?>("--data") { Description = "The private training data: a JSONL file or a folder of them (default: <work-dir>/data)" };
        var command = new Command("enrol", "Enrol this machine with a coordinator using a join token, keep its credential and write the daemon's settings")
        {
            server, joinToken, fingerprint, caFile, clientId, config, workDirectory, data,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var work = parse.GetValue(workDirectory)!;
            var arguments = new EnrolArguments(
                parse.GetValue(server)!,
                parse.GetValue(joinToken)!,
                parse.GetValue(fingerprint),
                parse.GetValue(clientId),
                parse.GetValue(config)!,
                work,
                parse.GetValue(data) ?? Path.Combine(work, "data"))
            {
                CaFile = parse.GetValue(caFile),
            };
            return RunAsync(arguments, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken);
        });
        return command;
    }

    /// <returns>0 when enrolled and written; 1 when the coordinator refused or could not be reached; 2 for bad arguments.</returns>
    public static async Task<int> RunAsync(EnrolArguments arguments, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!CoordinatorAddresses.TryParse(arguments.Server, out _, out var addressError))
            return Usage(error, $"--server: {addressError}");
        if (!PrefixedSecret.TryParse(arguments.JoinToken, PrefixedSecret.JoinTokenPrefix, out _))
            return Usage(error, $"--join-token: not a join token ({PrefixedSecret.JoinTokenPrefix}.<id>.<secret>, as an operator's `federated tokens create` or the dashboard shows it once)");

        // The file and the daemon's options come from one dictionary, so what is written is what this enrolment used.
        var settings = new Dictionary<string, string>
        {
            [nameof(ClientOptions.ServerAddress)] = arguments.Server,
            [nameof(ClientOptions.WorkDirectory)] = Path.GetFullPath(arguments.WorkDirectory),
            [nameof(ClientOptions.DataPath)] = Path.GetFullPath(arguments.DataPath),
        };
        if (ServerTrust.FingerprintProblem(arguments.CaFingerprint) is { } fingerprintProblem)
            return Usage(error, $"--ca-fingerprint: {fingerprintProblem}");
        if (ServerTrust.FileProblem(arguments.CaFile) is { } fileProblem)
            return Usage(error, $"--ca-file: {fileProblem}");
        if (!string.IsNullOrWhiteSpace(arguments.CaFingerprint) && !string.IsNullOrWhiteSpace(arguments.CaFile))
            return Usage(error, "--ca-fingerprint and --ca-file are both given: give one");
        if (!string.IsNullOrWhiteSpace(arguments.CaFingerprint))
            settings[nameof(ClientOptions.ServerCaFingerprint)] = arguments.CaFingerprint.Trim();
        if (!string.IsNullOrWhiteSpace(arguments.CaFile))
            settings[nameof(ClientOptions.ServerCaFile)] = Path.GetFullPath(arguments.CaFile);
        var options = Bind(settings, arguments.ClientId);
        string id;
        try
        {
            id = ClientIdentity.Resolve(options);
        }
        catch (InvalidOperationException e)
        {
            return Usage(error, $"--client-id: {e.Message}");
        }
        options.ClientId = id;
        settings[nameof(ClientOptions.ClientId)] = id;

        output.WriteLine($"Measuring this machine (device: {options.Device.ToString().ToLowerInvariant()})…");
        var profile = await ComputeThread.Run(() => ClientEnrolment.Probe(options.Device), cancellationToken);
        // Not loaded: an enrolment with a join token presents that alone, whatever an earlier one left here.
        var credentials = new ClientCredentialStore(Options.Create(options));
        var replacing = File.Exists(credentials.Path);
        EnrolReply reply;
        using (var connection = new CoordinatorConnection(Options.Create(options), credentials))
        {
            try
            {
                reply = await connection.Client.EnrolAsync(ClientEnrolment.Request(id, profile, options.Labels, arguments.JoinToken), deadline: CallDeadline.After(TimeSpan.FromSeconds(30)), cancellationToken: cancellationToken);
            }
            catch (RpcException e) when (ServerTrustException.Find(e) is { } untrusted)
            {
                error.WriteLine($"enrol: {untrusted.Message}");
                return 1;
            }
            catch (RpcException e) when (TransientErrors.IsRefusalOfClient(e))
            {
                error.WriteLine($"enrol: the coordinator at {arguments.Server} refused this enrolment ({e.StatusCode}): {e.Status.Detail}");
                return 1;
            }
            catch (RpcException e)
            {
                error.WriteLine($"enrol: could not enrol with {arguments.Server} ({e.StatusCode}): {e.Status.Detail}");
                return 1;
            }
        }

        if (reply.Credential.Length > 0)
        {
            credentials.Save(reply.Credential, id);
            output.WriteLine($"Enrolled as {id} with {arguments.Server} ({profile.Kind.ToString().ToLowerInvariant()}, {profile.MeasuredGflops:F1} GFLOP/s).");
            output.WriteLine($"Credential {(replacing ? "replaced" : "kept")} in {credentials.Path} (owner-only; the coordinator keeps only its hash).");
        }
        else
        {
            output.WriteLine($"Enrolled as {id} with {arguments.Server}; it issued no credential (it does not use per-client credentials), so the daemon enrols as it does.");
        }
        ClientSettingsFile.Write(arguments.ConfigPath, settings);
        output.WriteLine($"Settings written to {Path.GetFullPath(arguments.ConfigPath)}.");
        if (!File.Exists(options.DataPath) && !Directory.Exists(options.DataPath))
            output.WriteLine($"Note: {options.DataPath} does not exist yet; put the training data (JSONL) there before the daemon starts.");
        output.WriteLine(Path.GetFullPath(arguments.ConfigPath) == ClientSettingsFile.DefaultPath
            ? "Next: sudo systemctl enable --now federated-client (install-systemd.sh installs the unit), then journalctl -u federated-client -f"
            : $"Next: start the daemon with Federated.Client --config {Path.GetFullPath(arguments.ConfigPath)}");
        return 0;
    }

    private static ClientOptions Bind(IReadOnlyDictionary<string, string> settings, string? clientId)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create<string, string?>($"{ClientOptions.Section}:{s.Key}", s.Value)))
            .Build();
        var options = configuration.GetSection(ClientOptions.Section).Get<ClientOptions>() ?? new ClientOptions();
        options.ClientId = clientId;
        return options;
    }

    private static int Usage(TextWriter error, string message)
    {
        error.WriteLine($"enrol: {message}");
        return 2;
    }
}

/// <param name="Server">The coordinator's address (one, or several separated by commas).</param>
/// <param name="JoinToken">The operator's join token.</param>
/// <param name="CaFingerprint">The coordinator CA's SHA-256 fingerprint, for a self-signed TLS server.</param>
/// <param name="ClientId">This client's id; null keeps the work directory's or makes one.</param>
/// <param name="ConfigPath">The settings file to write.</param>
/// <param name="WorkDirectory">The daemon's work directory.</param>
/// <param name="DataPath">The training data's path.</param>
public sealed record EnrolArguments(string Server, string JoinToken, string? CaFingerprint, string? ClientId, string ConfigPath, string WorkDirectory, string DataPath)
{
    /// <summary>A PEM file with the coordinator's CA, for an https server (instead of <see cref="CaFingerprint"/>).</summary>
    public string? CaFile { get; init; }
}
