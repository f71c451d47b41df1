using Federated.Core.Data;
using Federated.Server.Hosting;

namespace Federated.Server.Jobs;

/// <summary>
/// Reads the evaluation datasets that jobs name. The name comes from an operator over the network, so a file
/// is read only if it lies under one of the configured data roots once links are followed (never a device
/// such as /dev/zero), is at most <see cref="MaxFileBytes"/> long, and a refusal never shows what is in it.
/// </summary>
public sealed class EvaluationSources
{
    /// <summary>Largest evaluation file read (all of it is held in memory, tokenised).</summary>
    public const long MaxFileBytes = 256L * 1024 * 1024;

    public const int MaxReferenceLength = 4096;

    /// <summary>System folders no setting may open up: their "files" are devices and kernel state.</summary>
    private static readonly string[] Forbidden = ["/dev", "/proc", "/sys"];

    public EvaluationSources(ServerOptions options)
        : this(options.DataRootPaths)
    {
    }

    public EvaluationSources(IReadOnlyList<string> roots)
    {
        Roots = [.. roots.Select(r => Path.TrimEndingDirectorySeparator(Path.GetFullPath(r)))];
    }

    public IReadOnlyList<string> Roots { get; }

    /// <summary>Why the roots cannot be used, one line each (empty: they can); checked when the server starts.</summary>
    public static IEnumerable<string> Problems(ServerOptions options)
    {
        foreach (var root in options.DataRoots)
        {
            if (string.IsNullOrWhiteSpace(root))
            {
                yield return "Server:DataRoots: an entry is empty";
                continue;
            }
            var full = Path.GetFullPath(root);
            if (IsForbidden(full))
                yield return $"Server:DataRoots: '{root}' is a system folder (/dev, /proc, /sys or one above them)";
            else if (!Directory.Exists(full))
                yield return $"Server:DataRoots: '{root}' is not a folder";
        }
    }

    /// <summary>The examples of a dataset reference: builtin:synthetic?…, or a JSONL file or folder under a root.</summary>
    public IReadOnlyList<TextExample> Load(string reference)
    {
        if (reference.Length > MaxReferenceLength)
            throw new DataFormatException($"a dataset reference is at most {MaxReferenceLength} characters, got {reference.Length}");
        if (reference.StartsWith(SyntheticSkills.Reference, StringComparison.Ordinal))
            return DatasetSource.Load(reference);
        var path = Path.GetFullPath(reference);
        if (!IsAllowed(path))
            throw Outside(reference);
        var examples = new List<TextExample>();
        foreach (var file in JsonlExamples.FilesOf(path))
        {
            var target = FinalTarget(file);
            if (!IsAllowed(target))
                throw Outside(file);
            var length = new FileInfo(target).Length;
            if (length > MaxFileBytes)
                throw new DataFormatException($"{file}: {length} bytes; an evaluation file may hold at most {MaxFileBytes} bytes");
            try
            {
                examples.AddRange(JsonlExamples.Load(file));
            }
            catch (DataFormatException e) when (e.Location is { } where)
            {
                // The file's own words could be anything the server can read (a token, a key): name only where.
                throw new DataFormatException($"{where}: not a valid JSONL record (its content is not shown here; check the file with the client's data loader)", where);
            }
        }
        return examples;
    }

    private DataFormatException Outside(string path)
        => new($"{path} is outside the folders the server reads data from ({string.Join(", ", Roots)}; set Server:DataRoots)");

    /// <summary>The path with every link along it followed (as realpath does): what would actually be read.</summary>
    private static string FinalTarget(string path, int depth = 0)
    {
        if (depth > 40)
            throw new DataFormatException($"{path}: too many levels of links");
        var current = Path.GetPathRoot(path) ?? "/";
        foreach (var part in Path.GetFullPath(path)[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                next = FinalTarget(target.FullName, depth + 1);
            current = next;
        }
        return current;
    }

    private bool IsAllowed(string fullPath)
        => !IsForbidden(fullPath) && Roots.Any(root => IsUnder(fullPath, root));

    private static bool IsForbidden(string fullPath)
        => Forbidden.Any(f => IsUnder(fullPath, f) || IsUnder(f, fullPath));

    private static bool IsUnder(string path, string folder)
    {
        folder = Path.TrimEndingDirectorySeparator(folder);
        return path.Equals(folder, StringComparison.Ordinal)
            || (path.StartsWith(folder, StringComparison.Ordinal) && path.Length > folder.Length && path[folder.Length] == Path.DirectorySeparatorChar)
            || folder == "/";
    }
}
