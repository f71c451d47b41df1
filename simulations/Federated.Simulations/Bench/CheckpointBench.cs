using System.Globalization;
using Federated.Core.Checkpoints;
using Federated.Core.Model;
using Federated.Core.Tensors;
using Spectre.Console;
using static Federated.Simulations.Bench.BenchMeasure;
using static TorchSharp.torch;

namespace Federated.Simulations.Bench;

/// <summary>
/// Loading a Hugging Face directory (config.json + model.safetensors) into a float32 model on the CPU, against a
/// plain read of the same files' bytes into new memory (as File.ReadAllBytes, or numpy copying from a memory map),
/// in the same run, with the files in the page cache for both. A BF16 load writes twice the bytes it reads.
/// </summary>
public sealed class CheckpointBench : IBenchSection
{
    private const int ReadBlockBytes = 16 << 20;

    public string Name => "checkpoint";

    public string Description => "safetensors directory to a float32 model, against a plain read of the same bytes";

    /// <summary>d=1024, 17 layers, 16 heads over 4 KV heads, SwiGLU 2816, vocabulary 32000, tied: 223M parameters, 446 MB as BF16.</summary>
    public static LlamaConfig Config(bool quick) => new()
    {
        VocabSize = 32000,
        HiddenSize = 1024,
        IntermediateSize = 2816,
        NumLayers = quick ? 4 : 17,
        NumHeads = 16,
        NumKeyValueHeads = 4,
        MaxPositionEmbeddings = 2048,
        TieWordEmbeddings = true,
    };

    public Task RunAsync(bool quick, CancellationToken cancellationToken)
    {
        var config = Config(quick);
        using var folder = new BenchFolder();
        var table = new Table().AddColumns("Checkpoint", "Plain read", "Load", "Load / read (target ≤ 1.5)");
        foreach (var dtype in new[] { TensorDType.BF16, TensorDType.F32 })
        {
            cancellationToken.ThrowIfCancellationRequested();
            var directory = Path.Combine(folder.Path, dtype.ToString());
            using (var model = RandomModel(config))
                HuggingFaceCheckpoint.Save(model, directory, dtype);
            var files = Directory.GetFiles(directory, "*.safetensors");
            var bytes = files.Sum(f => new FileInfo(f).Length);
            long Read() => files.Sum(ReadAll);
            int Load()
            {
                using var model = HuggingFaceCheckpoint.Load(directory, CPU);
                return model.Config.NumLayers;
            }
            Read(); // into the page cache
            Load(); // warm-up: code paths and allocator
            var reads = new List<double>();
            var loads = new List<double>();
            for (int i = 0; i < 3; i++)
            {
                reads.Add(Best(Read, repeats: 1));
                loads.Add(Best(Load, repeats: 1));
            }
            var read = Spread.Of(reads);
            var load = Spread.Of(loads);
            table.AddRow($"{dtype}, {bytes / 1e6:F0} MB ({config.ParameterCount / 1e6:F0}M parameters, d={config.HiddenSize} L={config.NumLayers})",
                Seconds(read, bytes), Seconds(load, bytes), Ratio(load.Median / read.Median, 1.5, lowerIsBetter: true));
            Directory.Delete(directory, recursive: true);
        }
        AnsiConsole.MarkupLine("Median of 3 alternating runs each (range in brackets), files in the page cache, both into new memory; the model is float32 on the CPU.");
        AnsiConsole.Write(table);
        return Task.CompletedTask;
    }

    /// <summary>The file into fresh memory, in large blocks: what a loader must at least do.</summary>
    private static long ReadAll(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)stream.Length));
        for (int at = 0; at < bytes.Length;)
            at += stream.Read(bytes, at, Math.Min(ReadBlockBytes, bytes.Length - at));
        return bytes.LongLength;
    }

    /// <summary>Weights drawn by libtorch (the figures do not depend on them; norms stay 1).</summary>
    private static LlamaForCausalLM RandomModel(LlamaConfig config)
    {
        var model = new LlamaForCausalLM(config, CPU);
        using var noGrad = no_grad();
        random.manual_seed(1);
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!name.EndsWith("norm.weight", StringComparison.Ordinal))
                parameter.normal_(0, 0.02);
        }
        return model;
    }

    private static string Seconds(Spread seconds, long bytes)
        => $"{seconds.Show("F3")} s, {(bytes / seconds.Median / 1e9).ToString("F2", CultureInfo.InvariantCulture)} GB/s";

    private sealed class BenchFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("federated-load-bench").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
