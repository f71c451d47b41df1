using System.CommandLine;
using Federated.Simulations.Commands;

var root = new RootCommand("federated: federated LoRA fine-tuning — run jobs on this machine, inspect models and adapters")
{
    RunCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
