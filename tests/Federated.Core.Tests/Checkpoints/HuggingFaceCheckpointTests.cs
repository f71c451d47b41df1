using System.Text.Json.Nodes;
using Federated.Core.Checkpoints;
using Federated.Core.Data;
using Federated.Core.Model;
using Federated.Core.Tensors;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Checkpoints;

public class HuggingFaceCheckpointTests
{
    /// <summary>A Qwen2-like shape: q/k/v bias, untied classifier, Llama 3 rope scaling, several EOS ids.</summary>
    private static readonly LlamaConfig Unusual = new()
    {
        VocabSize = 300,
        HiddenSize = 48,
        IntermediateSize = 80,
        NumLayers = 2,
        NumHeads = 6,
        NumKeyValueHeads = 2,
        MaxPositionEmbeddings = 64,
        RmsNormEps = 1e-6,
        RopeTheta = 500000,
        AttentionBias = true,
        TieWordEmbeddings = false,
        RopeScaling = new Llama3RopeScaling(8, 1, 4, 16),
        BosTokenId = 1,
        EosTokenIds = [2, 7],
    };

    private static Tensor Tokens() => tensor(new long[] { 256, 104, 105, 33, 10, 200, 3, 77, 5, 9, 250, 17 }, [2, 6]);

    [Fact]
    public void Builtin_tiny_round_trips_with_identical_logits()
    {
        using var folder = new TemporaryFolder();
        using var original = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        HuggingFaceCheckpoint.Save(original, folder.Path);
        Assert.True(File.Exists(Path.Combine(folder.Path, "config.json")));
        Assert.True(File.Exists(Path.Combine(folder.Path, "model.safetensors")));
        using var loaded = HuggingFaceCheckpoint.Load(folder.Path, CPU);
        Assert.Equal(original.Config, loaded.Config);
        Assert.Equal(original.Fingerprint(), loaded.Fingerprint());
        using var scope = NewDisposeScope();
        Assert.True(original.forward(Tokens()).allclose(loaded.forward(Tokens()), rtol: 0, atol: 0));
    }

    [Fact]
    public void Bias_untied_embeddings_and_rope_scaling_round_trip_through_sharded_files()
    {
        using var folder = new TemporaryFolder();
        using var original = BuiltinModels.Create(Unusual, "unusual", CPU);
        RandomiseBiases(original);
        HuggingFaceCheckpoint.Save(original, folder.Path, maxShardBytes: 40_000);
        Assert.False(File.Exists(Path.Combine(folder.Path, "model.safetensors")));
        Assert.True(Directory.GetFiles(folder.Path, "model-*-of-*.safetensors").Length > 2);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder.Path, "config.json")))!;
        Assert.Equal("qwen2", (string?)config["model_type"]);
        Assert.Equal("llama3", (string?)config["rope_scaling"]!["rope_type"]);

        using var loaded = ModelCatalog.Load(folder.Path, CPU);
        Assert.Equal(Unusual, loaded.Config);
        var names = loaded.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("lm_head.weight", names);
        Assert.Contains("model.layers.1.self_attn.k_proj.bias", names);
        Assert.DoesNotContain("model.layers.1.self_attn.o_proj.bias", names);
        Assert.Equal(original.Fingerprint(), loaded.Fingerprint());
        using var scope = NewDisposeScope();
        Assert.True(original.forward(Tokens()).allclose(loaded.forward(Tokens()), rtol: 0, atol: 0));
    }

    [Fact]
    public void Bfloat16_files_load_as_the_rounded_weights()
    {
        using var folder = new TemporaryFolder();
        using var original = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        HuggingFaceCheckpoint.Save(original, folder.Path, TensorDType.BF16);
        Assert.Equal("BF16", ModelCatalog.Inspect(folder.Path).DType);
        var halfSize = original.parameters().Sum(p => p.numel() * 2);
        Assert.InRange(new FileInfo(Path.Combine(folder.Path, "model.safetensors")).Length, halfSize, halfSize + 8192);

        using var loaded = HuggingFaceCheckpoint.Load(folder.Path, CPU);
        using var scope = NewDisposeScope();
        foreach (var ((name, a), (_, b)) in original.named_parameters().Zip(loaded.named_parameters()))
        {
            var rounded = a.to(ScalarType.BFloat16).to(ScalarType.Float32);
            Assert.True(rounded.allclose(b, rtol: 0, atol: 0), $"{name} is not the bfloat16 rounding of the original");
        }
        Assert.True(original.forward(Tokens()).allclose(loaded.forward(Tokens()), rtol: 0.05, atol: 0.05));
    }

    [Fact]
    public void Float16_files_are_converted_to_float32()
    {
        using var folder = new TemporaryFolder();
        using var original = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        HuggingFaceCheckpoint.Save(original, folder.Path);
        var tensors = original.named_parameters().Select(p => (p.name, values: p.parameter.data<float>().ToArray(), shape: p.parameter.shape)).ToList();
        var (_, headerBytes) = SafeTensorsHeader.Create(tensors.Select(t => (t.name, TensorDType.F16, (IReadOnlyList<long>)t.shape)));
        using (var stream = File.Create(Path.Combine(folder.Path, "model.safetensors")))
        {
            stream.Write(headerBytes);
            foreach (var (_, values, _) in tensors)
            {
                foreach (var value in values)
                    stream.Write(BitConverter.GetBytes((Half)value));
            }
        }

        using var loaded = HuggingFaceCheckpoint.Load(folder.Path, CPU);
        Assert.Equal("F16", ModelCatalog.Inspect(folder.Path).DType);
        foreach (var (name, values, _) in tensors)
        {
            var actual = loaded.named_parameters().Single(p => p.name == name).parameter.data<float>().ToArray();
            Assert.Equal(values.Select(v => (float)(Half)v), actual);
        }
    }

    [Fact]
    public void Missing_unexpected_and_misshapen_tensors_are_named()
    {
        using var folder = new TemporaryFolder();
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        HuggingFaceCheckpoint.Save(model, folder.Path);
        var all = model.named_parameters().Select(p => new NamedTensor(p.name, p.parameter.shape, p.parameter.data<float>().ToArray())).ToList();
        var path = Path.Combine(folder.Path, "model.safetensors");

        File.WriteAllBytes(path, SafeTensorsFile.ToBytes(all.Where(t => t.Name != "model.layers.1.mlp.up_proj.weight").ToList()));
        var missing = Assert.Throws<CheckpointFormatException>(() => HuggingFaceCheckpoint.Load(folder.Path, CPU)).Message;
        Assert.Contains("missing 1 tensor(s): 'model.layers.1.mlp.up_proj.weight' [192, 64]", missing);

        File.WriteAllBytes(path, SafeTensorsFile.ToBytes([.. all, new NamedTensor("model.layers.0.self_attn.o_proj.bias", [64], new float[64])]));
        var unexpected = Assert.Throws<CheckpointFormatException>(() => HuggingFaceCheckpoint.Load(folder.Path, CPU)).Message;
        Assert.Contains("unexpected tensor 'model.layers.0.self_attn.o_proj.bias' [64]", unexpected);

        var wrong = all.Select(t => t.Name == "model.norm.weight" ? new NamedTensor(t.Name, [32], new float[32]) : t).ToList();
        File.WriteAllBytes(path, SafeTensorsFile.ToBytes(wrong));
        var shape = Assert.Throws<CheckpointFormatException>(() => HuggingFaceCheckpoint.Load(folder.Path, CPU)).Message;
        Assert.Contains("tensor 'model.norm.weight' has shape [32] but the model expects [64]", shape);
        Assert.Contains(path, shape);

        var entries = all.Select(t => (t.Name, t.Name == "model.norm.weight" ? TensorDType.I32 : TensorDType.F32, t.Shape));
        var (header, headerBytes) = SafeTensorsHeader.Create(entries);
        File.WriteAllBytes(path, [.. headerBytes, .. new byte[header.DataBytes]]);
        var dtype = Assert.Throws<CheckpointFormatException>(() => HuggingFaceCheckpoint.Load(folder.Path, CPU)).Message;
        Assert.Contains("tensor 'model.norm.weight' has dtype I32", dtype);
    }

    [Fact]
    public void Sharded_checkpoints_must_agree_with_their_index()
    {
        using var folder = new TemporaryFolder();
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        HuggingFaceCheckpoint.Save(model, folder.Path, maxShardBytes: 60_000);
        var indexPath = Path.Combine(folder.Path, "model.safetensors.index.json");
        var index = JsonNode.Parse(File.ReadAllText(indexPath))!;
        var map = index["weight_map"]!.AsObject();
        var firstFile = (string)map["model.embed_tokens.weight"]!;
        var otherFile = map.Select(kv => (string)kv.Value!).First(f => f != firstFile);

        map["model.embed_tokens.weight"] = otherFile;
        File.WriteAllText(indexPath, index.ToJsonString());
        var error = Assert.Throws<CheckpointFormatException>(() => HuggingFaceCheckpoint.Load(folder.Path, CPU)).Message;
        Assert.Contains("'model.embed_tokens.weight'", error);

        map["model.embed_tokens.weight"] = "missing.safetensors";
        File.WriteAllText(indexPath, index.ToJsonString());
        error = Assert.Throws<CheckpointFormatException>(() => HuggingFaceCheckpoint.Load(folder.Path, CPU)).Message;
        Assert.Contains("shard 'missing.safetensors' does not exist", error);

        File.Delete(indexPath);
        error = Assert.Throws<CheckpointFormatException>(() => HuggingFaceCheckpoint.Load(folder.Path, CPU)).Message;
        Assert.Contains("neither model.safetensors nor model.safetensors.index.json", error);
    }

    [Theory]
    [InlineData("hidden_size", null, "field 'hidden_size' is missing")]
    [InlineData("num_hidden_layers", "\"four\"", "field 'num_hidden_layers' is \"four\"; expected a positive integer")]
    [InlineData("rms_norm_eps", "-1", "field 'rms_norm_eps' is -1; expected a positive number")]
    [InlineData("model_type", "\"mistral\"", "model_type 'mistral' is not supported")]
    [InlineData("architectures", "[\"LlamaForSequenceClassification\"]", "field 'architectures' is [\"LlamaForSequenceClassification\"]")]
    [InlineData("hidden_act", "\"gelu\"", "field 'hidden_act' is 'gelu'")]
    [InlineData("attention_bias", "true", "field 'attention_bias' is true")]
    [InlineData("rope_scaling", "{\"rope_type\":\"yarn\",\"factor\":4}", "field 'rope_scaling.rope_type' is 'yarn'")]
    [InlineData("rope_scaling", "{\"rope_type\":\"llama3\",\"factor\":8,\"low_freq_factor\":1,\"high_freq_factor\":4}", "field 'rope_scaling.original_max_position_embeddings' is missing")]
    [InlineData("num_key_value_heads", "3", "NumHeads 4 is not a multiple of NumKeyValueHeads 3")]
    public void Bad_config_fields_are_named(string field, string? value, string expected)
    {
        using var folder = new TemporaryFolder();
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        HuggingFaceCheckpoint.Save(model, folder.Path);
        var configPath = Path.Combine(folder.Path, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config[field] = value is null ? null : JsonNode.Parse(value);
        if (value is null)
            config.Remove(field);
        File.WriteAllText(configPath, config.ToJsonString());

        var error = Assert.Throws<CheckpointFormatException>(() => HuggingFaceCheckpoint.Load(folder.Path, CPU)).Message;
        Assert.Contains(expected, error);
        Assert.Contains(configPath, error);
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => ModelCatalog.Describe(folder.Path)).Message);
    }

    [Fact]
    public void Real_configs_of_supported_families_are_read()
    {
        using var folder = new TemporaryFolder();
        var path = Path.Combine(folder.Path, "config.json");
        // Field values of Llama 3.2 1B's published config.json.
        File.WriteAllText(path, """
            {"architectures":["LlamaForCausalLM"],"attention_bias":false,"attention_dropout":0.0,"bos_token_id":128000,
             "eos_token_id":[128001,128008,128009],"head_dim":64,"hidden_act":"silu","hidden_size":2048,"initializer_range":0.02,
             "intermediate_size":8192,"max_position_embeddings":131072,"mlp_bias":false,"model_type":"llama","num_attention_heads":32,
             "num_hidden_layers":16,"num_key_value_heads":8,"pretraining_tp":1,"rms_norm_eps":1e-05,
             "rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},
             "rope_theta":500000.0,"tie_word_embeddings":true,"torch_dtype":"bfloat16","transformers_version":"4.45.0","use_cache":true,"vocab_size":128256}
            """);
        var (llama, architecture, dtype) = HuggingFaceConfig.Read(path);
        Assert.Equal(("LlamaForCausalLM", "bfloat16"), (architecture, dtype));
        Assert.Equal((2048, 8192, 16, 32, 8, 128256), (llama.HiddenSize, llama.IntermediateSize, llama.NumLayers, llama.NumHeads, llama.NumKeyValueHeads, llama.VocabSize));
        Assert.Equal(new Llama3RopeScaling(32, 1, 4, 8192), llama.RopeScaling);
        Assert.Equal([128001, 128008, 128009], llama.EosTokenIds);
        Assert.Equal(1_235_814_400, llama.ParameterCount);

        // Field values of Qwen2.5 0.5B's published config.json.
        File.WriteAllText(path, """
            {"architectures":["Qwen2ForCausalLM"],"attention_dropout":0.0,"bos_token_id":151643,"eos_token_id":151643,"hidden_act":"silu",
             "hidden_size":896,"initializer_range":0.02,"intermediate_size":4864,"max_position_embeddings":32768,"max_window_layers":24,
             "model_type":"qwen2","num_attention_heads":14,"num_hidden_layers":24,"num_key_value_heads":2,"rms_norm_eps":1e-06,
             "rope_theta":1000000.0,"sliding_window":32768,"tie_word_embeddings":true,"torch_dtype":"bfloat16","use_cache":true,
             "use_sliding_window":false,"vocab_size":151936}
            """);
        var (qwen, qwenArchitecture, _) = HuggingFaceConfig.Read(path);
        Assert.Equal("Qwen2ForCausalLM", qwenArchitecture);
        Assert.True(qwen.AttentionBias);
        Assert.Null(qwen.RopeScaling);
        Assert.Equal(494_032_768, qwen.ParameterCount);
    }

    [Fact]
    public void Default_rope_type_and_the_newer_dtype_key_are_understood()
    {
        using var folder = new TemporaryFolder();
        var path = Path.Combine(folder.Path, "config.json");
        File.WriteAllText(path, """
            {"model_type":"llama","vocab_size":100,"hidden_size":32,"intermediate_size":64,"num_hidden_layers":2,"num_attention_heads":4,
             "max_position_embeddings":64,"rope_scaling":{"rope_type":"default"},"dtype":"float16"}
            """);
        var (config, _, dtype) = HuggingFaceConfig.Read(path);
        Assert.Null(config.RopeScaling);
        Assert.Equal(4, config.NumKeyValueHeads);
        Assert.Equal("float16", dtype);
    }

    [Fact]
    public void Tied_models_ignore_a_stored_lm_head_like_Hugging_Face()
    {
        using var folder = new TemporaryFolder();
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        HuggingFaceCheckpoint.Save(model, folder.Path);
        var all = model.named_parameters().Select(p => new NamedTensor(p.name, p.parameter.shape, p.parameter.data<float>().ToArray())).ToList();
        var lmHead = new NamedTensor("lm_head.weight", [ByteTokenizer.VocabularySize, 64], new float[ByteTokenizer.VocabularySize * 64]);
        File.WriteAllBytes(Path.Combine(folder.Path, "model.safetensors"), SafeTensorsFile.ToBytes([.. all, lmHead]));
        using var loaded = HuggingFaceCheckpoint.Load(folder.Path, CPU);
        Assert.Equal(model.Fingerprint(), loaded.Fingerprint());
    }

    private static void RandomiseBiases(LlamaForCausalLM model)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new TorchSharp.torch.Generator(11);
        foreach (var (name, parameter) in model.named_parameters().Where(p => p.name.EndsWith(".bias", StringComparison.Ordinal)))
            parameter.copy_(randn(parameter.shape, generator: generator).mul_(0.1));
    }
}
