using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Federated.Core.Model;

namespace Federated.Simulations.Bench;

/// <summary>
/// Runs torch_peer.py (next to the bench's binaries) with a python3 that has torch: the same LoRA training step in
/// PyTorch, in its own process, reporting tokens/s and peak resident memory above its own baseline. Debian's
/// python3-torch links the reference BLAS through the libblas.so.3 alternative; when Debian's OpenMP OpenBLAS
/// (libopenblas0-openmp) is installed, the peer gets it first on LD_LIBRARY_PATH, and reports the BLAS it mapped.
/// </summary>
public static class TorchPeer
{
    public const string Script = "torch_peer.py";

    /// <summary>Where libopenblas0-openmp puts its libblas.so.3.</summary>
    public const string OpenBlasDirectory = "/usr/lib/x86_64-linux-gnu/openblas-openmp";

    /// <summary>Names the interpreter to use instead of the python3 on PATH or /usr/bin/python3 (the first with torch).</summary>
    public const string PythonVariable = "FEDERATED_BENCH_PYTHON";

    private static string _python = "python3";

    /// <summary>
    /// Null when the peer can run; otherwise one line saying why not. Tries $FEDERATED_BENCH_PYTHON, then the
    /// python3 on PATH, then /usr/bin/python3 (Debian's python3-torch is only on the system interpreter's path,
    /// which a pyenv or venv python3 on PATH hides).
    /// </summary>
    public static string? Unavailable()
    {
        var script = Path.Combine(AppContext.BaseDirectory, Script);
        if (!File.Exists(script))
            return $"{script} is missing (it is copied next to the binaries at build time)";
        var chosen = Environment.GetEnvironmentVariable(PythonVariable);
        string[] candidates = string.IsNullOrEmpty(chosen) ? ["python3", "/usr/bin/python3"] : [chosen];
        var reasons = new List<string>();
        foreach (var python in candidates.Distinct())
        {
            try
            {
                // find_spec does not import torch (seconds): it only asks whether the module is there.
                var (code, output) = Run(python, ["-c", "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('torch') else 3)"], TimeSpan.FromSeconds(60));
                if (code == 0)
                {
                    _python = python;
                    return null;
                }
                reasons.Add(code == 3 ? $"{python} has no torch module" : $"{python} failed ({code}): {output.Trim()}");
            }
            catch (Win32Exception)
            {
                reasons.Add($"no {python}");
            }
        }
        return $"{string.Join("; ", reasons)} (Debian: apt-get install python3-torch libopenblas0-openmp; or set {PythonVariable})";
    }

    /// <summary>One run of the peer on <paramref name="config"/>'s shape.</summary>
    public static PeerRun Measure(LlamaConfig config, int sequence, int batch, int rank, int threads, int warmup, int measured)
    {
        string[] arguments =
        [
            Path.Combine(AppContext.BaseDirectory, Script),
            "--dim", Text(config.HiddenSize), "--layers", Text(config.NumLayers), "--heads", Text(config.NumHeads),
            "--kv-heads", Text(config.NumKeyValueHeads), "--mlp", Text(config.IntermediateSize), "--vocab", Text(config.VocabSize),
            "--seq", Text(sequence), "--batch", Text(batch), "--rank", Text(rank), "--alpha", Text(2 * rank),
            "--threads", Text(threads), "--warmup", Text(warmup), "--steps", Text(measured),
            "--theta", config.RopeTheta.ToString(CultureInfo.InvariantCulture),
        ];
        var (code, output) = Run(_python, arguments, TimeSpan.FromMinutes(30));
        var last = output.TrimEnd().Split('\n')[^1];
        if (code != 0 || !last.StartsWith('{'))
            throw new InvalidOperationException($"{Script} failed ({code}): {output.Trim()}");
        using var json = JsonDocument.Parse(last);
        var root = json.RootElement;
        return new PeerRun(
            root.GetProperty("tokens_per_second").GetDouble(),
            root.GetProperty("peak_above_baseline").GetInt64(),
            root.GetProperty("torch").GetString()!,
            root.GetProperty("threads").GetInt32(),
            [.. root.GetProperty("blas").EnumerateArray().Select(e => e.GetString()!)],
            root.GetProperty("attention").GetString()!,
            root.GetProperty("peak_reading").GetString()!,
            new ProcessCounters(root.GetProperty("minor_faults").GetInt64(), root.GetProperty("user_seconds").GetDouble(), root.GetProperty("kernel_seconds").GetDouble()));
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static (int Code, string Output) Run(string python, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        if (Directory.Exists(OpenBlasDirectory))
        {
            var existing = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            start.Environment["LD_LIBRARY_PATH"] = string.IsNullOrEmpty(existing) ? OpenBlasDirectory : $"{OpenBlasDirectory}:{existing}";
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{python} did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{python} {Script} ran past {timeout.TotalMinutes:F0} minutes");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>What one run of the PyTorch peer measured, and with what; <see cref="Counters"/> cover the measured steps.</summary>
public sealed record PeerRun(double TokensPerSecond, long PeakAboveBaseline, string Torch, int Threads, IReadOnlyList<string> Blas, string Attention, string PeakReading, ProcessCounters Counters);
