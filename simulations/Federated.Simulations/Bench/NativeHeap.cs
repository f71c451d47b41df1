using System.Runtime.InteropServices;

namespace Federated.Simulations.Bench;

/// <summary>glibc's C heap, where libtorch's CPU tensors live: bytes in use, and the settings that make freed tensors leave the process.</summary>
public static class NativeHeap
{
    private const int MmapThreshold = -3;
    private const int ArenaMax = -8;

    /// <summary>Bytes handed out and not yet freed (mallinfo2: arena blocks in use + mmapped blocks); 0 off glibc.</summary>
    public static long InUse
    {
        get
        {
            if (!OperatingSystem.IsLinux())
                return 0;
            var info = mallinfo2();
            return (long)(info.Uordblks + info.Hblkhd);
        }
    }

    /// <summary>
    /// Serves blocks from 256 KiB up with mmap, so a freed tensor goes back to the system at once instead of
    /// staying resident in an arena, and caps the per-thread arenas at two.
    /// </summary>
    public static void ReturnFreedTensors()
    {
        if (!OperatingSystem.IsLinux())
            return;
        mallopt(MmapThreshold, 256 << 10);
        mallopt(ArenaMax, 2);
    }

    [DllImport("libc")]
    private static extern MallInfo2 mallinfo2();

    [DllImport("libc")]
    private static extern int mallopt(int param, int value);

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }
}
