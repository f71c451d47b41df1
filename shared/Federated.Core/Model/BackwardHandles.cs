using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>
/// Releases, as early as is safe, the managed handles that a custom autograd function's backward pass is given
/// and returns. TorchSharp wraps each incoming gradient in a new handle registered on the caller's dispose
/// scope, and never disposes the gradients a backward pass returns: left alone, both live until the scope
/// around <c>backward()</c> ends, so every layer's input and LoRA gradients stay allocated for the whole
/// backward pass (about 1 MiB per layer per 256 tokens at width 512). libtorch copies the returned
/// gradients when the backward call returns, so each call disposes the handles the previous one returned;
/// the last call's go with the caller's scope as before.
/// </summary>
public static class BackwardHandles
{
    // Per thread: the autograd engine runs a device's backward calls on one thread.
    [ThreadStatic]
    private static List<Tensor>? _returned;

    /// <summary>Disposes the handles the previous backward call on this thread returned; call first in a backward pass.</summary>
    public static void ReleasePrevious()
    {
        if (_returned is null)
            return;
        foreach (var tensor in _returned)
            tensor.Dispose();
        _returned.Clear();
    }

    /// <summary>Marks a gradient for return: moved out of the backward pass's scope, disposed by the next backward call.</summary>
    public static Tensor Return(Tensor? gradient)
    {
        if (gradient is null || gradient.IsInvalid)
            return null!;
        (_returned ??= []).Add(gradient.MoveToOuterDisposeScope());
        return gradient;
    }
}
