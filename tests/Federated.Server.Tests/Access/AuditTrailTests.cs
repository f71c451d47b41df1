using System.Net;
using System.Text.Json;
using Federated.Contracts.Access;
using Federated.Contracts.Clients;
using Federated.Protos.V1;
using Federated.Server.Access;
using Federated.Simulations.Commands;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using AuditEntry = Federated.Protos.V1.AuditEntry;

namespace Federated.Server.Tests.Access;

/// <summary>The audit trail: each kind of operator action recorded with who, role, what, outcome, when, where and through what; kept across a restart.</summary>
public class AuditTrailTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 18, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Every_kind_of_operator_action_is_recorded_and_survives_a_restart()
    {
        using var folder = new TemporaryDirectory();
        var clock = new FakeTimeProvider(Now);
        var settings = AccessFixture.Settings();
        List<AuditEntry> before;
        await using (var server = await TlsLoopbackServer.StartAsync(folder, settings: settings, time: clock))
        {
            var grains = server.App.Services.GetRequiredService<IGrainFactory>();
            foreach (var id in new[] { "c1", "c2" })
                await grains.GetGrain<IClientGrain>(id).Enrol(new ClientProfile { Device = "cpu" });
            using var otto = Grpc(server, AccessFixture.CredentialOf("operator"));
            using var ada = Grpc(server, AccessFixture.CredentialOf("admin"));
            using var vera = Grpc(server, AccessFixture.CredentialOf("viewer"));
            var ops = new Operator.OperatorClient(otto);
            var job = await ops.CreateJobAsync(new CreateJobRequest { Spec = new JobSpec { JobId = "audited", BaseModel = "builtin:tiny", Rounds = 1 } });
            await ops.PauseJobAsync(new JobActionRequest { JobId = "audited" });
            await ops.ResumeJobAsync(new JobActionRequest { JobId = "audited" });
            await ops.StopJobAsync(new JobActionRequest { JobId = "audited" });
            var refusedStop = await Assert.ThrowsAsync<RpcException>(() => ops.StopJobAsync(new JobActionRequest { JobId = "audited" }).ResponseAsync);
            await ops.PauseClientAsync(new ClientActionRequest { ClientId = "c1" });
            await ops.ResumeClientAsync(new ClientActionRequest { ClientId = "c1" });
            await ops.DrainClientAsync(new ClientActionRequest { ClientId = "c1" });
            await ops.RemoveClientAsync(new ClientActionRequest { ClientId = "c1" });
            var accounts = new Accounts.AccountsClient(ada);
            await accounts.AddUserAsync(new AddUserRequest { Name = "bob", Role = "viewer" });
            await accounts.SetUserRoleAsync(new SetUserRoleRequest { Name = "bob", Role = "operator" });
            await accounts.RemoveUserAsync(new UserRequest { Name = "bob" });
            await Assert.ThrowsAsync<RpcException>(() => new Operator.OperatorClient(vera).CreateJobAsync(new CreateJobRequest()).ResponseAsync);
            using (var wrong = Grpc(server, "otto:not-the-password"))
                await Assert.ThrowsAsync<RpcException>(() => new Operator.OperatorClient(wrong).ListJobsAsync(new ListJobsRequest()).ResponseAsync);

            using (var browser = server.Browser())
            {
                Assert.Equal(HttpStatusCode.Unauthorized, await browser.SignInAsync("otto", "wrong"));
                Assert.Equal(HttpStatusCode.OK, await browser.SignInAsync("otto", AccessFixture.Password));
                Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(HttpMethod.Post, "/dashboard/api/jobs", JsonDocument.Parse("""{"jobId":"web","baseModel":"builtin:tiny","rounds":1}""").RootElement)).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(HttpMethod.Post, "/dashboard/api/jobs/web/pause")).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(HttpMethod.Post, "/dashboard/api/clients/c2/remove")).StatusCode);
                Assert.Equal(HttpStatusCode.Forbidden, (await browser.SendAsync(HttpMethod.Post, "/dashboard/api/users", new { name = "eve", role = "admin" })).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(HttpMethod.Post, "/dashboard/api/logout")).StatusCode);
            }
            using (var browser = server.Browser())
            {
                Assert.Equal(HttpStatusCode.OK, await browser.SignInAsync("ada", AccessFixture.Password));
                using var token = await browser.SendAsync(HttpMethod.Post, "/dashboard/api/tokens", new { uses = 2, expiresInSeconds = 3600, label = "rack 4" });
                var tokenId = JsonDocument.Parse(await token.Content.ReadAsStringAsync()).RootElement.GetProperty("info").GetProperty("id").GetString();
                Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(HttpMethod.Post, $"/dashboard/api/tokens/{tokenId}/revoke")).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(HttpMethod.Post, "/dashboard/api/users", new { name = "carol", role = "viewer" })).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(HttpMethod.Post, "/dashboard/api/users/carol/role", new { role = "admin" })).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(HttpMethod.Post, "/dashboard/api/users/carol/remove")).StatusCode);

                before = await ExportAsync(ada);
                Expect(before, "otto", "operator", "CreateJob", "job_id=audited", "done", "grpc", detail: null);
                Expect(before, "otto", "operator", "PauseJob", "job_id=audited", "done", "grpc");
                Expect(before, "otto", "operator", "ResumeJob", "job_id=audited", "done", "grpc");
                Expect(before, "otto", "operator", "StopJob", "job_id=audited", "done", "grpc");
                Expect(before, "otto", "operator", "StopJob", "job_id=audited", "refused", "grpc", detail: refusedStop.Status.Detail);
                foreach (var action in new[] { "PauseClient", "ResumeClient", "DrainClient", "RemoveClient" })
                    Expect(before, "otto", "operator", action, "client_id=c1", "done", "grpc");
                Expect(before, "ada", "admin", "AddUser", "name=bob", "done", "grpc", detail: "role=viewer");
                Expect(before, "ada", "admin", "SetUserRole", "name=bob", "done", "grpc", detail: "role=operator");
                Expect(before, "ada", "admin", "RemoveUser", "name=bob", "done", "grpc");
                Expect(before, "vera", "viewer", "CreateJob", "", "refused", "grpc", detail: "needs role operator");
                Expect(before, "otto", "", "SignIn", "ListJobs", "refused", "grpc", detail: "credential wrong");
                Expect(before, "otto", "", "SignIn", "", "refused", "dashboard", detail: "wrong user name or password");
                Expect(before, "otto", "operator", "SignIn", "", "done", "dashboard");
                Expect(before, "otto", "operator", "CreateJob", "job_id=web", "done", "dashboard");
                Expect(before, "otto", "operator", "PauseJob", "job_id=web", "done", "dashboard");
                Expect(before, "otto", "operator", "RemoveClient", "client_id=c2", "done", "dashboard");
                Expect(before, "otto", "operator", "POST /dashboard/api/users", "", "refused", "dashboard", detail: "needs role admin");
                Expect(before, "otto", "operator", "SignOut", "", "done", "dashboard");
                Expect(before, "ada", "admin", "CreateJoinToken", $"id={tokenId}", "done", "dashboard");
                Expect(before, "ada", "admin", "RevokeJoinToken", $"id={tokenId}", "done", "dashboard");
                Expect(before, "ada", "admin", "AddUser", "name=carol", "done", "dashboard");
                Expect(before, "ada", "admin", "SetUserRole", "name=carol", "done", "dashboard");
                Expect(before, "ada", "admin", "RemoveUser", "name=carol", "done", "dashboard");
                Assert.All(before, e => Assert.Equal(Now, e.At.ToDateTimeOffset()));
                Assert.All(before, e => Assert.Equal("127.0.0.1", e.From));
                Assert.Equal(Enumerable.Range(1, before.Count).Select(i => (long)i), before.Select(e => e.Sequence));

                // The dashboard shows the same entries, newest first (the gRPC export recorded itself once it ended),
                // and exports them as the CLI does.
                var page = (await browser.GetJsonAsync("/dashboard/api/audit?count=5")).EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()).ToList();
                Assert.Equal(Enumerable.Range(before.Count - 3, 5).Reverse().Select(i => (long)i), page);
                var lines = (await browser.GetTextAsync("/dashboard/api/audit.jsonl")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.Equal(before.Select(AuditCommands.Line), lines.Take(before.Count));
                Assert.Equal(before.Count + 1, lines.Length);
                Assert.Contains("\"action\":\"ExportAudit\"", lines[^1]);
            }
            Assert.Equal("audited", job.JobId);
        }

        await using (var again = await TlsLoopbackServer.StartAsync(folder, settings: settings, time: clock))
        {
            using var ada = Grpc(again, AccessFixture.CredentialOf("admin"));
            var after = await ExportAsync(ada);
            Assert.Equal(before.Select(AuditCommands.Line), after.Take(before.Count).Select(AuditCommands.Line));
            // Then the two exports before the restart, numbered on where the trail was.
            Assert.Equal(Enumerable.Range(1, after.Count).Select(i => (long)i), after.Select(e => e.Sequence));
            Assert.Equal(["grpc", "dashboard"], after.Skip(before.Count).Select(e => e.Through));
            Assert.All(after.Skip(before.Count), e => Assert.Equal("ExportAudit", e.Action));
        }
    }

    [Fact]
    public async Task The_trail_reads_back_across_sealed_segments_in_order_and_filters_by_time()
    {
        using var folder = new TemporaryDirectory();
        var clock = new FakeTimeProvider(Now);
        await using var server = await TlsLoopbackServer.StartAsync(folder, time: clock);
        var audit = server.App.Services.GetRequiredService<AuditTrail>();
        var count = AuditLogGrain.SegmentEntries * 2 + 10;
        for (var i = 1; i <= count; i++)
        {
            await audit.RecordAsync("ada", OperatorRole.Admin, "AddUser", $"name=u{i}", AuditOutcome.Done, "", "127.0.0.1", AuditTrail.Grpc);
            if (i == AuditLogGrain.SegmentEntries + 5)
                clock.Advance(TimeSpan.FromMinutes(1));
        }
        var head = await server.App.Services.GetRequiredService<IGrainFactory>().GetGrain<IAuditLogGrain>(0).Head();
        Assert.Equal(2, head.Segments.Count);
        Assert.Equal(10, head.Open.Count);

        var all = new List<Contracts.Access.AuditEntry>();
        await foreach (var e in audit.ExportAsync(null, CancellationToken.None))
            all.Add(e);
        Assert.Equal(Enumerable.Range(1, count).Select(i => $"name=u{i}"), all.Select(e => e.Target));
        var newest = await audit.NewestAsync(AuditLogGrain.SegmentEntries + 20);
        Assert.Equal(Enumerable.Range(count - AuditLogGrain.SegmentEntries - 19, AuditLogGrain.SegmentEntries + 20).Reverse().Select(i => (long)i), newest.Select(e => e.Sequence));
        var later = new List<Contracts.Access.AuditEntry>();
        await foreach (var e in audit.ExportAsync(Now + TimeSpan.FromSeconds(30), CancellationToken.None))
            later.Add(e);
        Assert.Equal(Enumerable.Range(AuditLogGrain.SegmentEntries + 6, count - AuditLogGrain.SegmentEntries - 5).Select(i => (long)i), later.Select(e => e.Sequence));
    }

    private static Grpc.Net.Client.GrpcChannel Grpc(TlsLoopbackServer server, string credential) => server.Channel(credential);

    private static async Task<List<AuditEntry>> ExportAsync(Grpc.Net.Client.GrpcChannel channel)
    {
        using var call = new Accounts.AccountsClient(channel).ExportAudit(new ExportAuditRequest());
        return await call.ResponseStream.ReadAllAsync().ToListAsync();
    }

    private static void Expect(List<AuditEntry> entries, string who, string role, string action, string target, string outcome, string through, string? detail = null)
        => Assert.True(
            entries.Any(e => e.Who == who && e.Role == role && e.Action == action && e.Target == target && e.Outcome == outcome && e.Through == through && (detail is null || e.Detail.Contains(detail, StringComparison.Ordinal))),
            $"no entry {who}/{role} {action} {target} {outcome} via {through}{(detail is null ? "" : $" ({detail})")} among:\n{string.Join('\n', entries.Select(AuditCommands.Line))}");
}
