using System.Net;
using System.Text.Json;
using Federated.Protos.V1;
using Federated.Simulations.LocalRuns;
using Federated.Server.Tests.Infrastructure;
using Grpc.Core;

namespace Federated.Server.Tests.Access;

/// <summary>Accounts added at run time: their key works with their role until they are changed or removed, from the next request on.</summary>
public class AccountTests(AccessFixture fixture) : IClassFixture<AccessFixture>
{
    [Fact]
    public async Task An_added_account_holds_its_role_until_changed_and_is_refused_once_removed()
    {
        var admin = new Accounts.AccountsClient(fixture.Channel(AccessFixture.CredentialOf("admin")));
        var added = await admin.AddUserAsync(new AddUserRequest { Name = "bob", Role = "viewer" });
        Assert.StartsWith("fop1.bob.", added.Key);
        Assert.Equal(("bob", "viewer", "managed", "ada"), (added.Info.Name, added.Info.Role, added.Info.Source, added.Info.CreatedBy));
        var users = (await admin.ListUsersAsync(new ListUsersRequest())).Users;
        Assert.Contains(users, u => u is { Name: "vera", Role: "viewer", Source: "configured" });
        Assert.Contains(users, u => u is { Name: "bob", Role: "viewer", Source: "managed" });

        var bob = new Operator.OperatorClient(fixture.Channel(added.Key));
        await bob.ListJobsAsync(new ListJobsRequest());
        var refused = await Updates.Refused(() => bob.PauseJobAsync(new JobActionRequest { JobId = "no-such-job" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("needs role operator; bob has role viewer", refused.Detail);

        using var browser = fixture.Server.Browser();
        Assert.Equal(HttpStatusCode.OK, await browser.SignInAsync("bob", added.Key));
        Assert.Equal("viewer", (await browser.GetJsonAsync("/dashboard/api/session")).GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.SendAsync(HttpMethod.Post, "/dashboard/api/jobs/no-such-job/pause")).StatusCode);

        await admin.SetUserRoleAsync(new SetUserRoleRequest { Name = "bob", Role = "operator" });
        Assert.Equal(StatusCode.NotFound, (await Updates.Refused(() => bob.PauseJobAsync(new JobActionRequest { JobId = "no-such-job" }).ResponseAsync)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.SendAsync(HttpMethod.Post, "/dashboard/api/jobs/no-such-job/pause")).StatusCode);
        Assert.Equal("operator", (await browser.GetJsonAsync("/dashboard/api/session")).GetProperty("role").GetString());

        await admin.SetUserRoleAsync(new SetUserRoleRequest { Name = "bob", Role = "viewer" });
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.SendAsync(HttpMethod.Post, "/dashboard/api/jobs/no-such-job/pause")).StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, (await Updates.Refused(() => bob.PauseJobAsync(new JobActionRequest { JobId = "no-such-job" }).ResponseAsync)).StatusCode);

        await admin.RemoveUserAsync(new UserRequest { Name = "bob" });
        Assert.Equal(StatusCode.Unauthenticated, (await Updates.Refused(() => bob.ListJobsAsync(new ListJobsRequest()).ResponseAsync)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.SendAsync(HttpMethod.Get, "/dashboard/api/jobs/no-such-job/adapter")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await browser.SignInAsync("bob", added.Key));
    }

    [Fact]
    public async Task Account_changes_are_refused_with_the_field_at_fault()
    {
        var admin = new Accounts.AccountsClient(fixture.Channel(AccessFixture.CredentialOf("admin")));
        var configured = await Updates.Refused(() => admin.AddUserAsync(new AddUserRequest { Name = "vera", Role = "admin" }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, configured.StatusCode);
        Assert.Contains("configured in the settings", configured.Detail);
        Assert.Equal(StatusCode.FailedPrecondition, (await Updates.Refused(() => admin.SetUserRoleAsync(new SetUserRoleRequest { Name = "vera", Role = "admin" }).ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, (await Updates.Refused(() => admin.RemoveUserAsync(new UserRequest { Name = "ada" }).ResponseAsync)).StatusCode);
        var role = await Updates.Refused(() => admin.AddUserAsync(new AddUserRequest { Name = "dave", Role = "root" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, role.StatusCode);
        Assert.StartsWith("role: 'root' is not a role", role.Detail);
        var name = await Updates.Refused(() => admin.AddUserAsync(new AddUserRequest { Name = "dave smith", Role = "viewer" }).ResponseAsync);
        Assert.StartsWith("name 'dave smith' is not valid", name.Detail);
        await admin.AddUserAsync(new AddUserRequest { Name = "dave", Role = "viewer" });
        Assert.Equal(StatusCode.FailedPrecondition, (await Updates.Refused(() => admin.AddUserAsync(new AddUserRequest { Name = "dave", Role = "viewer" }).ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.NotFound, (await Updates.Refused(() => admin.RemoveUserAsync(new UserRequest { Name = "nobody" }).ResponseAsync)).StatusCode);

        using var browser = fixture.Server.Browser();
        await browser.SignInAsync("ada", AccessFixture.Password);
        using var bad = await browser.SendAsync(HttpMethod.Post, "/dashboard/api/users", new { name = "erin", role = "boss" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("role", JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_server_that_requires_no_credential_treats_a_bare_call_as_an_anonymous_admin_and_checks_presented_ones()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await TlsLoopbackServer.StartAsync(folder);
        using var bare = server.Channel();
        var admin = new Accounts.AccountsClient(bare);
        var viewer = await admin.AddUserAsync(new AddUserRequest { Name = "vic", Role = "viewer" });
        Assert.Equal("anonymous (open server)", viewer.Info.CreatedBy);
        using var wrong = server.Channel("fop1.vic.not-its-key");
        Assert.Equal(StatusCode.Unauthenticated, (await Updates.Refused(() => new Operator.OperatorClient(wrong).ListJobsAsync(new ListJobsRequest()).ResponseAsync)).StatusCode);
        using var vic = server.Channel(viewer.Key);
        Assert.Equal(StatusCode.PermissionDenied, (await Updates.Refused(() => new Operator.OperatorClient(vic).StopJobAsync(new JobActionRequest { JobId = "x" }).ResponseAsync)).StatusCode);
        using var call = admin.ExportAudit(new ExportAuditRequest());
        var entries = await call.ResponseStream.ReadAllAsync().ToListAsync();
        Assert.Contains(entries, e => e is { Who: "anonymous (open server)", Role: "admin", Action: "AddUser", Target: "name=vic", Outcome: "done" });
        Assert.Contains(entries, e => e is { Who: "vic", Action: "SignIn", Outcome: "refused" });
        Assert.Contains(entries, e => e is { Who: "vic", Role: "viewer", Action: "StopJob", Outcome: "refused" });
    }

    [Fact]
    public async Task Beyond_loopback_an_operator_call_without_a_credential_is_refused_by_default()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None, settings: new Dictionary<string, string?>
        {
            ["Server:ListenAddress"] = "0.0.0.0",
            ["Server:Tls:Mode"] = "Off", // plain, to keep this test to the operator's credential
            ["Server:AllowInsecure"] = "true",
            ["Server:Dashboard:Users:ada"] = "correct horse",
        });
        var address = $"http://127.0.0.1:{server.GrpcPort}";
        using var bare = Protos.GrpcChannels.Create(address);
        var refused = await Updates.Refused(() => new Operator.OperatorClient(bare).ListJobsAsync(new ListJobsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        using var ada = Protos.GrpcChannels.Create(address, "ada:correct horse");
        await new Operator.OperatorClient(ada).ListJobsAsync(new ListJobsRequest());
    }
}
