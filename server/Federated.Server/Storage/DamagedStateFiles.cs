using System.Collections.Concurrent;
using Orleans.Runtime;

namespace Federated.Server.Storage;

/// <summary>A grain state file that did not parse, and where it was moved to (it is never deleted).</summary>
public sealed record StateDamage(GrainId Grain, string StateName, string Path, string MovedTo, string Problem, DateTimeOffset At)
{
    /// <summary>One line for a job's error, the log and /health: the file, what is wrong, where it went.</summary>
    public string Describe() => $"state file {Path} is damaged ({Problem}) and was moved aside to {System.IO.Path.GetFileName(MovedTo)}";
}

/// <summary>
/// The damaged state files this process found (<see cref="FileGrainStorage"/> moves each aside and records it here).
/// The grain whose state it was reads an empty state and asks here why, so it can fail its job, rebuild its list or
/// start afresh instead of failing every call; /health reports them as degraded. In memory only: what each grain
/// decides is written to its new state file, and the moved-aside files stay on disk for an operator.
/// </summary>
public sealed class DamagedStateFiles
{
    private readonly ConcurrentDictionary<GrainId, StateDamage> _byGrain = new();

    public void Record(StateDamage damage) => _byGrain[damage.Grain] = damage;

    /// <summary>The damage found when <paramref name="grain"/>'s state was last read, if any.</summary>
    public StateDamage? Find(GrainId grain) => _byGrain.TryGetValue(grain, out var damage) ? damage : null;

    public IReadOnlyList<StateDamage> All => [.. _byGrain.Values.OrderBy(d => d.At)];
}
