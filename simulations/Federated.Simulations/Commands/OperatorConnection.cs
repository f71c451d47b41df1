using System.CommandLine;
using Federated.Protos;
using Grpc.Core;
using Grpc.Net.Client;
using Spectre.Console;

namespace Federated.Simulations.Commands;

/// <summary>
/// `--server` and `--token` of every command that talks to a running coordinator, and how such a command's call is
/// made: refusals and unreachable servers become one readable line on stderr (stdout stays the command's output,
/// e.g. clean JSON) and exit code 1.
/// </summary>
public static class OperatorConnection
{
    public static readonly Option<string> Server = ServerOption();

    public static readonly Option<string?> Token = new("--token")
    {
        Description = "Operator credential: an account's key (fop1.NAME.…, from `federated users add`), NAME:PASSWORD of a configured account, or the legacy operator token (default: $FEDERATED_OPERATOR_TOKEN)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FEDERATED_OPERATOR_TOKEN"),
    };

    public static readonly Option<string?> CaFingerprint = TrustOption("--ca-fingerprint", "FEDERATED_CA_FINGERPRINT",
        "For an https --server: the SHA-256 fingerprint of the coordinator's CA, as it logs it at start (default: $FEDERATED_CA_FINGERPRINT)", ServerTrust.FingerprintProblem);

    public static readonly Option<string?> CaFile = TrustOption("--ca-file", "FEDERATED_CA_FILE",
        "For an https --server: a PEM file with the CA to trust, e.g. the coordinator's data/tls/ca.pem (default: $FEDERATED_CA_FILE)", ServerTrust.FileProblem);

    private static Option<string?> TrustOption(string name, string variable, string description, Func<string?, string?> problem)
    {
        var option = new Option<string?>(name) { Description = description, DefaultValueFactory = _ => Environment.GetEnvironmentVariable(variable) };
        option.Validators.Add(result =>
        {
            if (problem(result.GetValueOrDefault<string?>()) is { } error)
                result.AddError($"{name}: {error}");
        });
        return option;
    }

    /// <summary>`--server`: one address, or a cluster's silos separated by commas, checked when the command line is parsed.</summary>
    private static Option<string> ServerOption()
    {
        var option = new Option<string>("--server")
        {
            Description = "The coordinator's gRPC address, or several silos' separated by commas (the first that answers is used, the next when it goes away)",
            DefaultValueFactory = _ => "http://localhost:50051",
        };
        option.Validators.Add(result =>
        {
            if (!CoordinatorAddresses.TryParse(result.GetValueOrDefault<string>(), out _, out var error))
                result.AddError($"--server: {error}");
        });
        return option;
    }

    /// <summary>Adds --server, --token, --ca-fingerprint and --ca-file to every subcommand of <paramref name="group"/>.</summary>
    public static Command WithConnection(this Command group)
    {
        foreach (var command in group.Subcommands)
        {
            command.Options.Add(Server);
            command.Options.Add(Token);
            command.Options.Add(CaFingerprint);
            command.Options.Add(CaFile);
        }
        return group;
    }

    public static async Task<int> Call(ParseResult parse, Func<GrpcChannel, Task> action)
    {
        var address = parse.GetValue(Server)!;
        var errors = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Error) });
        try
        {
            if (!string.IsNullOrWhiteSpace(parse.GetValue(CaFingerprint)) && !string.IsNullOrWhiteSpace(parse.GetValue(CaFile)))
                throw new FormatException("--ca-fingerprint and --ca-file are both given (or set through FEDERATED_CA_FINGERPRINT and FEDERATED_CA_FILE): give one");
            using var channel = GrpcChannels.Create(address, parse.GetValue(Token), trust: ServerTrust.From(parse.GetValue(CaFingerprint), parse.GetValue(CaFile)));
            await action(channel);
            return 0;
        }
        catch (RpcException e) when (ServerTrustException.Find(e) is { } untrusted)
        {
            // Plain text, unwrapped: the fingerprints in it are to be compared and copied whole.
            await parse.InvocationConfiguration.Error.WriteLineAsync($"Not connecting: {untrusted.Message}");
            return 1;
        }
        catch (RpcException e)
        {
            errors.MarkupLine($"[red]{Markup.Escape(e.StatusCode.ToString())}: {Markup.Escape(e.Status.Detail)}[/] (server {Markup.Escape(address)})");
            return 1;
        }
        catch (FormatException e)
        {
            errors.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return 2;
        }
    }
}
