using Federated.Client.Hosting;
using Federated.Core.Configuration;
using Federated.Protos;
using Federated.Simulations.Commands;
using Microsoft.Extensions.Options;

namespace Federated.Server.Tests.Transport;

/// <summary>The coordinator address list of the daemon (Client:ServerAddress) and the CLI (--server): parsed once, bad lists named at start.</summary>
public class CoordinatorAddressesTests
{
    [Fact]
    public void One_address_or_several_separated_by_commas_are_read_in_order()
    {
        var one = CoordinatorAddresses.Parse("http://coordinator:50051");
        Assert.Equal([new Uri("http://coordinator:50051")], one.Addresses);
        Assert.False(one.Secure);

        var several = CoordinatorAddresses.Parse(" https://a:50051 ,https://b:50052,https://10.0.0.3 ");
        Assert.Equal(["a:50051", "b:50052", "10.0.0.3:443"], several.Addresses.Select(a => $"{a.Host}:{a.Port}"));
        Assert.True(several.Secure);
        Assert.Equal("https://a:50051,https://b:50052,https://10.0.0.3", several.ToString());
    }

    [Theory]
    [InlineData("", "no coordinator address given")]
    [InlineData("  ", "no coordinator address given")]
    [InlineData("http://a:1,", "empty coordinator address (entry 2 of 'http://a:1,')")]
    [InlineData(",http://a:1", "empty coordinator address (entry 1 of ',http://a:1')")]
    [InlineData("http://a:1,,http://b:2", "empty coordinator address (entry 2 of 'http://a:1,,http://b:2')")]
    [InlineData("localhost:50051", "'localhost:50051' is not an http:// or https:// address")]
    [InlineData("http://a:1,coordinator", "'coordinator' (entry 2 of 'http://a:1,coordinator') is not an http:// or https:// address")]
    [InlineData("ftp://a:1", "'ftp://a:1' is not an http:// or https:// address")]
    [InlineData("http://a:1/grpc", "'http://a:1/grpc' has more than scheme://host:port")]
    [InlineData("http://a:1,https://b:2", "mix http and https ('http://a:1' and 'https://b:2')")]
    [InlineData("http://a:1,http://A:1/", "'http://A:1/' (entry 2 of 'http://a:1,http://A:1/') is listed twice")]
    public void A_bad_list_is_refused_naming_what_is_wrong(string text, string expected)
    {
        Assert.False(CoordinatorAddresses.TryParse(text, out _, out var error));
        Assert.Contains(expected, error);
        Assert.Contains(expected, Assert.Throws<FormatException>(() => CoordinatorAddresses.Parse(text)).Message);
    }

    [Fact]
    public async Task The_daemon_takes_a_list_and_refuses_a_mixed_one_at_start_naming_the_setting()
    {
        Assert.Empty(AnnotatedOptionsValidator<ClientOptions>.Errors(new ClientOptions { ServerAddress = "http://a:50051,http://b:50051" }, ClientOptions.Section));

        using var host = ClientDaemonHost.Build([], new Dictionary<string, string?>
        {
            ["Client:ServerAddress"] = "http://a:50051,https://b:50051",
        }, Serilog.Core.Logger.None, standalone: false);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Client:ServerAddress", error.Message);
        Assert.Contains("mix http and https", error.Message);
    }

    [Theory]
    [InlineData("http://a:1,,http://b:2", "empty coordinator address")]
    [InlineData("http://a:1,https://b:2", "mix http and https")]
    public async Task Every_job_command_checks_its_server_list_before_calling(string servers, string expected)
    {
        foreach (var command in new[] { "status x", "watch x", "list", "adapter x --out y", "create --rounds 1" })
        {
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            var code = await FederatedCli.Create().Parse([.. ("job " + command).Split(' '), "--server", servers]).InvokeAsync(new() { Output = stdout, Error = stderr });
            Assert.NotEqual(0, code);
            Assert.Contains("--server: ", stderr.ToString());
            Assert.Contains(expected, stderr.ToString());
        }
    }
}
