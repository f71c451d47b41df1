using System.Diagnostics;

namespace Federated.Fuzz;

/// <summary>Runs saved inputs (a crash to reproduce, a corpus to check) through a target without instrumentation.</summary>
public static class Replay
{
    public static int Run(IFuzzTarget target, string path, bool verbose = false)
    {
        var files = Directory.Exists(path)
            ? Directory.GetFiles(path, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.') && !f.EndsWith("README.txt", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList()
            : [path];
        int failed = 0;
        foreach (var file in files)
        {
            var clock = Stopwatch.StartNew();
            bool accepted;
            try
            {
                accepted = target.Run(File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"FAIL {file}: {e}");
                continue;
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(1))
                Console.WriteLine($"SLOW {file}: {clock.Elapsed.TotalMilliseconds:F0} ms");
            if (verbose)
                Console.WriteLine(accepted ? $"accepted {file}" : $"refused  {file}: {Refusal.Last}");
        }
        Console.WriteLine($"{target.Name}: {files.Count} inputs, {failed} failed");
        return failed == 0 ? 0 : 1;
    }
}
