using System.Text;
using Federated.Core.Adapters;
using Federated.Core.Adapters.Peft;

namespace Federated.Fuzz.Targets;

/// <summary>
/// A PEFT adapter_config.json as an imported adapter directory brings it, then the per-module rank and scaling
/// its patterns give. Bad input is <see cref="AdapterFormatException"/>.
/// </summary>
public sealed class PeftConfigTarget : IFuzzTarget
{
    private static readonly string[] Modules = ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.down_proj"];

    public string Name => "peft-config";

    public bool Run(ReadOnlySpan<byte> input)
    {
        try
        {
            var config = PeftAdapterConfig.Parse(Encoding.UTF8.GetString(input), PeftAdapterConfig.FileName);
            foreach (var module in Modules)
            {
                _ = config.RankOf(module);
                _ = config.ScalingOf(module);
            }
            return true;
        }
        catch (AdapterFormatException e)
        {
            return Refusal.Note(e);
        }
    }

    public IReadOnlyList<(string Name, byte[] Bytes)> Seeds() =>
    [
        ("written.json", Encoding.UTF8.GetBytes(new PeftAdapterConfig { Rank = 8, Alpha = 16, TargetModules = ["q_proj", "v_proj"], BaseModel = "tiny" }.ToJson())),
        ("patterns.json", """{"peft_type":"LORA","r":4,"lora_alpha":8,"use_rslora":true,"target_modules":"q_proj|down_proj","rank_pattern":{"layers.1.mlp.down_proj":2},"alpha_pattern":{"q_proj":4.5},"modules_to_save":null}"""u8.ToArray()),
        ("minimal.json", """{"peft_type":"lora","r":1}"""u8.ToArray()),
    ];
}
