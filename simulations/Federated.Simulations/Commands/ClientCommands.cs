using System.CommandLine;
using Federated.Protos.V1;
using Grpc.Core;
using Spectre.Console;

namespace Federated.Simulations.Commands;

/// <summary>`federated client …`: list and steer the enrolled clients of a running coordinator.</summary>
public static class ClientCommands
{
    public static Command Create() => new Command("client", "List and steer the clients enrolled with a running coordinator")
    {
        ListCommand(),
        ActionCommand("pause", "The client takes no new tasks until resumed (role operator)", (c, r, t) => c.PauseClientAsync(r, cancellationToken: t)),
        ActionCommand("resume", "The client takes tasks again (role operator)", (c, r, t) => c.ResumeClientAsync(r, cancellationToken: t)),
        ActionCommand("drain", "The client finishes its current task and takes no more (role operator)", (c, r, t) => c.DrainClientAsync(r, cancellationToken: t)),
        ActionCommand("remove", "Turn the client away for good and revoke its credential (role operator)", (c, r, t) => c.RemoveClientAsync(r, cancellationToken: t)),
    }.WithConnection();

    private static Command ListCommand()
    {
        var command = new Command("list", "List the enrolled clients with their admission and activity");
        command.SetAction(async (parse, cancellationToken) => await Call(parse, async client =>
        {
            var reply = await client.ListClientsAsync(new ListClientsRequest(), cancellationToken: cancellationToken);
            if (reply.Clients.Count == 0)
            {
                AnsiConsole.WriteLine("No clients.");
                return;
            }
            var table = new Table().AddColumns("client", "admission", "activity", "tasks done", "tasks expired", "last seen (UTC)");
            foreach (var c in reply.Clients)
                table.AddRow(Markup.Escape(c.ClientId), c.Admission, c.Activity, $"{c.TasksCompleted}", $"{c.TasksExpired}", $"{c.LastSeen?.ToDateTimeOffset():u}");
            AnsiConsole.Write(table);
        }));
        return command;
    }

    private static Command ActionCommand(string name, string description, Func<Operator.OperatorClient, ClientActionRequest, CancellationToken, AsyncUnaryCall<ClientStatus>> call)
    {
        var id = new Argument<string>("id") { Description = "Client id" };
        var command = new Command(name, description) { id };
        command.SetAction(async (parse, cancellationToken) => await Call(parse, async client =>
        {
            var status = await call(client, new ClientActionRequest { ClientId = parse.GetValue(id)! }, cancellationToken);
            AnsiConsole.MarkupLine($"Client [bold]{Markup.Escape(status.ClientId)}[/] is {Markup.Escape(status.Admission)}.");
        }));
        return command;
    }

    private static Task<int> Call(ParseResult parse, Func<Operator.OperatorClient, Task> action)
        => OperatorConnection.Call(parse, channel => action(new Operator.OperatorClient(channel)));
}
