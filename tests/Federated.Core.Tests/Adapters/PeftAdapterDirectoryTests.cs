using System.Buffers.Binary;
using System.Text.Json;
using Federated.Core.Adapters;
using Federated.Core.Adapters.Peft;
using Federated.Core.Aggregation;
using Federated.Core.Tensors;
using Federated.Core.Tests.Aggregation;

namespace Federated.Core.Tests.Adapters;

public sealed class PeftAdapterDirectoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("peft-tests-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_stacked_mixed_rank_adapter_exports_so_PEFT_applies_exactly_the_weighted_sum()
    {
        var clients = new[] { (Rank: 4, Alpha: 8.0), (Rank: 8, Alpha: 32.0), (Rank: 16, Alpha: 16.0) };
        var inputs = clients.Select((c, k) => new WeightedAdapter(RandomAdapters.Create(c.Rank, c.Alpha / c.Rank, 300 + (ulong)k), 100 * (k + 1), $"client {k}")).ToList();
        var weights = AggregationWeights.Normalise(inputs);
        var stacked = StackingStrategy.Stack(inputs);
        var directory = Path.Combine(_root, "global");

        await PeftAdapterDirectory.WriteAsync(directory, stacked, baseModel: "HuggingFaceTB/SmolLM2-135M");

        // Apply the files the way PEFT does, independently of our reader: scaling = lora_alpha / r.
        using var config = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(directory, "adapter_config.json")));
        Assert.Equal("LORA", config.RootElement.GetProperty("peft_type").GetString());
        Assert.Equal(28, config.RootElement.GetProperty("r").GetInt32());
        var scaling = config.RootElement.GetProperty("lora_alpha").GetDouble() / config.RootElement.GetProperty("r").GetInt32();
        Assert.Equal(["down_proj", "k_proj", "q_proj"], config.RootElement.GetProperty("target_modules").EnumerateArray().Select(e => e.GetString()));
        var (_, tensors) = await SafeTensorsFile.ReadFileAsync(Path.Combine(directory, "adapter_model.safetensors"));
        var byName = tensors.ToDictionary(t => t.Name);
        foreach (var (module, inFeatures, outFeatures) in RandomAdapters.Shapes)
        {
            var a = byName[$"base_model.model.{module}.lora_A.weight"];
            var b = byName[$"base_model.model.{module}.lora_B.weight"];
            Assert.Equal([28L, inFeatures], a.Shape);
            Assert.Equal([outFeatures, 28L], b.Shape);
            var applied = AdapterMath.Delta(new LoraFactors(new Matrix(28, inFeatures, a.Data), new Matrix(outFeatures, 28, b.Data)), scaling);
            var expected = AdapterMath.WeightedSum(inputs.Select((input, k) => (AdapterMath.Delta(input.Adapter[module], input.Adapter.Scale), weights[k])));
            Assert.True(AdapterMath.RelativeError(applied, expected) < 1e-6, $"{module}: PEFT would apply something else");
        }

        var read = await PeftAdapterDirectory.ReadAsync(directory);
        Assert.Equal(stacked.ModuleNames, read.Adapter.ModuleNames);
        Assert.Equal("HuggingFaceTB/SmolLM2-135M", read.Config.BaseModel);
        foreach (var module in stacked.ModuleNames)
            Assert.True(AdapterMath.RelativeError(AdapterMath.Delta(read.Adapter[module], read.Adapter.Scale), AdapterMath.Delta(stacked[module], 1.0)) < 1e-7);
    }

    [Fact]
    public async Task A_client_adapter_round_trips_with_its_scale_folded_in()
    {
        var adapter = RandomAdapters.Create(6, 2.5, 5);
        var directory = Path.Combine(_root, "client");
        await PeftAdapterDirectory.WriteAsync(directory, adapter);
        var read = await PeftAdapterDirectory.ReadAsync(directory);
        Assert.Equal(6, read.Config.Rank);
        Assert.Equal(6, read.Config.Alpha);
        Assert.Equal(1.0, read.Adapter.Scale);
        foreach (var module in adapter.ModuleNames)
            Assert.True(AdapterMath.RelativeError(AdapterMath.Delta(read.Adapter[module], 1.0), AdapterMath.Delta(adapter[module], 2.5)) < 1e-7);
    }

    [Fact]
    public async Task Modules_of_different_ranks_export_through_rank_and_alpha_patterns()
    {
        var compacted = AdapterCompaction.Compact([RandomAdapters.Create(3, 1.0, 1), RandomAdapters.Create(3, 1.0, 2), RandomAdapters.Create(3, 1.0, 3)], new CompactionOptions(RankBudget: 0)).Adapter;
        var uneven = new LoraAdapter(compacted.ModuleNames.Select((m, i) => new KeyValuePair<string, LoraFactors>(m, i == 0 ? compacted.Truncated(2)[m] : compacted[m])), 1.0);
        var directory = Path.Combine(_root, "uneven");
        await PeftAdapterDirectory.WriteAsync(directory, uneven);
        using var config = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(directory, "adapter_config.json")));
        Assert.Equal(9, config.RootElement.GetProperty("r").GetInt32());
        var pattern = config.RootElement.GetProperty("rank_pattern").EnumerateObject().Single();
        Assert.Equal(2, pattern.Value.GetInt32());
        var read = await PeftAdapterDirectory.ReadAsync(directory);
        Assert.Equal(2, read.Adapter[uneven.ModuleNames[0]].Rank);
        Assert.Equal(1.0, read.Config.ScalingOf(uneven.ModuleNames[0]));
    }

    [Fact]
    public async Task An_adapter_written_by_PEFT_in_bf16_with_patterns_and_rslora_reads_with_PEFTs_scalings()
    {
        var directory = Path.Combine(_root, "foreign");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "adapter_config.json"), """
            {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 2, "lora_alpha": 16, "use_rslora": true,
             "target_modules": ["q_proj", "v_proj"], "rank_pattern": {"v_proj": 1}, "alpha_pattern": {"v_proj": 4},
             "base_model_name_or_path": "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "bias": "none"}
            """);
        // q: r 2, scaling 16/√2; v: r 1, scaling 4/√1. Values exact in bf16.
        WriteBf16(Path.Combine(directory, "adapter_model.safetensors"),
            ("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", [2, 3], [1, 0, 0, 0, 1, 0]),
            ("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", [2, 2], [0.5f, 0, 0, 0.25f]),
            ("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight", [1, 3], [0, 0, 2]),
            ("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight", [2, 1], [1, -1]));

        var read = await PeftAdapterDirectory.ReadAsync(directory);

        var q = AdapterMath.Delta(read.Adapter["model.layers.0.self_attn.q_proj"], read.Adapter.Scale);
        var v = AdapterMath.Delta(read.Adapter["model.layers.0.self_attn.v_proj"], read.Adapter.Scale);
        Assert.Equal(0.5 * 16 / Math.Sqrt(2), q[0, 0], 5);
        Assert.Equal(0.25 * 16 / Math.Sqrt(2), q[1, 1], 5);
        Assert.Equal(8.0, v[0, 2], 5);
        Assert.Equal(-8.0, v[1, 2], 5);
    }

    [Theory]
    [InlineData("""{"peft_type": "PREFIX_TUNING", "r": 2}""", "'peft_type' is 'PREFIX_TUNING'")]
    [InlineData("""{"peft_type": "LORA"}""", "field 'r' is missing")]
    [InlineData("""{"peft_type": "LORA", "r": "eight"}""", "field 'r' must be a number")]
    [InlineData("""{"peft_type": "LORA", "r": 2, "use_dora": true}""", "DoRA")]
    [InlineData("""{"peft_type": "LORA", "r": 2, "rank_pattern": {"q_proj": -1}}""", "'rank_pattern.q_proj' must be a positive number")]
    [InlineData("""{"peft_type": "LORA", "r": 2,""", "not valid JSON")]
    [InlineData("""{"peft_type": "LORA", "r": 4}""", "has rank 2 but adapter_config.json gives it r = 4")]
    public async Task Broken_configs_are_refused_naming_the_file_and_field(string json, string expected)
    {
        var directory = Path.Combine(_root, "broken");
        await PeftAdapterDirectory.WriteAsync(directory, RandomAdapters.Create(2, 1.0, 1));
        await File.WriteAllTextAsync(Path.Combine(directory, "adapter_config.json"), json);
        var error = await Assert.ThrowsAsync<AdapterFormatException>(() => PeftAdapterDirectory.ReadAsync(directory));
        Assert.Contains(expected, error.Message);
        Assert.Contains(directory, error.Message);
    }

    [Fact]
    public async Task Missing_files_and_foreign_tensors_are_refused_by_name()
    {
        var missing = await Assert.ThrowsAsync<AdapterFormatException>(() => PeftAdapterDirectory.ReadAsync(Path.Combine(_root, "nothing")));
        Assert.Contains("no such adapter directory", missing.Message);

        var directory = Path.Combine(_root, "embedding");
        await PeftAdapterDirectory.WriteAsync(directory, RandomAdapters.Create(2, 1.0, 1));
        File.Delete(Path.Combine(directory, "adapter_model.safetensors"));
        File.WriteAllBytes(Path.Combine(directory, "adapter_model.bin"), [1, 2, 3]);
        Assert.Contains("pickle", (await Assert.ThrowsAsync<AdapterFormatException>(() => PeftAdapterDirectory.ReadAsync(directory))).Message);

        WriteBf16(Path.Combine(directory, "adapter_model.safetensors"), ("base_model.model.model.embed_tokens.lora_embedding_A", [2, 4], new float[8]));
        var error = await Assert.ThrowsAsync<AdapterFormatException>(() => PeftAdapterDirectory.ReadAsync(directory));
        Assert.Contains("'base_model.model.model.embed_tokens.lora_embedding_A' is not a LoRA factor", error.Message);
    }

    private static void WriteBf16(string path, params (string Name, long[] Shape, float[] Values)[] tensors)
    {
        var (_, header) = SafeTensorsHeader.Create(tensors.Select(t => (t.Name, TensorDType.BF16, (IReadOnlyList<long>)t.Shape)));
        using var file = File.Create(path);
        file.Write(header);
        foreach (var (_, _, values) in tensors)
        {
            var bytes = new byte[values.Length * 2];
            for (int i = 0; i < values.Length; i++)
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), (ushort)(BitConverter.SingleToInt32Bits(values[i]) >> 16));
            file.Write(bytes);
        }
    }
}
