using System.Runtime.InteropServices;

namespace Federated.Core.Tests.Training;

/// <summary>Bytes the C heap has handed out and not had back (glibc's mallinfo2): where libtorch's CPU tensors live.</summary>
internal static class NativeHeap
{
    public static long InUse
    {
        get
        {
            var info = mallinfo2();
            return (long)(info.Uordblks + info.Hblkhd);
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
