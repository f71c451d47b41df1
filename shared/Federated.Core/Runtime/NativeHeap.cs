using System.Runtime.InteropServices;

namespace Federated.Core.Runtime;

/// <summary>glibc's C heap, where libtorch's CPU tensors live (mallinfo2); zeros off glibc.</summary>
public static class NativeHeap
{
    /// <summary>Bytes handed out and not yet freed: arena blocks in use + mmapped blocks.</summary>
    public static long InUse => Read() is { } info ? (long)(info.Uordblks + info.Hblkhd) : 0;

    /// <summary>Bytes in blocks served by mmap, which go back to the system when freed.</summary>
    public static long Mapped => Read() is { } info ? (long)info.Hblkhd : 0;

    /// <summary>Bytes freed but still held by the arenas (resident until reused or trimmed).</summary>
    public static long FreeInArenas => Read() is { } info ? (long)info.Fordblks : 0;

    // Probed once: the bench samples every millisecond, and a missing entry point would throw each time.
    private static readonly bool Available = Probe();

    private static MallInfo2? Read() => Available ? mallinfo2() : null;

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            _ = mallinfo2();
            return true;
        }
        catch (EntryPointNotFoundException)
        {
            return false; // not glibc (musl) or glibc before 2.33
        }
    }

    [DllImport("libc")]
    private static extern MallInfo2 mallinfo2();

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }
}
