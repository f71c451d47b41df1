using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Federated.Core.Runtime;

/// <summary>
/// Process-wide settings for libtorch's native memory, applied when this assembly loads, before any tensor
/// exists (clients run on machines whose memory is their owners'):
/// <list type="bullet">
/// <item>Outside training, glibc serves blocks of <see cref="MmapThresholdBytes"/> and up with mmap, so a freed
/// tensor goes back to the system at once. Left to its default, glibc raises that threshold to the largest
/// block freed so far and keeps freed tensors in its arenas for good: a LoRA client then stays at 2.3× its
/// frozen weights resident after training instead of 1.4×.</item>
/// <item>While training runs (<see cref="ReuseFreedMemory"/>), blocks up to <see cref="TrainingMmapThresholdBytes"/>
/// come from the arenas and are reused step after step: with the 256 KiB threshold every activation was a fresh
/// mmap, zero-filled page by page and unmapped again (8.5 million page faults and over half the wall time in the
/// kernel for 11 steps of the bench's 23M-parameter model). When the last training scope ends, the arenas' free
/// pages go back to the system (malloc_trim) and the lean threshold returns.</item>
/// <item>MKL (libtorch's CPU GEMM) keeps a per-thread cache of its work buffers that is never returned (about
/// 13 MiB in that run); it is turned off.</item>
/// </list>
/// <see cref="LeanVariable"/>=1 keeps the lean threshold during training too (least memory, most page faults).
/// With jemalloc preloaded (LD_PRELOAD) glibc's settings have no effect and jemalloc's own decay applies.
/// </summary>
public static class NativeMemorySettings
{
    public const string MklFastMemoryVariable = "MKL_DISABLE_FAST_MM";

    /// <summary>Set to 1 to keep every large block mmapped during training too.</summary>
    public const string LeanVariable = "FEDERATED_LEAN_NATIVE_MEMORY";

    /// <summary>Blocks from this size up are mmapped outside training (glibc's default starts at 128 KiB and grows to 32 MiB).</summary>
    public const int MmapThresholdBytes = 256 << 10;

    /// <summary>
    /// Blocks from this size up are mmapped while training: glibc's largest allowed threshold (32 MiB on 64-bit).
    /// Larger blocks (whole-batch logits) stay mmapped: there are few of them per step.
    /// </summary>
    public const int TrainingMmapThresholdBytes = 32 << 20;

    private const int MallocTrimThreshold = -1; // M_TRIM_THRESHOLD
    private const int MallocMmapThreshold = -3; // M_MMAP_THRESHOLD
    private const int DefaultTrimThresholdBytes = 128 << 10;

    private static readonly Lock Gate = new();
    private static int _training;
    private static bool _glibc;

    /// <summary>Whether MKL's buffer cache is off in the environment native code sees (MKL: any value turns it off).</summary>
    public static bool MklCacheDisabled => OperatingSystem.IsLinux() && getenv(MklFastMemoryVariable) != IntPtr.Zero;

    /// <summary>Whether training keeps freed blocks for reuse (glibc, and <see cref="LeanVariable"/> not set).</summary>
    public static bool ReusesDuringTraining => _glibc && !Lean;

    private static bool Lean => getenv(LeanVariable) is var value && value != IntPtr.Zero && Marshal.PtrToStringAnsi(value) is "1" or "true";

    /// <summary>
    /// Keeps freed native blocks in glibc's arenas for reuse until the returned scope (and every other open one)
    /// is disposed; then hands the arenas' free pages back to the system. Scopes nest and may overlap across threads.
    /// </summary>
    public static IDisposable ReuseFreedMemory()
    {
        if (!ReusesDuringTraining)
            return Scope.None;
        lock (Gate)
        {
            if (_training++ == 0)
            {
                // Trimming the heap's top at every free would give back, and fault in again, what the next step reuses.
                _ = mallopt(MallocTrimThreshold, int.MaxValue);
                _ = mallopt(MallocMmapThreshold, TrainingMmapThresholdBytes);
            }
        }
        return new Scope();
    }

    private static void EndReuse()
    {
        lock (Gate)
        {
            if (--_training != 0)
                return;
            _ = mallopt(MallocMmapThreshold, MmapThresholdBytes);
            _ = mallopt(MallocTrimThreshold, DefaultTrimThresholdBytes);
            _ = malloc_trim(0);
        }
    }

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "MKL reads the variable once, at its first allocation: it must be set before any code of this library can start libtorch.")]
    internal static void Apply()
    {
        // Environment.SetEnvironmentVariable only changes .NET's own copy on Unix; native code reads libc's.
        if (!OperatingSystem.IsLinux())
            return;
        _ = setenv(MklFastMemoryVariable, "1", overwrite: 0);
        try
        {
            _glibc = mallopt(MallocMmapThreshold, MmapThresholdBytes) == 1;
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl has no mallopt): its allocator returns large blocks on its own.
        }
    }

    private sealed class Scope : IDisposable
    {
        public static readonly IDisposable None = new NoScope();

        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                EndReuse();
        }

        private sealed class NoScope : IDisposable
        {
            public void Dispose()
            {
            }
        }
    }

    [DllImport("libc")]
    private static extern int mallopt(int param, int value);

    [DllImport("libc")]
    private static extern int malloc_trim(nuint pad);

    [DllImport("libc", CharSet = CharSet.Ansi, BestFitMapping = false)]
    private static extern int setenv(string name, string value, int overwrite);

    [DllImport("libc", CharSet = CharSet.Ansi, BestFitMapping = false)]
    private static extern IntPtr getenv(string name);
}
