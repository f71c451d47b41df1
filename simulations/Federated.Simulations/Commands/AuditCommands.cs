using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Federated.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Federated.Simulations.Commands;

/// <summary>`federated audit export`: the coordinator's audit trail as JSON lines (role admin).</summary>
public static class AuditCommands
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Command Create() => new Command("audit", "The coordinator's audit trail of operator actions (role admin)") { ExportCommand() }.WithConnection();

    private static Command ExportCommand()
    {
        var since = new Option<string?>("--since") { Description = "Only entries at or after this time (ISO 8601, e.g. 2026-12-03T18:00:00Z)" };
        since.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } text && !TryTime(text, out _))
                result.AddError($"--since: '{text}' is not a time (use ISO 8601, e.g. 2026-12-03T18:00:00Z)");
        });
        var command = new Command("export", "Write every kept audit entry, oldest first, one JSON object a line, to stdout") { since };
        command.SetAction(async (parse, cancellationToken) => await OperatorConnection.Call(parse, async channel =>
        {
            var request = new ExportAuditRequest();
            if (parse.GetValue(since) is { } text && TryTime(text, out var from))
                request.Since = Timestamp.FromDateTimeOffset(from);
            using var call = new Accounts.AccountsClient(channel).ExportAudit(request, cancellationToken: cancellationToken);
            var output = parse.InvocationConfiguration.Output;
            await foreach (var entry in call.ResponseStream.ReadAllAsync(cancellationToken))
                await output.WriteLineAsync(Line(entry));
        }));
        return command;
    }

    /// <summary>The same fields, names and forms as the dashboard's /dashboard/api/audit.jsonl.</summary>
    public static string Line(AuditEntry e) => JsonSerializer.Serialize(new
    {
        sequence = e.Sequence,
        at = e.At.ToDateTimeOffset(),
        who = e.Who,
        role = e.Role.Length == 0 ? null : e.Role,
        action = e.Action,
        target = e.Target,
        outcome = e.Outcome,
        detail = e.Detail,
        from = e.From,
        through = e.Through,
    }, Json);

    private static bool TryTime(string text, out DateTimeOffset time)
        => DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
}
