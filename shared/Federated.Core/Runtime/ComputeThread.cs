namespace Federated.Core.Runtime;

/// <summary>
/// Runs long tensor work (training, evaluation, model building) on a dedicated thread rather than a
/// thread-pool one, so seconds of computation never starve the pool that serves gRPC and Orleans, and
/// TorchSharp's per-thread dispose scopes stay on one thread for the whole piece of work.
/// </summary>
public static class ComputeThread
{
    public static Task<T> Run<T>(Func<T> work, CancellationToken cancellationToken = default)
        => Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public static Task Run(Action work, CancellationToken cancellationToken = default)
        => Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
