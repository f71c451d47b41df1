using Federated.Client.Hosting;
using Federated.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Configuration;

/// <summary>Broken settings and data stop a program at start with the field, file or line named.</summary>
public class ConfigurationErrorTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("Server:GrpcPort", "70000", "Server:GrpcPort")]
    [InlineData("Server:ListenAddress", "everywhere", "Server:ListenAddress: 'everywhere' is not an IP address")]
    [InlineData("Server:MaxChunkBytes", "10", "Server:MaxChunkBytes")]
    [InlineData("Server:MaxSamplesPerUpdate", "0", "Server:MaxSamplesPerUpdate")]
    [InlineData("Server:DataRoots:0", "/dev", "Server:DataRoots: '/dev' is a system folder")]
    [InlineData("Server:DataRoots:0", "/", "Server:DataRoots: '/' is a system folder")]
    [InlineData("Server:DataRoots:0", "/no/such/folder", "Server:DataRoots: '/no/such/folder' is not a folder")]
    public void A_bad_server_setting_stops_the_server_naming_the_field(string key, string value, string message)
    {
        var error = Assert.Throws<OptionsValidationException>(() => FederatedServerHost.Build([], new Dictionary<string, string?> { [key] = value }, Serilog.Core.Logger.None));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_malformed_server_settings_file_is_named()
    {
        using var folder = new TemporaryDirectory();
        File.WriteAllText(folder["appsettings.json"], """{ "Server": { "GrpcPort": 50051, } oops""");
        var error = Assert.ThrowsAny<Exception>(() => FederatedServerHost.Build(["--contentRoot", folder.Path], logger: Serilog.Core.Logger.None));
        Assert.Contains(folder["appsettings.json"], error.Message);
    }

    [Fact]
    public async Task A_bad_client_setting_stops_the_daemon_naming_the_field()
    {
        using var host = ClientDaemonHost.Build([], new Dictionary<string, string?>
        {
            ["Client:ServerAddress"] = "not a url",
            ["Client:PollWaitSeconds"] = "0",
        }, Serilog.Core.Logger.None, standalone: false);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Client:ServerAddress", error.Message);
        Assert.Contains("Client:PollWaitSeconds", error.Message);
    }

    [Fact]
    public void A_malformed_client_settings_file_is_named()
    {
        using var folder = new TemporaryDirectory();
        File.WriteAllText(folder[ClientDaemonHost.SettingsFile], """{ "Client": [ }""");
        var error = Assert.ThrowsAny<Exception>(() => ClientDaemonHost.Build(["--contentRoot", folder.Path]));
        Assert.Contains(ClientDaemonHost.SettingsFile, error.Message);
    }

    [Fact]
    public async Task A_client_with_malformed_data_stops_naming_the_file_and_line()
    {
        using var folder = new TemporaryDirectory();
        var data = folder["train.jsonl"];
        File.WriteAllLines(data, ["""{"prompt":"a","completion":"b"}""", """{"prompt":"a","answer":"b"}"""]);
        await using var logger = TestLogging.For(output);
        using var host = ClientDaemonHost.Build([], new Dictionary<string, string?>
        {
            ["Client:ServerAddress"] = "http://127.0.0.1:1",
            ["Client:DataPath"] = data,
            ["Client:WorkDirectory"] = folder["work"],
        }, logger, standalone: false);
        var stopped = new TaskCompletionSource();
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopped.TrySetResult());
        await host.StartAsync();
        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal($"{data} line 2: missing field \"completion\"", host.Services.GetRequiredService<DaemonHealth>().FatalError);
        await host.StopAsync();
    }
}
