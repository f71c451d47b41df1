using System.CommandLine;
using Federated.Client.Hosting;
using Federated.Client.Onboarding;
using Microsoft.Extensions.Options;
using Serilog;

// `Federated.Client enrol …` sets an edge machine up once; any other arguments run the daemon.
if (args.Length > 0 && args[0] == "enrol")
    return await new RootCommand("Federated.Client: the federated LoRA client daemon") { EnrolCommand.Create() }.Parse(args).InvokeAsync();

Log.Logger = new LoggerConfiguration().WriteTo.Console().CreateBootstrapLogger();
try
{
    using var host = ClientDaemonHost.Build(args);
    await host.RunAsync();
    return host.Services.GetRequiredService<DaemonHealth>().FatalError is null ? 0 : DaemonHealth.ExitCodeNeedsOperator;
}
catch (Exception e) when (e is OptionsValidationException or InvalidDataException or FileNotFoundException)
{
    // Settings that do not validate, a settings file that does not parse or is missing: starting again cannot help.
    Log.Fatal("The client daemon cannot start: {Reason}", e.Message);
    return DaemonHealth.ExitCodeNeedsOperator;
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
