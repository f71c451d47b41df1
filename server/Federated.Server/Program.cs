using Federated.Server.Hosting;
using Serilog;

Log.Logger = new LoggerConfiguration().WriteTo.Console().CreateBootstrapLogger();
try
{
    var app = FederatedServerHost.Build(args);
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e is PortInUseException or Federated.Server.Cluster.ClusterStartupException or Federated.Server.Hosting.Tls.TlsStartupException or Microsoft.Extensions.Options.OptionsValidationException)
{
    // A setting to fix, named in the message: one line, no stack trace.
    Log.Fatal("The coordinator stopped: {Reason}", e.Message);
    return 1;
}
catch (Exception e) when (e is not OperationCanceledException)
{
    Log.Fatal(e, "The coordinator stopped: {Reason}", e.Message);
    return 1;
}
finally
{
    await Log.CloseAndFlushAsync();
}
