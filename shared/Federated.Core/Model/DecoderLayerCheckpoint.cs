using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Federated.Core.Model;

/// <summary>
/// Gradient checkpointing of one decoder layer (Chen et al., 2016): the forward pass keeps only the layer's
/// input; the backward pass runs the layer again with gradients on and differentiates that. The layer's LoRA
/// factors are inputs of the function, so gradients reach them even when the layer's input needs none.
/// LoRA dropout draws the same masks again: its generator's state is saved before the forward pass.
/// </summary>
public sealed class DecoderLayerCheckpoint : SingleTensorFunction<DecoderLayerCheckpoint>
{
    private const string LayerKey = "layer", RotaryKey = "rotary", ParametersKey = "parameters", InputGradKey = "input-grad", RngKey = "rng";

    public override string Name => nameof(DecoderLayerCheckpoint);

    public static Tensor Run(LlamaDecoderLayer layer, Tensor x, RotaryEmbedding rotary)
    {
        var parameters = layer.LoraParameters();
        if (layer.DrawsRandomNumbers && layer.DropoutGenerator is null)
            throw new InvalidOperationException("gradient checkpointing with LoRA dropout needs the model's own dropout generator: call SeedDropout first");
        var arguments = new object[3 + parameters.Count];
        arguments[0] = x;
        arguments[1] = layer;
        arguments[2] = rotary;
        for (int i = 0; i < parameters.Count; i++)
            arguments[3 + i] = parameters[i];
        // TorchSharp keeps an empty_like copy of every output, only to stand in for a missing output gradient;
        // grads are not materialised (see forward), so that copy dies with this scope instead of living on.
        using var scope = NewDisposeScope();
        return apply(arguments).MoveToOuterDisposeScope();
    }

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var layer = (LlamaDecoderLayer)vars[1];
        var rotary = (RotaryEmbedding)vars[2];
        ctx.set_materialize_grads(false);
        ctx.save_for_backward([x]);
        ctx.save_data(LayerKey, layer);
        ctx.save_data(RotaryKey, rotary);
        ctx.save_data(ParametersKey, vars.Skip(3).Cast<Tensor>().ToList());
        ctx.save_data(InputGradKey, x.requires_grad);
        if (layer.DrawsRandomNumbers)
            ctx.save_data(RngKey, RngState(layer.DropoutGenerator!));
        using var scope = NewDisposeScope();
        return layer.forward(x, rotary).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        BackwardHandles.ReleasePrevious();
        if (grad_output.IsInvalid)
            return [null!, null!, null!, .. Enumerable.Repeat<Tensor>(null!, ((List<Tensor>)ctx.get_data(ParametersKey)).Count)];
        var layer = (LlamaDecoderLayer)ctx.get_data(LayerKey);
        var rotary = (RotaryEmbedding)ctx.get_data(RotaryKey);
        var parameters = (List<Tensor>)ctx.get_data(ParametersKey);
        var inputGrad = (bool)ctx.get_data(InputGradKey);
        var rng = ctx.get_data(RngKey) as byte[];
        using var scope = NewDisposeScope();
        var x = ctx.get_saved_variables()[0].detach().requires_grad_(inputGrad);
        Tensor output;
        using (enable_grad())
        {
            var generator = layer.DropoutGenerator;
            var current = rng is null ? null : RngState(generator!);
            if (rng is not null)
                SetRngState(generator!, rng);
            output = layer.forward(x, rotary);
            if (current is not null)
                SetRngState(generator!, current);
        }
        var inputs = new List<Tensor>(parameters.Count + 1);
        if (inputGrad)
            inputs.Add(x);
        inputs.AddRange(parameters);
        var grads = autograd.grad([output], inputs, [grad_output], allow_unused: true);
        grad_output.Dispose(); // this call's own handle (see BackwardHandles)
        var result = new List<Tensor> { inputGrad ? BackwardHandles.Return(grads[0]) : null!, null!, null! };
        for (int i = 0; i < parameters.Count; i++)
            result.Add(BackwardHandles.Return(grads[i + (inputGrad ? 1 : 0)]));
        return result;
    }

    private static byte[] RngState(Generator generator)
    {
        using var state = generator.get_state();
        return state.data<byte>().ToArray();
    }

    private static void SetRngState(Generator generator, byte[] state)
    {
        using var tensor = torch.tensor(state, ScalarType.Byte);
        generator.set_state(tensor);
    }
}
