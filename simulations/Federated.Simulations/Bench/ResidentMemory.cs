using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Federated.Simulations.Bench;

/// <summary>
/// This process's resident memory, read from /proc/self/statm into a fixed buffer: sampled every millisecond,
/// a reader that allocated (Process objects, strings) would itself grow the managed heap it is measuring.
/// </summary>
public static class ResidentMemory
{
    private static readonly Lock Gate = new();
    private static readonly byte[] Buffer = new byte[256];
    private static SafeFileHandle? _statm;

    /// <summary>All resident pages, in bytes.</summary>
    public static long All()
    {
        if (!OperatingSystem.IsLinux())
        {
            using var process = Process.GetCurrentProcess();
            return process.WorkingSet64;
        }
        var (resident, _) = Read();
        return resident;
    }

    /// <summary>
    /// Resident pages that are the process's own (heap, tensors, stacks): resident minus file-backed and shared
    /// pages, so library code paged in on first use does not count; 0 off Linux.
    /// </summary>
    public static long Own()
    {
        if (!OperatingSystem.IsLinux())
            return 0;
        var (resident, shared) = Read();
        return resident - shared;
    }

    /// <summary>
    /// Resets the kernel's peak resident size of this process (VmHWM, by writing 5 to /proc/self/clear_refs), so
    /// <see cref="KernelPeak"/> is the exact peak from now on, not a millisecond sample; false where that is refused.
    /// </summary>
    public static bool ResetPeak()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The kernel's peak resident size (VmHWM) since the process started or <see cref="ResetPeak"/>, in bytes.</summary>
    public static long KernelPeak()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException("/proc/self/status has no VmHWM line");
    }

    private static (long Resident, long Shared) Read()
    {
        lock (Gate)
        {
            _statm ??= File.OpenHandle("/proc/self/statm");
            var length = RandomAccess.Read(_statm, Buffer, 0);
            // "size resident shared text lib data dt", in pages.
            var span = Buffer.AsSpan(0, length);
            long size = 0, resident = 0, shared = 0;
            int field = 0;
            foreach (var b in span)
            {
                if (b == (byte)' ' || b == (byte)'\n')
                {
                    if (++field == 3)
                        break;
                    continue;
                }
                ref var target = ref field == 0 ? ref size : ref field == 1 ? ref resident : ref shared;
                target = target * 10 + (b - '0');
            }
            return (resident * Environment.SystemPageSize, shared * Environment.SystemPageSize);
        }
    }
}
