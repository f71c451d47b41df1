using Federated.Core.Generation;
using Federated.Core.Model;
using Federated.Core.Runtime;
using Federated.Core.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Generation;

/// <summary>Generation frees its key/value cache and every step's tensors: native memory stays flat from one run to the next.</summary>
[Collection(NativeMemoryCollection.Name)]
public class GenerationMemoryTests
{
    [Fact]
    public void Three_generations_leave_native_memory_flat()
    {
        // Wide KV heads, few layers and a narrow MLP: a large cache for little compute.
        var config = BuiltinModels.Config(BuiltinModels.Small) with
        {
            HiddenSize = 1024, IntermediateSize = 128, NumLayers = 2, NumHeads = 8, NumKeyValueHeads = 8, MaxPositionEmbeddings = 1024, EosTokenIds = [],
        };
        using var model = BuiltinModels.Create(config, "memory", CPU);
        int[] prompt = [256, 'h', 'i'];
        const int tokens = 500;
        // One cache: 2 layers × K and V × 1024 × 502 positions × 4 bytes ≈ 8 MiB, where the heap's own noise is about 1 MiB.
        var cacheBytes = 2L * config.NumLayers * config.NumKeyValueHeads * config.HeadDim * (prompt.Length + tokens - 1) * sizeof(float);
        TokenGenerator.Generate(model, prompt, tokens); // warm-up
        // Counted on this thread only: a tensor left to the finalizer is disposed on its thread, so it stays counted here.
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var heap = Settled();
        for (int run = 0; run < 3; run++)
            Assert.Equal(tokens, TokenGenerator.Generate(model, prompt, tokens).Count);
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        var grown = Settled() - heap;
        Assert.True(grown < cacheBytes / 2, $"C heap grew by {grown >> 10} KiB over three generations; one cache is {cacheBytes >> 10} KiB");
    }

    private static long Settled()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return NativeHeap.InUse;
    }
}
