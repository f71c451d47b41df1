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
/// Local training figures: tokens/s and peak memory of LoRA fine-tuning against the same step in PyTorch
/// (<see cref="TorchPeer"/>) and FLOP utilisation against this machine's f32 GEMM rate, both measured in the
/// same run, and peak memory of fine-tuning against the size of the frozen weights.
/// </summary>
public sealed class TrainingBench : IBenchSection
{
    private const int Rank = 16;

    public string Name => "training";

    public string Description => "LoRA training tokens/s and peak memory vs a PyTorch peer of the same shape, FLOP utilisation vs the f32 GEMM peak, peak memory vs frozen weights";

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
        Throughput(config, quick, cancellationToken);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Tokens/s and peak resident memory of plain LoRA training (one batch, no checkpointing), ours and the PyTorch
    /// peer's in interleaved pairs (the order alternating), so a busy machine slows both alike; medians and ranges.
    /// </summary>
    private static void Throughput(LlamaConfig config, bool quick, CancellationToken cancellationToken)
    {
        const int sequence = 256, batch = 8;
        int warmup = quick ? 1 : 2, measured = quick ? 2 : 6, pairs = quick ? 1 : 3;
        var threads = (int)get_num_threads();
        var peak = GemmFlopsPerSecond(float32, quick ? 1024 : 2048, repeats: 6);
        var unavailable = TorchPeer.Unavailable();
        var own = new List<OwnRunResult>();
        var peer = new List<PeerRun>();
        for (int pair = 0; pair < pairs; pair++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (unavailable is null && pair % 2 == 1)
                peer.Add(TorchPeer.Measure(config, sequence, batch, Rank, threads, warmup, measured));
            own.Add(OwnRun(config, sequence, batch, warmup, measured, cancellationToken));
            if (unavailable is null && pair % 2 == 0)
                peer.Add(TorchPeer.Measure(config, sequence, batch, Rank, threads, warmup, measured));
        }

        var flops = TrainingFlops.Of(config, sequence, Rank);
        var ownSpeed = Spread.Of(own.Select(r => r.TokensPerSecond));
        AnsiConsole.MarkupLine($"f32 GEMM peak measured here: {peak / 1e9:F1} GFLOP/s. Executed FLOP/token {Giga(flops.Executed)} = {TrainingFlops.Counted} "
            + $"({Giga(flops.SixTimesParameters)} by 6·parameters + attention, which counts weight gradients the frozen base never gets). "
            + $"{pairs} run(s) of {warmup} warm-up + {measured} measured steps; memory is all resident above a baseline taken before the model is built, the kernel's exact peak (VmHWM).");
        var table = new Table().AddColumns("Case", "Tokens/s", "Executed FLOP/s ÷ GEMM peak (target ≥ 0.35)", "Peak resident above baseline", "Per measured step: minor page faults, CPU s (kernel share)");
        var shape = $"Llama d={config.HiddenSize} L={config.NumLayers} ff={config.IntermediateSize} V={config.VocabSize} tied, LoRA r={Rank} on q,k,v,o,gate,up,down; batch {batch} × {sequence}, f32, AdamW, {threads} threads";
        var ownPeak = Spread.Of(own.Select(r => (double)r.Peak));
        table.AddRow($"This project: {shape}", ownSpeed.Show("F0"), Ratio(flops.Executed * ownSpeed.Median / peak, 0.35), ownPeak.ShowBytes(), PerStep(own.Select(r => r.Counters), measured));
        if (unavailable is not null)
        {
            AnsiConsole.MarkupLine($"[yellow]PyTorch peer not run: {Markup.Escape(unavailable)}.[/]");
            AnsiConsole.Write(table);
            return;
        }
        var first = peer[0];
        var peerSpeed = Spread.Of(peer.Select(r => r.TokensPerSecond));
        var peerPeak = Spread.Of(peer.Select(r => (double)r.PeakAboveBaseline));
        table.AddRow($"PyTorch {Markup.Escape(first.Torch)} ({TorchPeer.Script}), same shape and step", peerSpeed.Show("F0"), (flops.Executed * peerSpeed.Median / peak).ToString("F2", CultureInfo.InvariantCulture), peerPeak.ShowBytes(), PerStep(peer.Select(r => r.Counters), measured));
        var speedRatio = Spread.Of(own.Zip(peer, (o, p) => o.TokensPerSecond / p.TokensPerSecond));
        var memoryRatio = Spread.Of(own.Zip(peer, (o, p) => (double)o.Peak / p.PeakAboveBaseline));
        // Tokens per CPU-second: what a loaded machine disturbs least (both sides' CPU time per measured step).
        static double Cpu(ProcessCounters c) => c.UserSeconds + c.KernelSeconds;
        var cpuRatio = Spread.Of(own.Zip(peer, (o, p) => Cpu(p.Counters) / Math.Max(1e-9, Cpu(o.Counters))));
        table.AddRow("This project ÷ PyTorch, per pair", $"{Ratio(speedRatio.Median, 1.0)} ({speedRatio.Range("F2")}) target ≥ 1.0", "",
            $"{Ratio(memoryRatio.Median, 0.5, lowerIsBetter: true)} ({memoryRatio.Range("F2")}) target ≤ 0.5",
            $"tokens per CPU-second {cpuRatio.Median.ToString("F2", CultureInfo.InvariantCulture)} ({cpuRatio.Range("F2")})");
        AnsiConsole.MarkupLine($"PyTorch peer: {first.Threads} threads, attention by {Markup.Escape(first.Attention)}, peak read as {Markup.Escape(first.PeakReading)}, "
            + $"BLAS and OpenMP libraries mapped: {Markup.Escape(first.Blas.Count == 0 ? "none found" : string.Join(", ", first.Blas))}.");
        AnsiConsole.Write(table);
    }

    /// <summary>One run of ours: a fresh model, its tokens/s over the measured steps and its peak resident memory above the baseline before it.</summary>
    private static OwnRunResult OwnRun(LlamaConfig config, int sequence, int batch, int warmup, int measured, CancellationToken cancellationToken)
    {
        Settle();
        var baseline = ResidentMemory.All();
        var exact = ResidentMemory.ResetPeak();
        using var sampler = exact ? null : new PeakSampler(ResidentMemory.All);
        var times = new double[warmup + measured + 1];
        ProcessCounters start = default, end = default;
        using (var model = CreateModel(config))
        {
            model.AttachLora(new LoraSettings(Rank, 2 * Rank), TargetModules.All, seed: 1);
            var examples = RandomExamples(config, 64, sequence + 1, seed: 5);
            var clock = Stopwatch.StartNew();
            LoraTrainer.Train(model, examples, new TrainingOptions { Steps = warmup + measured, BatchSize = batch, LearningRate = 1e-4, GroupByLength = false },
                p =>
                {
                    times[p.Step] = clock.Elapsed.TotalSeconds;
                    if (p.Step == warmup)
                        start = ProcessCounters.Read();
                    else if (p.Step == warmup + measured)
                        end = ProcessCounters.Read();
                }, cancellationToken);
        }
        var peak = exact ? ResidentMemory.KernelPeak() : sampler!.Stop();
        return new OwnRunResult((double)measured * batch * sequence / (times[warmup + measured] - times[warmup]), peak - baseline, end - start);
    }

    /// <summary>Medians over runs of faults and CPU seconds per step, and the kernel's share of that CPU time.</summary>
    private static string PerStep(IEnumerable<ProcessCounters> runs, int steps)
    {
        var list = runs.ToList();
        var faults = Spread.Of(list.Select(c => (double)c.MinorFaults / steps)).Median;
        var cpu = Spread.Of(list.Select(c => (c.UserSeconds + c.KernelSeconds) / steps)).Median;
        var kernel = Spread.Of(list.Select(c => c.KernelSeconds / Math.Max(1e-9, c.UserSeconds + c.KernelSeconds))).Median;
        return string.Create(CultureInfo.InvariantCulture, $"{faults:N0} faults, {cpu:F2} s ({kernel:P0} kernel)");
    }

    private readonly record struct OwnRunResult(double TokensPerSecond, long Peak, ProcessCounters Counters);

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
}
