using System.Runtime.InteropServices;

namespace Federated.Server.Storage;

/// <summary>
/// Makes a rename survive power loss. Flushing a file's bytes (<c>FileStream.Flush(true)</c>) does not persist the
/// directory entry a rename creates: on Linux that entry is only durable once the directory itself is fsynced, and
/// .NET has no API for that, so the directory is opened read-only (<c>O_DIRECTORY</c>) and fsynced through libc.
/// Elsewhere (Windows, where a directory cannot be opened this way and NTFS journals the rename) it does nothing.
/// </summary>
public static class DurableFiles
{
    private const int ReadOnly = 0;         // O_RDONLY
    private const int Directory = 0x10000;  // O_DIRECTORY on Linux (x86-64 and arm64)
    private const int CloseOnExec = 0x80000; // O_CLOEXEC

    /// <summary>Moves <paramref name="source"/> to <paramref name="destination"/> and persists the new directory entry.</summary>
    public static void MoveDurably(string source, string destination, bool overwrite)
    {
        File.Move(source, destination, overwrite);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
    }

    /// <summary>Copies through a temporary file flushed to disk, renamed into place durably.</summary>
    public static void CopyDurably(string source, string destination)
    {
        var temporary = destination + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.Copy(source, temporary);
        using (var stream = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite))
            stream.Flush(flushToDisk: true);
        MoveDurably(temporary, destination, overwrite: true);
    }

    /// <summary>Creates <paramref name="path"/> (and parents) if missing; a folder made here is persisted in its parent.</summary>
    public static void CreateDirectoryDurably(string path)
    {
        var full = Path.GetFullPath(path);
        if (System.IO.Directory.Exists(full))
            return;
        var parent = Path.GetDirectoryName(full);
        if (parent is not null)
            CreateDirectoryDurably(parent);
        System.IO.Directory.CreateDirectory(full);
        if (parent is not null)
            SyncDirectory(parent);
    }

    /// <summary>fsyncs a directory so that the entries created, renamed or removed in it are on disk.</summary>
    /// <exception cref="IOException">The directory cannot be opened or synced; the message names it and the errno.</exception>
    public static void SyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux())
            return;
        var fd = open(path, ReadOnly | Directory | CloseOnExec);
        if (fd < 0)
            throw new IOException($"cannot open directory {path} to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (fsync(fd) != 0)
                throw new IOException($"cannot fsync directory {path} (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = close(fd);
        }
        DirectorySynced?.Invoke(path);
    }

    /// <summary>Raised after each directory sync, so that tests can see a write was made durable (nothing else listens).</summary>
    internal static event Action<string>? DirectorySynced;

    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false)]
    private static extern int open(string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc")]
    private static extern int close(int fd);
}
