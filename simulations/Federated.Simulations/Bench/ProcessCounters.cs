using System.Diagnostics;
using System.Globalization;

namespace Federated.Simulations.Bench;

/// <summary>
/// This process's minor page faults and CPU time in user and kernel mode: where the time goes, in figures that
/// other work on a shared machine disturbs far less than wall time. Faults are 0 off Linux.
/// </summary>
public readonly record struct ProcessCounters(long MinorFaults, double UserSeconds, double KernelSeconds)
{
    public static ProcessCounters Read()
    {
        using var process = Process.GetCurrentProcess();
        long faults = 0;
        if (OperatingSystem.IsLinux())
        {
            // /proc/self/stat: "pid (comm) state ppid ...", minflt is field 10; comm may hold spaces, so count after ')'.
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            faults = long.Parse(fields[7], CultureInfo.InvariantCulture);
        }
        return new ProcessCounters(faults, process.UserProcessorTime.TotalSeconds, process.PrivilegedProcessorTime.TotalSeconds);
    }

    public static ProcessCounters operator -(ProcessCounters a, ProcessCounters b)
        => new(a.MinorFaults - b.MinorFaults, a.UserSeconds - b.UserSeconds, a.KernelSeconds - b.KernelSeconds);
}
