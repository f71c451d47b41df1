using Federated.Simulations.Commands;

return await FederatedCli.Create().Parse(args).InvokeAsync();
