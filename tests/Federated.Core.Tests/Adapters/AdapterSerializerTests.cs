using Federated.Core.Adapters;
using Federated.Core.Tensors;
using Federated.Core.Tests.Aggregation;

namespace Federated.Core.Tests.Adapters;

public class AdapterSerializerTests
{
    [Fact]
    public async Task An_adapter_survives_a_round_trip_with_PEFT_names()
    {
        var adapter = RandomAdapters.Create(6, 0.75, 9);
        var bytes = AdapterSerializer.ToBytes(adapter);

        var (header, _) = await SafeTensorsFile.ReadAsync(new MemoryStream(bytes));
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", header.ByName.Keys);
        Assert.Equal([6L, 48L], header.ByName["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].Shape);
        Assert.Equal([24L, 6L], header.ByName["base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight"].Shape);

        var read = await AdapterSerializer.ReadAsync(new MemoryStream(bytes));
        Assert.Equal(0.75, read.Scale);
        Assert.Equal(adapter.ModuleNames, read.ModuleNames);
        foreach (var module in adapter.ModuleNames)
        {
            Assert.Equal(adapter[module].A.Data, read[module].A.Data);
            Assert.Equal(adapter[module].B.Data, read[module].B.Data);
        }
    }

    [Fact]
    public void A_factor_without_its_partner_is_refused()
    {
        var tensors = new[] { new NamedTensor(AdapterTensorNames.A("m"), [2, 3], new float[6]) };
        var header = SafeTensorsHeader.Create(tensors.Select(t => (t.Name, TensorDType.F32, t.Shape)), new Dictionary<string, string> { [AdapterSerializer.ScaleKey] = "1" }).Header;
        var error = Assert.Throws<AdapterFormatException>(() => AdapterSerializer.FromTensors(header, tensors));
        Assert.Contains("module 'm' has lora_A but no lora_B", error.Message);
    }

    [Fact]
    public void A_payload_without_a_scale_is_refused()
    {
        var tensors = new[] { new NamedTensor(AdapterTensorNames.A("m"), [1, 1], [1f]), new NamedTensor(AdapterTensorNames.B("m"), [1, 1], [1f]) };
        var header = SafeTensorsHeader.Create(tensors.Select(t => (t.Name, TensorDType.F32, t.Shape))).Header;
        Assert.Contains(AdapterSerializer.ScaleKey, Assert.Throws<AdapterFormatException>(() => AdapterSerializer.FromTensors(header, tensors)).Message);
    }
}
