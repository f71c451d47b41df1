using System.Text.Json;
using Federated.Server.Tests.Access;
using Federated.Simulations.Commands;

namespace Federated.Server.Tests.Cli;

/// <summary>`federated users …`, `client …`, `job pause …` and `audit export` against a server that requires credentials.</summary>
public class OperatorAccessCommandTests(AccessFixture fixture) : IClassFixture<AccessFixture>
{
    private async Task<(int Code, string Stdout, string Stderr)> Cli(string token, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await FederatedCli.Create().Parse([.. args, "--server", fixture.Server.GrpcAddress, "--ca-file", fixture.Server.CaFile, "--token", token]).InvokeAsync(new() { Output = stdout, Error = stderr });
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task An_admin_adds_an_account_whose_key_then_acts_with_its_role_and_the_export_is_json_lines()
    {
        var admin = AccessFixture.CredentialOf("admin");
        var added = await Cli(admin, "users", "add", "carl", "--role", "operator");
        Assert.Equal(0, added.Code);
        var key = added.Stdout.Trim();
        Assert.StartsWith("fop1.carl.", key);
        Assert.Contains("shown this once", added.Stderr);

        Assert.Equal(0, (await Cli(key, "client", "list")).Code);
        var pause = await Cli(key, "job", "pause", "no-such-job");
        Assert.Equal(1, pause.Code);
        Assert.Contains("NotFound", pause.Stderr);
        var refused = await Cli(key, "users", "add", "mallory", "--role", "admin");
        Assert.Equal(1, refused.Code);
        Assert.Contains("PermissionDenied", refused.Stderr);
        Assert.Contains("needs role admin; carl has role operator", refused.Stderr);
        Assert.Equal(1, (await Cli("carl:guess", "job", "list")).Code);

        var export = await Cli(admin, "audit", "export");
        Assert.Equal(0, export.Code);
        var entries = export.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(entries, e => e.GetProperty("who").GetString() == "ada" && e.GetProperty("action").GetString() == "AddUser" && e.GetProperty("target").GetString() == "name=carl" && e.GetProperty("through").GetString() == "grpc");
        Assert.Contains(entries, e => e.GetProperty("who").GetString() == "carl" && e.GetProperty("action").GetString() == "PauseJob" && e.GetProperty("outcome").GetString() == "refused");
        Assert.Contains(entries, e => e.GetProperty("who").GetString() == "carl" && e.GetProperty("action").GetString() == "AddUser" && e.GetProperty("detail").GetString()!.Contains("needs role admin", StringComparison.Ordinal));

        var future = await Cli(admin, "audit", "export", "--since", "2100-01-01T00:00:00Z");
        Assert.Equal(0, future.Code);
        Assert.Empty(future.Stdout);
        Assert.NotEqual(0, (await Cli(admin, "audit", "export", "--since", "yesterday")).Code);
        Assert.Equal(0, (await Cli(admin, "users", "remove", "carl")).Code);
        Assert.Equal(1, (await Cli(key, "client", "list")).Code);
    }
}
