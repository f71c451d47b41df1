using System.CommandLine;

namespace Federated.Simulations.Commands;

/// <summary>The `federated` command tree.</summary>
public static class FederatedCli
{
    public static RootCommand Create() => new("federated: federated LoRA fine-tuning — run jobs on this machine, control a coordinator, make datasets, inspect models, work on adapters")
    {
        RunCommand.Create(),
        CompareCommand.Create(),
        JobCommands.Create(),
        TokenCommands.Create(),
        DataCommands.Create(),
        AdapterCommands.Create(),
        ModelCommands.Create(),
        BenchCommand.Create(),
    };
}
