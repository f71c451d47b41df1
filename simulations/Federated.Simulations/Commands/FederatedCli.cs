using System.CommandLine;

namespace Federated.Simulations.Commands;

/// <summary>The `federated` command tree.</summary>
public static class FederatedCli
{
    public static RootCommand Create() => new("federated: federated LoRA fine-tuning — run jobs on this machine, control a coordinator (jobs, clients, operator accounts, audit), make datasets, inspect models, work on adapters")
    {
        RunCommand.Create(),
        CompareCommand.Create(),
        JobCommands.Create(),
        TokenCommands.Create(),
        ClientCommands.Create(),
        UserCommands.Create(),
        AuditCommands.Create(),
        DataCommands.Create(),
        AdapterCommands.Create(),
        ModelCommands.Create(),
        BenchCommand.Create(),
    };
}
