using System.Diagnostics;
using System.Globalization;
using Federated.Core.Data;
using Federated.Core.Model;
using Federated.Core.Runtime;
using Federated.Core.Training;
using Spectre.Console;
using static Federated.Simulations.Bench.BenchMeasure;
using static TorchSharp.torch;

namespace Federated.Simulations.Bench;

/// <summary>
/// Local training figures: model FLOP utilisation of LoRA fine-tuning against this machine's f32 GEMM rate
/// measured in the same run, and peak memory of fine-tuning against the size of the frozen weights.
/// </summary>
public sealed class TrainingBench : IBenchSection
{
    private const int Rank = 16;

    public string Name => "training";

    public string Description => "LoRA training FLOP utilisation vs the f32 GEMM peak, peak memory vs frozen weights";

    /// <summary>dim 512, 6 layers, 8 heads, SwiGLU 1376, vocabulary 8192, tied embeddings: about 23M parameters.</summary>
    public static LlamaConfig Config(bool quick) => new()
    {
        VocabSize = quick ? 4096 : 8192,
        HiddenSize = quick ? 256 : 512,
        IntermediateSize = quick ? 688 : 1376,
        NumLayers = quick ? 4 : 6,
        NumHeads = 8,
        NumKeyValueHeads = 8,
        MaxPositionEmbeddings = 256,
        TieWordEmbeddings = true,
    };

    public Task RunAsync(bool quick, CancellationToken cancellationToken)
    {
        set_num_threads(Environment.ProcessorCount);
        var config = Config(quick);
        // Memory first, against the resident size before any model exists.
        Memory(config, quick, cancellationToken);
        Utilisation(config, quick, cancellationToken);
        return Task.CompletedTask;
    }

    private static void Utilisation(LlamaConfig config, bool quick, CancellationToken cancellationToken)
    {
        const int sequence = 256;
        int batch = 8, warmup = quick ? 1 : 2, measured = quick ? 2 : 8;
        var peak = GemmFlopsPerSecond(float32, quick ? 1024 : 2048, repeats: 6);
        using var model = CreateModel(config);
        model.AttachLora(new LoraSettings(Rank, 2 * Rank), TargetModules.All, seed: 1);
        var examples = RandomExamples(config, 64, sequence + 1, seed: 5);
        var times = new double[warmup + measured + 1];
        var clock = Stopwatch.StartNew();
        LoraTrainer.Train(model, examples, new TrainingOptions { Steps = warmup + measured, BatchSize = batch, LearningRate = 1e-4, GroupByLength = false },
            p => times[p.Step] = clock.Elapsed.TotalSeconds, cancellationToken);
        var tokensPerSecond = (double)measured * batch * sequence / (times[warmup + measured] - times[warmup]);

        var flops = FlopsPerToken.Of(config, sequence, Rank);
        var mfu = flops.Issue * tokensPerSecond / peak;
        var executed = flops.Executed * tokensPerSecond / peak;
        var table = new Table().AddColumns("Case", "Tokens/s", "6·P_path + 6·L·d·T FLOP/token", "MFU (target ≥ 0.35)", "Executed FLOP/token", "Executed ÷ peak");
        table.AddRow($"{Describe(model)}, LoRA r={Rank} on q,k,v,o,gate,up,down; batch {batch} × {sequence}, f32, {get_num_threads()} threads",
            tokensPerSecond.ToString("F0", CultureInfo.InvariantCulture), Giga(flops.Issue), Ratio(mfu, 0.35), Giga(flops.Executed), executed.ToString("F2", CultureInfo.InvariantCulture));
        AnsiConsole.MarkupLine($"f32 GEMM peak measured here: {peak / 1e9:F1} GFLOP/s. P_path = {flops.PathParameters:N0} weights of every linear layer and the tied head + LoRA factors; "
            + "attention 6·L·d·T is PaLM's 12·L·d·T halved for the causal mask. Executed = 4·(frozen linear weights) + 6·(LoRA factors) + 6·L·d·T: LoRA computes no frozen weight gradients.");
        AnsiConsole.Write(table);
    }

    private static void Memory(LlamaConfig config, bool quick, CancellationToken cancellationToken)
    {
        const int sequence = 256, batch = 8;
        WarmUpLibtorch(cancellationToken);
        var examples = RandomExamples(config, 32, sequence + 1, seed: 7);
        var table = new Table().AddColumns("Case (batch 8 × 256, f32)", "Frozen weights", "Peak resident above the case's baseline: own memory", "Ratio (target ≤ 1.5)", "All resident", "Ratio", "Peak C heap in use above baseline", "Ratio");
        // From the leanest to the heaviest, so memory one case leaves behind is below the next one's peak.
        var cases = new (string Name, bool Checkpointing, int MicroBatches)[]
        {
            ("checkpointing + 8 micro-batches of 1", true, 8),
            ("checkpointing, one batch", true, 1),
            ("plain, one batch", false, 1),
        };
        foreach (var (name, checkpointing, micro) in cases)
        {
            // Each case builds its own model against a baseline taken just before: the previous case's tensors
            // have gone back to the system (NativeMemorySettings), so its leftovers do not count.
            Settle();
            var baseline = ResidentMemory.All();
            var ownBaseline = ResidentMemory.Own();
            var heapBaseline = NativeHeap.InUse;
            using var model = CreateModel(config);
            model.AttachLora(new LoraSettings(Rank, 2 * Rank), TargetModules.All, seed: 1);
            // LoRA factors are not module parameters: this is the frozen weights alone.
            var weights = model.parameters().Sum(p => p.numel() * p.element_size());
            using var sampler = new PeakSampler(ResidentMemory.All);
            using var own = new PeakSampler(ResidentMemory.Own);
            using var heap = new PeakSampler(() => NativeHeap.InUse);
            LoraTrainer.Train(model, examples, new TrainingOptions { Steps = quick ? 2 : 3, BatchSize = batch, GradientAccumulationSteps = micro, GradientCheckpointing = checkpointing, LearningRate = 1e-4 },
                cancellationToken: cancellationToken);
            var peak = sampler.Stop() - baseline;
            var ownPeak = own.Stop() - ownBaseline;
            var heapPeak = heap.Stop() - heapBaseline;
            table.AddRow($"{Describe(model)}: {name}", BenchShapes.Bytes(weights), BenchShapes.Bytes(ownPeak), Ratio((double)ownPeak / weights, 1.5, lowerIsBetter: true),
                BenchShapes.Bytes(peak), Ratio((double)peak / weights, 1.5, lowerIsBetter: true),
                BenchShapes.Bytes(heapPeak), Ratio((double)heapPeak / weights, 1.5, lowerIsBetter: true));
        }
        AnsiConsole.MarkupLine("Each case's baseline is taken just before its model is built, after a throwaway training run of builtin:tiny has started libtorch's thread pools; "
            + "own memory is resident minus file-backed and shared pages (libtorch's code paged in on first use is not the run's memory); "
            + $"the C heap is glibc's bytes in use (mallinfo2), sampled every millisecond. MKL's buffer cache is {(NativeMemorySettings.MklCacheDisabled ? "off" : "on")} ({NativeMemorySettings.MklFastMemoryVariable}).");
        AnsiConsole.Write(table);
    }

    private static void WarmUpLibtorch(CancellationToken cancellationToken)
    {
        using var tiny = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        tiny.AttachLora(new LoraSettings(4, 8), TargetModules.All, seed: 1);
        var examples = RandomExamples(BuiltinModels.Config(BuiltinModels.Tiny), 8, 65, seed: 3);
        LoraTrainer.Train(tiny, examples, new TrainingOptions { Steps = 2, BatchSize = 4, GradientCheckpointing = true }, cancellationToken: cancellationToken);
    }

    /// <summary>A model of <paramref name="config"/>'s shape with random weights drawn by libtorch (no managed copies).</summary>
    private static LlamaForCausalLM CreateModel(LlamaConfig config)
    {
        var model = new LlamaForCausalLM(config, CPU);
        using var noGrad = no_grad();
        random.manual_seed(1);
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name == "model.norm.weight")
                parameter.fill_(1.0 / Math.Sqrt(config.HiddenSize));
            else if (!name.EndsWith("norm.weight", StringComparison.Ordinal))
                parameter.normal_(0, name.Contains("embed_tokens", StringComparison.Ordinal) ? 1.0 : 1.0 / Math.Sqrt(parameter.shape[^1]));
        }
        return model;
    }

    private static List<TokenizedExample> RandomExamples(LlamaConfig config, int count, int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => new TokenizedExample(Enumerable.Range(0, length).Select(_ => random.Next(config.VocabSize)).ToArray(), 1)).ToList();
    }

    private static string Describe(LlamaForCausalLM model)
    {
        var c = model.Config;
        var parameters = model.parameters().Sum(p => p.numel());
        return $"Llama d={c.HiddenSize} L={c.NumLayers} ff={c.IntermediateSize} V={c.VocabSize} ({parameters / 1e6:F1}M parameters)";
    }

    private static void Settle()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    private static string Giga(double flops) => $"{flops / 1e6:F1} M";

    /// <summary>Training FLOPs per token of a Llama with LoRA of rank r on its seven decoder projections.</summary>
    private readonly record struct FlopsPerToken(double PathParameters, double Issue, double Executed)
    {
        public static FlopsPerToken Of(LlamaConfig c, int sequence, int rank)
        {
            double d = c.HiddenSize, f = c.IntermediateSize, kv = (double)c.NumKeyValueHeads * c.HeadDim, q = (double)c.NumHeads * c.HeadDim;
            var perLayer = d * q + 2 * d * kv + q * d + 3 * d * f;
            var frozen = c.NumLayers * perLayer + (double)c.VocabSize * d;
            var lora = c.NumLayers * rank * ((d + q) + 2 * (d + kv) + (q + d) + 2 * (d + f) + (f + d));
            var attention = 6.0 * c.NumLayers * q * sequence;
            return new FlopsPerToken(frozen + lora, 6 * (frozen + lora) + attention, 4 * frozen + 6 * lora + attention);
        }
    }
}
