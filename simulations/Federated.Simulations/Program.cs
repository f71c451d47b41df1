using System.CommandLine;
using Federated.Simulations.Commands;

var root = new RootCommand("federated: federated LoRA fine-tuning — run jobs on this machine, control a coordinator, make datasets, inspect models")
{
    RunCommand.Create(),
    JobCommands.Create(),
    DataCommands.Create(),
    ModelCommands.Create(),
};
return await root.Parse(args).InvokeAsync();
