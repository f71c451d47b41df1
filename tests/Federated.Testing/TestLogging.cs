using Serilog;
using Serilog.Core;
using Serilog.Events;
using Xunit.Abstractions;

namespace Federated.Testing;

/// <summary>Serilog loggers that write into the xunit output of the running test.</summary>
public static class TestLogging
{
    /// <param name="minimum">The least level written (a test sending thousands of refused calls keeps to warnings).</param>
    public static Serilog.Core.Logger For(ITestOutputHelper output, LogEventLevel minimum = LogEventLevel.Information) => new LoggerConfiguration()
        .MinimumLevel.Is(minimum)
        .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
        .MinimumLevel.Override("Orleans", LogEventLevel.Warning)
        .MinimumLevel.Override("Orleans.Runtime.Silo", LogEventLevel.Error)
        .MinimumLevel.Override("Grpc", LogEventLevel.Warning)
        .MinimumLevel.Override("Polly", LogEventLevel.Warning)
        .Enrich.FromLogContext()
        .WriteTo.Sink(new OutputSink(output))
        .CreateLogger();

    private sealed class OutputSink(ITestOutputHelper output) : ILogEventSink
    {
        public void Emit(LogEvent logEvent)
        {
            var client = logEvent.Properties.TryGetValue("ClientId", out var id) ? $" {id}" : "";
            try
            {
                output.WriteLine($"{logEvent.Timestamp:HH:mm:ss.fff} [{logEvent.Level}]{client} {logEvent.RenderMessage()}{(logEvent.Exception is null ? "" : "\n" + logEvent.Exception)}");
            }
            catch (InvalidOperationException)
            {
                // the test has finished; late log lines from shutting-down hosts have nowhere to go
            }
        }
    }
}
