using System.Buffers.Binary;
using Federated.Core.Adapters;
using Federated.Core.Tests.Aggregation;
using Federated.Core.Tensors;

namespace Federated.Core.Tests.Adapters;

public class UpdateStreamValidatorTests
{
    private static readonly AdapterLayout Layout = new(RandomAdapters.Shapes);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(4096)]
    public void A_valid_update_passes_in_chunks_of_any_size(int chunk)
    {
        var bytes = AdapterSerializer.ToBytes(RandomAdapters.Create(4, 0.5, 1));
        var validator = new UpdateStreamValidator(Layout, 4, 0.5, bytes.Length);
        for (int offset = 0; offset < bytes.Length; offset += chunk)
            validator.Feed(bytes.AsSpan(offset, Math.Min(chunk, bytes.Length - offset)));
        validator.Complete();
    }

    [Fact]
    public void NaN_is_refused_naming_the_tensor_and_element()
    {
        var adapter = RandomAdapters.Create(4, 0.5, 1);
        var module = RandomAdapters.Shapes[1].Module;
        adapter[module].B.Data[5] = float.NaN;
        var error = Feed(AdapterSerializer.ToBytes(adapter), rank: 4, scale: 0.5);
        Assert.Equal($"tensor '{AdapterTensorNames.B(module)}' holds NaN at element 5", error.Message);
    }

    [Fact]
    public void Infinity_is_refused()
    {
        var adapter = RandomAdapters.Create(4, 0.5, 1);
        adapter[RandomAdapters.Shapes[0].Module].A.Data[0] = float.NegativeInfinity;
        Assert.Contains("infinite value at element 0", Feed(AdapterSerializer.ToBytes(adapter), 4, 0.5).Message);
    }

    [Fact]
    public void A_wrong_rank_is_refused_before_any_data()
    {
        var bytes = AdapterSerializer.ToBytes(RandomAdapters.Create(8, 0.5, 1));
        var error = Feed(bytes, rank: 4, scale: 0.5);
        Assert.Contains("rank 8 instead of the assigned rank 4", error.Message);
    }

    [Fact]
    public void A_wrong_shape_is_refused_naming_the_tensor()
    {
        var module = RandomAdapters.Shapes[2].Module;
        var adapter = RandomAdapters.Create(4, 0.5, 1);
        var wrong = new LoraAdapter(adapter.Modules.Select(m => m.Key == module ? new KeyValuePair<string, LoraFactors>(m.Key, new LoraFactors(new Matrix(4, 95), new Matrix(48, 4))) : m), 0.5);
        var error = Feed(AdapterSerializer.ToBytes(wrong), 4, 0.5);
        Assert.Contains($"tensor '{AdapterTensorNames.A(module)}' has shape [4, 95]; expected [4, 96]", error.Message);
    }

    [Fact]
    public void A_missing_module_is_refused()
    {
        var adapter = RandomAdapters.Create(4, 0.5, 1);
        var partial = new LoraAdapter(adapter.Modules.Skip(1), 0.5);
        Assert.Contains("is missing", Feed(AdapterSerializer.ToBytes(partial), 4, 0.5).Message);
    }

    [Fact]
    public void A_module_outside_the_job_is_refused()
    {
        var adapter = RandomAdapters.Create(4, 0.5, 1);
        var extra = new LoraAdapter(adapter.Modules.Append(new("model.layers.9.mlp.up_proj", new LoraFactors(new Matrix(4, 8), new Matrix(8, 4)))), 0.5);
        Assert.Contains("not a target module of this job", Feed(AdapterSerializer.ToBytes(extra), 4, 0.5).Message);
    }

    [Fact]
    public void A_wrong_scale_is_refused()
    {
        Assert.Contains("does not match alpha / rank", Feed(AdapterSerializer.ToBytes(RandomAdapters.Create(4, 2.0, 1)), 4, 0.5).Message);
    }

    [Fact]
    public void A_scale_that_is_not_a_finite_number_is_refused()
    {
        // NaN compares false with everything, so a tolerance check alone would let it through.
        var tensors = AdapterSerializer.ToTensors(RandomAdapters.Create(4, 0.5, 1));
        var bytes = SafeTensorsFile.ToBytes(tensors, new Dictionary<string, string> { [AdapterSerializer.ScaleKey] = "NaN" });
        Assert.Contains("no valid 'federated.scale' metadata (got 'NaN')", Feed(bytes, 4, 0.5).Message);
    }

    [Fact]
    public void A_payload_that_stops_early_fails_completion()
    {
        var bytes = AdapterSerializer.ToBytes(RandomAdapters.Create(4, 0.5, 1));
        var validator = new UpdateStreamValidator(Layout, 4, 0.5, bytes.Length);
        validator.Feed(bytes.AsSpan(0, bytes.Length / 2));
        Assert.Throws<SafeTensorsFormatException>(validator.Complete);
    }

    [Fact]
    public void Extra_bytes_after_the_data_are_refused()
    {
        var bytes = AdapterSerializer.ToBytes(RandomAdapters.Create(4, 0.5, 1));
        var validator = new UpdateStreamValidator(Layout, 4, 0.5, bytes.Length + 4);
        Assert.Throws<SafeTensorsFormatException>(() => validator.Feed(bytes.Concat(new byte[4]).ToArray()));
    }

    private static Exception Feed(byte[] bytes, int rank, double scale)
        => Assert.ThrowsAny<Exception>(() => new UpdateStreamValidator(Layout, rank, scale, bytes.Length).Feed(bytes));
}
