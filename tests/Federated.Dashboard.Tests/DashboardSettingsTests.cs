using Federated.Contracts.Access;
using Federated.Server.Access;
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
        var credentials = new ConfiguredAccounts(new DashboardOptions { Password = "p1", Users = { ["alice"] = "p2", ["bob"] = "" }, Roles = { ["alice"] = "viewer" } }, generatedPassword: null);
        Assert.Equal(OperatorRole.Admin, credentials.Check("operator", "p1"));
        Assert.Equal(OperatorRole.Admin, credentials.Check(null, "p1"));
        Assert.Equal(OperatorRole.Viewer, credentials.Check("alice", "p2"));
        Assert.Null(credentials.Check("alice", "p1"));
        Assert.Null(credentials.Check("bob", ""));
        Assert.Null(credentials.Check("mallory", "p1"));
        Assert.Null(credentials.Check("operator", null));
    }

    [Theory]
    [InlineData("Server:Dashboard:Roles:alice", "superuser", "'superuser' is not a role")]
    [InlineData("Server:Dashboard:Roles:carol", "viewer", "there is no such account")]
    public void A_bad_role_setting_stops_the_server_naming_the_field(string key, string value, string message)
    {
        var error = Assert.Throws<OptionsValidationException>(() => FederatedServerHost.Build([], new Dictionary<string, string?>
        {
            ["Server:Dashboard:Enabled"] = "true",
            ["Server:Dashboard:Users:alice"] = "pw",
            [key] = value,
        }, Serilog.Core.Logger.None));
        Assert.Contains(message, error.Message);
        Assert.Contains(key, error.Message);
    }
}
