using Federated.Server.Dashboard;
using Federated.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Federated.Dashboard.Tests;

/// <summary>The dashboard's settings: no sign-in without a credential, and the credential check itself.</summary>
public class DashboardSettingsTests
{
    [Fact]
    public void An_enabled_dashboard_without_a_credential_stops_the_server_saying_what_to_set()
    {
        var error = Assert.Throws<OptionsValidationException>(() => FederatedServerHost.Build([], new Dictionary<string, string?>
        {
            ["Server:Dashboard:Enabled"] = "true",
        }, Serilog.Core.Logger.None));
        Assert.Contains("the dashboard is enabled but has no credential", error.Message);
        Assert.Contains("Server:Dashboard:Password", error.Message);
        Assert.Contains("Server:Dashboard:GeneratePassword", error.Message);
    }

    [Fact]
    public async Task A_disabled_dashboard_or_a_generated_password_needs_no_credential()
    {
        await using var disabled = FederatedServerHost.Build([], new Dictionary<string, string?>(), Serilog.Core.Logger.None);
        await using var generated = FederatedServerHost.Build([], new Dictionary<string, string?>
        {
            ["Server:Dashboard:Enabled"] = "true",
            ["Server:Dashboard:GeneratePassword"] = "true",
        }, Serilog.Core.Logger.None);
    }

    [Fact]
    public void Credentials_match_only_the_configured_user_and_password()
    {
        var credentials = new OperatorCredentials(new DashboardOptions { Password = "p1", Users = { ["alice"] = "p2", ["bob"] = "" } }, generatedPassword: null);
        Assert.True(credentials.Check("operator", "p1"));
        Assert.True(credentials.Check(null, "p1"));
        Assert.True(credentials.Check("alice", "p2"));
        Assert.False(credentials.Check("alice", "p1"));
        Assert.False(credentials.Check("bob", ""));
        Assert.False(credentials.Check("mallory", "p1"));
        Assert.False(credentials.Check("operator", null));
    }
}
