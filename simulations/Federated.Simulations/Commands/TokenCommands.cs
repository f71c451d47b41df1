using System.CommandLine;
using System.Globalization;
using Federated.Protos.V1;
using Spectre.Console;

namespace Federated.Simulations.Commands;

/// <summary>`federated tokens …`: join tokens, which admit new edge machines (each then gets its own credential).</summary>
public static class TokenCommands
{
    public static Command Create()
    {
        var tokens = new Command("tokens", "Create, list and revoke join tokens for enrolling edge machines") { CreateCommand(), ListCommand(), RevokeCommand() };
        foreach (var command in tokens.Subcommands)
        {
            command.Options.Add(JobCommands.Server);
            command.Options.Add(JobCommands.Token);
            command.Options.Add(JobCommands.CaFingerprint);
            command.Options.Add(JobCommands.CaFile);
        }
        return tokens;
    }

    private static Command CreateCommand()
    {
        var uses = new Option<int>("--uses") { Description = "How many machines it may enrol", DefaultValueFactory = _ => 1 };
        var expires = new Option<string>("--expires") { Description = "Lifetime: a number with s, m, h or d (e.g. 30m, 24h, 7d)", DefaultValueFactory = _ => "24h" };
        expires.Validators.Add(result =>
        {
            if (!TryParseLifetime(result.GetValueOrDefault<string>(), out _))
                result.AddError($"--expires: '{result.GetValueOrDefault<string>()}' is not a lifetime such as 30m, 24h or 7d");
        });
        var label = new Option<string?>("--label") { Description = "What it is for (shown in `tokens list` and the audit trail)" };
        var command = new Command("create", "Make a join token; it is printed once (the server keeps only its hash)") { uses, expires, label };
        command.SetAction(async (parse, _) => await JobCommands.Call(parse, async channel =>
        {
            TryParseLifetime(parse.GetValue(expires), out var lifetime);
            var reply = await new Admin.AdminClient(channel).CreateJoinTokenAsync(new CreateJoinTokenRequest
            {
                Uses = parse.GetValue(uses),
                ExpiresInSeconds = (long)lifetime.TotalSeconds,
                Label = parse.GetValue(label) ?? "",
            });
            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync(reply.Token);
            var error = parse.InvocationConfiguration.Error;
            await error.WriteLineAsync($"Join token {reply.Info.Id}: {reply.Info.Uses} enrolment(s) until {reply.Info.ExpiresAt.ToDateTimeOffset():u}. It is shown only now.");
            await error.WriteLineAsync($"On the edge machine: Federated.Client enrol --server {parse.GetValue(JobCommands.Server)} --join-token <the token above>");
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var command = new Command("list", "The join tokens, their uses and the clients each enrolled");
        command.SetAction(async (parse, _) => await JobCommands.Call(parse, async channel =>
        {
            var reply = await new Admin.AdminClient(channel).ListJoinTokensAsync(new ListJoinTokensRequest());
            var table = new Table().AddColumns("id", "label", "used", "expires", "state", "created by", "clients");
            foreach (var t in reply.Tokens)
            {
                var expiresAt = t.ExpiresAt.ToDateTimeOffset();
                var state = t.Revoked ? "revoked" : expiresAt <= DateTimeOffset.UtcNow ? "expired" : t.Used >= t.Uses ? "used up" : "live";
                table.AddRow(Markup.Escape(t.Id), Markup.Escape(t.Label), $"{t.Used}/{t.Uses}", expiresAt.ToString("u", CultureInfo.InvariantCulture), state, Markup.Escape(t.CreatedBy), Markup.Escape(string.Join(", ", t.Clients)));
            }
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output) });
            console.Write(table);
        }));
        return command;
    }

    private static Command RevokeCommand()
    {
        var id = new Argument<string>("id") { Description = "The token's id (from `tokens list`)" };
        var command = new Command("revoke", "Revoke a join token: it enrols no one more (clients it enrolled keep their credentials)") { id };
        command.SetAction(async (parse, _) => await JobCommands.Call(parse, async channel =>
        {
            var info = await new Admin.AdminClient(channel).RevokeJoinTokenAsync(new RevokeJoinTokenRequest { Id = parse.GetValue(id)! });
            await parse.InvocationConfiguration.Output.WriteLineAsync($"Join token {info.Id} revoked ({info.Used} of {info.Uses} uses were spent).");
        }));
        return command;
    }

    /// <summary>"90s", "30m", "24h", "7d".</summary>
    public static bool TryParseLifetime(string? text, out TimeSpan lifetime)
    {
        lifetime = default;
        if (string.IsNullOrEmpty(text) || text.Length < 2 || !long.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > 100_000_000)
            return false;
        lifetime = char.ToLowerInvariant(text[^1]) switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => TimeSpan.Zero,
        };
        return lifetime > TimeSpan.Zero;
    }
}
