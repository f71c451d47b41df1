using Federated.Protos.V1;
using Federated.Server.Tests.Access;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.Commands;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;

namespace Federated.Server.Tests.Cli;

/// <summary>`federated tokens create|list|revoke` against a running coordinator.</summary>
public class TokenCommandTests
{
    private static async Task<(int Code, string Out, string Error)> Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await FederatedCli.Create().Parse(args).InvokeAsync(new() { Output = stdout, Error = stderr });
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task A_token_made_on_the_command_line_enrols_a_machine_is_listed_with_it_and_once_revoked_enrols_no_more()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None, settings: new Dictionary<string, string?> { ["Server:Enrolment:Open"] = "false" });
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);

        var created = await Run("tokens", "create", "--server", server.GrpcAddress, "--uses", "3", "--expires", "2h", "--label", "lab bench");
        Assert.Equal(0, created.Code);
        var token = created.Out.Trim();
        Assert.StartsWith("fjt1.", token);
        Assert.Contains("3 enrolment(s)", created.Error);
        await AsClient.EnrolNew(channel, "bench-1", token);

        var listed = await Run("tokens", "list", "--server", server.GrpcAddress);
        Assert.Equal(0, listed.Code);
        Assert.Contains("lab bench", listed.Out);
        Assert.Contains("1/3", listed.Out);
        Assert.Contains("bench-1", listed.Out);

        var id = token.Split('.')[1];
        var revoked = await Run("tokens", "revoke", id, "--server", server.GrpcAddress);
        Assert.Equal(0, revoked.Code);
        Assert.Contains($"Join token {id} revoked", revoked.Out);
        Assert.Contains("revoked", (await Updates.Refused(() => AsClient.EnrolNew(channel, "bench-2", token))).Detail);

        var unknown = await Run("tokens", "revoke", "nope", "--server", server.GrpcAddress);
        Assert.Equal(1, unknown.Code);
        Assert.Contains("NotFound: there is no join token 'nope'", unknown.Error);
        var badLifetime = await Run("tokens", "create", "--server", server.GrpcAddress, "--expires", "soon");
        Assert.NotEqual(0, badLifetime.Code);
        Assert.Contains("--expires: 'soon' is not a lifetime", badLifetime.Error);
    }
}
