using System.Collections.Concurrent;
using System.Diagnostics;

namespace Federated.Server.Tests.Cluster.Processes;

/// <summary>
/// A program of this build (the coordinator or the client daemon) run as its own process with `dotnet`, as it
/// runs in production, so that a test can SIGKILL it. Its output lines are kept for the test to read and to show
/// when the test fails.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private ChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    public bool HasExited => _process.HasExited;

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>
    /// Starts the program <paramref name="project"/> (its path under the repository, e.g. server/Federated.Server) from
    /// its own build output, of the configuration this test assembly was built in: its deps and runtimeconfig there
    /// name the shared frameworks it needs, which a copy beside the test assembly would not.
    /// </summary>
    public static ChildProcess Start(string name, string project, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var assembly = Path.Combine(TestModels.RepositoryRoot, project, "bin", testOutput.Parent!.Name, testOutput.Name, Path.GetFileName(project) + ".dll");
        if (!File.Exists(assembly))
            throw new FileNotFoundException($"{name}: {assembly} is not built (build the solution first)", assembly);
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (variable, value) in environment ?? new Dictionary<string, string?>())
            start.Environment[variable] = value;
        start.Environment["DOTNET_gcServer"] = "0"; // six processes on a small machine: keep each heap small
        start.Environment["DOTNET_GCHeapHardLimit"] = "0x30000000";
        return new ChildProcess(name, Process.Start(start) ?? throw new InvalidOperationException($"{name}: dotnet did not start"));
    }

    /// <summary>Starts an executable as it is (a published, self-contained program); a null value removes that variable.</summary>
    public static ChildProcess StartExecutable(string name, string executable, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (variable, value) in environment)
        {
            if (value is null)
                start.Environment.Remove(variable);
            else
                start.Environment[variable] = value;
        }
        return new ChildProcess(name, Process.Start(start) ?? throw new InvalidOperationException($"{name}: {executable} did not start"));
    }

    /// <summary>Waits for the program to end (its output read to the end) and returns its exit status.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown code runs, as when a machine dies.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    /// <summary>The last lines of output, for a failing test's message.</summary>
    public string Tail(int count = 40) => $"--- {Name} ---\n" + string.Join('\n', _lines.TakeLast(count));

    private void Keep(string? line)
    {
        if (line is null)
            return;
        _lines.Enqueue(line);
        while (_lines.Count > 5000 && _lines.TryDequeue(out _))
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
