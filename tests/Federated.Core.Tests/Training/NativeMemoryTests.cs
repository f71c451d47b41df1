using Federated.Core.Data;
using Federated.Core.Model;
using Federated.Core.Runtime;
using Federated.Core.Training;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Training;

/// <summary>Tests that read process-wide counters, so they run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeMemoryCollection
{
    public const string Name = "native memory";
}

[Collection(NativeMemoryCollection.Name)]
public class NativeMemoryTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Two_hundred_steps_leave_native_memory_flat_after_warm_up(bool checkpointing)
    {
        var examples = TokenizedExample.FromAll(SyntheticSkills.Generate(300, 4, DataSplit.Train), 64);
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        model.AttachLora(new LoraSettings(8, 16, 0.05), TargetModules.All, seed: 1);
        var tensors = new long[201];
        var heap = new long[201];
        LoraTrainer.Train(model, examples, new TrainingOptions { Steps = 200, BatchSize = 8, GradientAccumulationSteps = 2, GradientCheckpointing = checkpointing, LearningRate = 1e-3 }, progress =>
        {
            tensors[progress.Step] = Tensor.TotalCount;
            heap[progress.Step] = NativeHeap.InUse;
        });
        Assert.True(tensors[200] - tensors[50] <= 2, $"live tensors {tensors[50]} at step 50, {tensors[200]} at step 200");
        // One step's activations here are about 1 MB, so a leak of even one tensor per step would pass 16 MB.
        Assert.True(heap[200] - heap[50] < 16 << 20, $"C heap {heap[50] >> 20} MiB at step 50, {heap[200] >> 20} MiB at step 200");
    }

    [Fact]
    public void Gradient_checkpointing_keeps_far_fewer_activations_in_a_deep_model()
    {
        var config = new LlamaConfig
        {
            VocabSize = ByteTokenizer.VocabularySize,
            HiddenSize = 128,
            IntermediateSize = 384,
            NumLayers = 8,
            NumHeads = 4,
            NumKeyValueHeads = 4,
            MaxPositionEmbeddings = 128,
            TieWordEmbeddings = true,
        };
        using var model = BuiltinModels.Create(config, "deep", CPU);
        model.AttachLora(new LoraSettings(8, 16), TargetModules.All, seed: 1);
        model.train();
        var random = new Random(3);
        var batch = Enumerable.Range(0, 8).Select(_ => new TokenizedExample(Enumerable.Range(0, 128).Select(_ => random.Next(3, 256)).ToArray(), 1)).ToList();

        long ActivationBytes(bool checkpointing)
        {
            model.GradientCheckpointing = checkpointing;
            var before = NativeHeap.InUse;
            using var scope = NewDisposeScope();
            var (inputs, targets, _) = Batch.Create(batch, CPU);
            var logits = model.forward(inputs);
            var loss = nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets.view(-1), ignore_index: Batch.IgnoreIndex);
            var held = NativeHeap.InUse - before;
            loss.backward();
            return held;
        }
        ActivationBytes(false); // warm-up
        var plain = ActivationBytes(false);
        var checkpointed = ActivationBytes(true);
        Assert.True(checkpointed * 3 < plain, $"activations held before backward: {checkpointed >> 10} KiB with checkpointing, {plain >> 10} KiB without");
    }

    [Fact]
    public void Backward_through_checkpointed_layers_leaves_no_handles_behind_per_layer()
    {
        // TorchSharp never disposes the gradients a custom function returns; unless each layer's backward frees
        // the previous layer's, every layer adds its input and LoRA gradients to the caller's scope until it ends.
        int HandlesLeftByBackward(int layers)
        {
            var config = new LlamaConfig
            {
                VocabSize = ByteTokenizer.VocabularySize,
                HiddenSize = 64,
                IntermediateSize = 160,
                NumLayers = layers,
                NumHeads = 4,
                NumKeyValueHeads = 2,
                MaxPositionEmbeddings = 64,
                TieWordEmbeddings = true,
            };
            using var model = BuiltinModels.Create(config, "handles", CPU);
            model.AttachLora(new LoraSettings(4, 8), TargetModules.All, seed: 1);
            model.train();
            model.GradientCheckpointing = true;
            var random = new Random(5);
            var batch = Enumerable.Range(0, 2).Select(_ => new TokenizedExample(Enumerable.Range(0, 48).Select(_ => random.Next(3, 256)).ToArray(), 1)).ToList();
            using var scope = NewDisposeScope();
            var (inputs, targets, _) = Batch.Create(batch, CPU);
            var hidden = model.Hidden(inputs);
            var loss = ChunkedCrossEntropy.Sum(hidden.reshape(-1, hidden.shape[^1]), model.HeadWeight, targets.view(-1));
            var before = scope.DisposablesCount;
            loss.backward();
            var left = scope.DisposablesCount - before;
            Assert.All(model.LoraParameters(), p => Assert.NotNull(p.grad));
            return left;
        }

        Assert.Equal(HandlesLeftByBackward(2), HandlesLeftByBackward(6));
    }

    [Fact]
    public void Freed_tensors_go_back_to_the_system_instead_of_staying_in_glibcs_arenas()
    {
        // glibc's default raises its mmap threshold to the largest block freed, so the second 4 MiB tensor and every
        // one after it would come from (and, freed, stay in) an arena; NativeMemorySettings fixes the threshold.
        for (int i = 0; i < 3; i++)
        {
            // Earlier tests' undisposed tensors freed by the finalizer thread mid-measurement would cancel the
            // counters out (a 4 MiB block unmapped as ours is mapped reads "0 KiB more"): finalize them first.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var mapped = NativeHeap.Mapped;
            var free = NativeHeap.FreeInArenas;
            using (var tensor = ones(1 << 20))
                Assert.True(NativeHeap.Mapped - mapped >= 4 << 20, $"allocation {i + 1}: {(NativeHeap.Mapped - mapped) >> 10} KiB more mmapped for a 4 MiB tensor");
            Assert.True(NativeHeap.FreeInArenas - free < 1 << 20, $"allocation {i + 1}: {(NativeHeap.FreeInArenas - free) >> 10} KiB more held free in the arenas");
        }
    }

    [Fact]
    public void Mkl_buffer_cache_is_off_in_the_environment_native_code_reads()
    {
        // Applied on Linux only (where libc's setenv is what MKL reads).
        Assert.Equal(OperatingSystem.IsLinux(), Federated.Core.Runtime.NativeMemorySettings.MklCacheDisabled);
    }
}
