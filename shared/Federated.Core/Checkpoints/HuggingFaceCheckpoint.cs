using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using Federated.Core.Model;
using Federated.Core.Tensors;
using static TorchSharp.torch;

namespace Federated.Core.Checkpoints;

/// <summary>
/// Hugging Face model directories: config.json plus model.safetensors, or shards listed by
/// model.safetensors.index.json. Weights in F32, F16 or BF16 are read tensor by tensor from the files
/// (streamed, converted to float32), so loading needs the model's memory and one tensor, not twice the model.
/// </summary>
public static class HuggingFaceCheckpoint
{
    public const string WeightsFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";
    public const string TokenizerFile = "tokenizer.json";

    public static CheckpointInfo Describe(string directory)
    {
        var (config, architecture, _) = HuggingFaceConfig.Read(Path.Combine(directory, HuggingFaceConfig.FileName));
        var dtypes = ReadShards(directory).SelectMany(s => s.Header.Tensors).Select(t => t.DType.ToSafeTensorsName()).Distinct().Order(StringComparer.Ordinal);
        var tokenizer = Path.Combine(directory, TokenizerFile);
        return new CheckpointInfo(directory, CheckpointFormat.HuggingFace, architecture, config, string.Join("+", dtypes), File.Exists(tokenizer) ? tokenizer : null);
    }

    public static LlamaForCausalLM Load(string directory, Device device)
    {
        var (config, _, _) = HuggingFaceConfig.Read(Path.Combine(directory, HuggingFaceConfig.FileName));
        var shards = ReadShards(directory);
        var model = new LlamaForCausalLM(config, device);
        try
        {
            var targets = new ParameterTargets(model);
            foreach (var (path, header) in shards)
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                foreach (var entry in header.Tensors)
                {
                    targets.Fill(entry.Name, entry.Shape, path, values =>
                    {
                        stream.Position = header.DataOffset + entry.Begin;
                        try
                        {
                            SafeTensorsFile.ReadInto(stream, entry, values);
                        }
                        catch (SafeTensorsFormatException e)
                        {
                            throw new CheckpointFormatException($"{path}: {e.Message}", e);
                        }
                    });
                }
            }
            targets.EnsureComplete(directory);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes config.json and the base weights as F32 or BF16 safetensors: one model.safetensors, or shards of at
    /// most <paramref name="maxShardBytes"/> (a tensor is never split) with model.safetensors.index.json.
    /// </summary>
    public static void Save(LlamaForCausalLM model, string directory, TensorDType dtype = TensorDType.F32, long maxShardBytes = long.MaxValue)
    {
        if (dtype is not (TensorDType.F32 or TensorDType.BF16))
            throw new ArgumentException($"checkpoints are written as F32 or BF16, not {dtype}", nameof(dtype));
        Directory.CreateDirectory(directory);
        var parameters = model.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        var shards = new List<List<(string Name, TorchSharp.Modules.Parameter Parameter)>> { new() };
        long shardBytes = 0;
        foreach (var item in parameters)
        {
            var bytes = item.parameter.numel() * dtype.ElementSize();
            if (shards[^1].Count > 0 && shardBytes + bytes > maxShardBytes)
            {
                shards.Add([]);
                shardBytes = 0;
            }
            shards[^1].Add(item);
            shardBytes += bytes;
        }

        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            var name = shards.Count == 1 ? WeightsFile : $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            WriteShard(Path.Combine(directory, name), shards[i], dtype);
            foreach (var (tensorName, _) in shards[i])
                weightMap[tensorName] = name;
        }
        if (shards.Count > 1)
        {
            var index = new JsonObject
            {
                ["metadata"] = new JsonObject { ["total_size"] = parameters.Sum(p => p.parameter.numel() * dtype.ElementSize()) },
                ["weight_map"] = weightMap,
            };
            File.WriteAllText(Path.Combine(directory, IndexFile), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        HuggingFaceConfig.Write(Path.Combine(directory, HuggingFaceConfig.FileName), model.Config, dtype == TensorDType.F32 ? "float32" : "bfloat16");
    }

    private static void WriteShard(string path, IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> tensors, TensorDType dtype)
    {
        var (_, header) = SafeTensorsHeader.Create(tensors.Select(t => (t.Name, dtype, (IReadOnlyList<long>)t.Parameter.shape)), new Dictionary<string, string> { ["format"] = "pt" });
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        stream.Write(header);
        foreach (var (_, parameter) in tensors)
        {
            float[] values;
            using (NewDisposeScope())
                values = parameter.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            if (dtype == TensorDType.F32)
            {
                stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
                continue;
            }
            var bytes = new byte[values.Length * 2];
            for (int i = 0; i < values.Length; i++)
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), ToBFloat16(values[i]));
            stream.Write(bytes);
        }
    }

    /// <summary>float32 to bfloat16 bits, rounding to nearest even (NaN stays NaN).</summary>
    internal static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x40);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>The weight files and their headers, checked against the index when sharded.</summary>
    private static List<(string Path, SafeTensorsHeader Header)> ReadShards(string directory)
    {
        var single = Path.Combine(directory, WeightsFile);
        if (File.Exists(single))
            return [(single, ReadHeader(single))];
        var indexPath = Path.Combine(directory, IndexFile);
        if (!File.Exists(indexPath))
            throw new CheckpointFormatException($"{directory}: has neither {WeightsFile} nor {IndexFile}");

        JsonObject? weightMap;
        try
        {
            weightMap = JsonNode.Parse(File.ReadAllText(indexPath))?["weight_map"] as JsonObject;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new CheckpointFormatException($"{indexPath}: not valid JSON: {e.Message}", e);
        }
        if (weightMap is null)
            throw new CheckpointFormatException($"{indexPath}: field 'weight_map' is missing or not an object");
        var mapped = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (tensor, file) in weightMap)
        {
            if (file?.GetValueKind() != JsonValueKind.String || file.GetValue<string>() is not { Length: > 0 } name || name != Path.GetFileName(name))
                throw new CheckpointFormatException($"{indexPath}: weight_map entry '{tensor}' must be the name of a file in the directory");
            mapped[tensor] = name;
        }

        var files = mapped.Values.Distinct().Order(StringComparer.Ordinal).ToList();
        if (files.FirstOrDefault(file => !File.Exists(Path.Combine(directory, file))) is { } absent)
            throw new CheckpointFormatException($"{indexPath}: shard '{absent}' does not exist");
        var shards = new List<(string, SafeTensorsHeader)>();
        foreach (var file in files)
        {
            var path = Path.Combine(directory, file);
            var header = ReadHeader(path);
            foreach (var entry in header.Tensors)
            {
                if (!mapped.TryGetValue(entry.Name, out var listed) || listed != file)
                    throw new CheckpointFormatException($"{path}: holds tensor '{entry.Name}', which {IndexFile} maps to {(listed is null ? "no file" : $"'{listed}'")}");
            }
            shards.Add((path, header));
        }
        foreach (var (tensor, file) in mapped)
        {
            if (!shards.First(s => Path.GetFileName(s.Item1) == file).Item2.ByName.ContainsKey(tensor))
                throw new CheckpointFormatException($"{indexPath}: maps tensor '{tensor}' to '{file}', which does not hold it");
        }
        return shards;
    }

    private static SafeTensorsHeader ReadHeader(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return SafeTensorsHeader.ReadAsync(stream, stream.Length).GetAwaiter().GetResult();
        }
        catch (SafeTensorsFormatException e)
        {
            throw new CheckpointFormatException($"{path}: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointFormatException($"{path}: cannot be read: {e.Message}", e);
        }
    }
}
