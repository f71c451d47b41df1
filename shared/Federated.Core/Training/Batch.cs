using Federated.Core.Data;
using static TorchSharp.torch;

namespace Federated.Core.Training;

/// <summary>
/// A padded batch: inputs are tokens[..^1], targets tokens[1..] with -100 (ignored) on prompt and padding.
/// Right padding with causal attention needs no mask: real tokens never attend to later padding.
/// </summary>
public static class Batch
{
    public const long IgnoreIndex = -100;

    /// <summary>Tokens of <paramref name="example"/> that are targets: those from its prompt's end on, never the first.</summary>
    public static long TargetCount(TokenizedExample example) => Math.Max(0, example.Tokens.Length - Math.Max(1, example.PromptLength));

    public static (Tensor Inputs, Tensor Targets, long TargetCount) Create(IReadOnlyList<TokenizedExample> examples, Device device)
    {
        var length = examples.Max(e => e.Tokens.Length) - 1;
        var inputs = new long[examples.Count * length];
        var targets = new long[examples.Count * length];
        long count = 0;
        for (int row = 0; row < examples.Count; row++)
        {
            var tokens = examples[row].Tokens;
            for (int t = 0; t < length; t++)
            {
                var index = row * length + t;
                inputs[index] = t < tokens.Length - 1 ? tokens[t] : 0; // any id: padding is never a target and never attended to
                var isTarget = t + 1 < tokens.Length && t + 1 >= examples[row].PromptLength;
                targets[index] = isTarget ? tokens[t + 1] : IgnoreIndex;
                if (isTarget)
                    count++;
            }
        }
        return (tensor(inputs, [examples.Count, length]).to(device), tensor(targets, [examples.Count, length]).to(device), count);
    }
}
