using Federated.Core.Model;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Federated.Core.Training;

/// <summary>
/// Summed next-token cross-entropy of hidden states [N, d] through a frozen output projection [V, d], computed
/// a few rows at a time so the [N, V] logits never exist whole: the backward pass recomputes each chunk's
/// logits and returns (softmax − one-hot) · W as the hidden states' gradient. Targets of
/// <see cref="Batch.IgnoreIndex"/> count nothing. The projection gets no gradient: the head never trains.
/// </summary>
public sealed class ChunkedCrossEntropy : SingleTensorFunction<ChunkedCrossEntropy>
{
    public override string Name => nameof(ChunkedCrossEntropy);

    public static Tensor Sum(Tensor hidden, Tensor headWeight, Tensor targets, int chunkRows = 64)
    {
        if (hidden.dim() != 2 || targets.dim() != 1 || hidden.shape[0] != targets.shape[0] || headWeight.dim() != 2 || headWeight.shape[1] != hidden.shape[1])
            throw new ArgumentException($"hidden {Tensors.TensorShape.Describe(hidden.shape)}, head {Tensors.TensorShape.Describe(headWeight.shape)} and targets {Tensors.TensorShape.Describe(targets.shape)} do not fit [N, d], [V, d], [N]");
        return apply(hidden, headWeight, targets, chunkRows);
    }

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var hidden = (Tensor)vars[0];
        var weight = (Tensor)vars[1];
        var targets = (Tensor)vars[2];
        var chunk = (int)vars[3];
        ctx.save_for_backward([hidden, weight, targets]);
        ctx.save_data("chunk", chunk);
        using var scope = NewDisposeScope();
        var total = zeros([], ScalarType.Float32, hidden.device);
        for (long start = 0; start < hidden.shape[0]; start += chunk)
        {
            // Each chunk's logits die with its own scope, so only one chunk's [rows, V] exists at a time.
            using var chunkScope = NewDisposeScope();
            var length = Math.Min(chunk, hidden.shape[0] - start);
            var logits = nn.functional.linear(hidden.narrow(0, start, length), weight).to(ScalarType.Float32);
            total.add_(nn.functional.cross_entropy(logits, targets.narrow(0, start, length), ignore_index: Batch.IgnoreIndex, reduction: nn.Reduction.Sum));
        }
        return total.MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        BackwardHandles.ReleasePrevious();
        var chunk = (int)ctx.get_data("chunk");
        using var scope = NewDisposeScope();
        var saved = ctx.get_saved_variables();
        Tensor hidden = saved[0], weight = saved[1], targets = saved[2];
        var grad = zeros_like(hidden);
        using var ignored = Batch.IgnoreIndex.ToScalar();
        using var first = 0L.ToScalar();
        using var minusOne = (-1f).ToScalar();
        for (long start = 0; start < hidden.shape[0]; start += chunk)
        {
            using var chunkScope = NewDisposeScope();
            var length = Math.Min(chunk, hidden.shape[0] - start);
            var rows = targets.narrow(0, start, length);
            var probabilities = nn.functional.linear(hidden.narrow(0, start, length), weight).to(ScalarType.Float32).softmax(-1);
            probabilities.scatter_add_(1, rows.clamp_min(first).unsqueeze(1), full([length, 1], minusOne, ScalarType.Float32, hidden.device));
            probabilities.mul_(rows.ne(ignored).unsqueeze(1).to(ScalarType.Float32));
            grad.narrow(0, start, length).copy_(probabilities.to(weight.dtype).matmul(weight));
        }
        grad.mul_(grad_output.to(grad.dtype));
        grad_output.Dispose(); // this call's own handle (see BackwardHandles)
        return [BackwardHandles.Return(grad), null!, null!, null!];
    }
}
