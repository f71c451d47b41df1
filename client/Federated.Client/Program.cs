using Federated.Client.Hosting;
using Serilog;

Log.Logger = new LoggerConfiguration().WriteTo.Console().CreateBootstrapLogger();
try
{
    using var host = ClientDaemonHost.Build(args);
    await host.RunAsync();
    return host.Services.GetRequiredService<DaemonHealth>().FatalError is null ? 0 : 1;
}
catch (Exception e) when (e is not OperationCanceledException)
{
    Log.Fatal(e, "The client daemon stopped: {Reason}", e.Message);
    return 1;
}
finally
{
    await Log.CloseAndFlushAsync();
}
