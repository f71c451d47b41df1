using System.CommandLine;
using Federated.Protos.V1;
using Spectre.Console;

namespace Federated.Simulations.Commands;

/// <summary>`federated users …`: operator accounts of a running coordinator (role admin).</summary>
public static class UserCommands
{
    public static Command Create() => new Command("users", "Operator accounts of a running coordinator: add, list, remove, change role (role admin)")
    {
        AddCommand(), ListCommand(), RemoveCommand(), RoleCommand(),
    }.WithConnection();

    private static Argument<string> Name() => new("name") { Description = "Account name: 1 to 64 letters, digits, '-', '_' or '.'" };

    private static Argument<string> RoleArgument() => new("role") { Description = "viewer, operator or admin" };

    private static Command AddCommand()
    {
        var name = Name();
        var role = new Option<string>("--role") { Description = "viewer (reads), operator (also jobs and clients) or admin (also tokens, accounts, audit)", Required = true };
        var command = new Command("add", "Add an account; prints its key once (keep it: the server keeps only its hash)") { name, role };
        command.SetAction(async (parse, cancellationToken) => await Call(parse, async client =>
        {
            var reply = await client.AddUserAsync(new AddUserRequest { Name = parse.GetValue(name)!, Role = parse.GetValue(role)! }, cancellationToken: cancellationToken);
            // The key alone on stdout, so that it can be captured; the note goes to stderr.
            await parse.InvocationConfiguration.Error.WriteLineAsync($"Added {reply.Info.Name} with role {reply.Info.Role}. Its key, shown this once (use it as --token or $FEDERATED_OPERATOR_TOKEN, or as the dashboard password):");
            await parse.InvocationConfiguration.Output.WriteLineAsync(reply.Key);
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var command = new Command("list", "List the accounts, configured and added");
        command.SetAction(async (parse, cancellationToken) => await Call(parse, async client =>
        {
            var reply = await client.ListUsersAsync(new ListUsersRequest(), cancellationToken: cancellationToken);
            var table = new Table().AddColumns("name", "role", "source", "created (UTC)", "by");
            foreach (var u in reply.Users)
                table.AddRow(Markup.Escape(u.Name), u.Role, u.Source, u.CreatedAt is null ? "" : $"{u.CreatedAt.ToDateTimeOffset():u}", Markup.Escape(u.CreatedBy));
            AnsiConsole.Write(table);
        }));
        return command;
    }

    private static Command RemoveCommand()
    {
        var name = Name();
        var command = new Command("remove", "Remove an added account: its key and sessions stop working at their next request") { name };
        command.SetAction(async (parse, cancellationToken) => await Call(parse, async client =>
        {
            var info = await client.RemoveUserAsync(new UserRequest { Name = parse.GetValue(name)! }, cancellationToken: cancellationToken);
            AnsiConsole.MarkupLine($"Removed [bold]{Markup.Escape(info.Name)}[/].");
        }));
        return command;
    }

    private static Command RoleCommand()
    {
        var name = Name();
        var role = RoleArgument();
        var command = new Command("role", "Give an added account another role, from its next request") { name, role };
        command.SetAction(async (parse, cancellationToken) => await Call(parse, async client =>
        {
            var info = await client.SetUserRoleAsync(new SetUserRoleRequest { Name = parse.GetValue(name)!, Role = parse.GetValue(role)! }, cancellationToken: cancellationToken);
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(info.Name)}[/] now has role {info.Role}.");
        }));
        return command;
    }

    private static Task<int> Call(ParseResult parse, Func<Accounts.AccountsClient, Task> action)
        => OperatorConnection.Call(parse, channel => action(new Accounts.AccountsClient(channel)));
}
