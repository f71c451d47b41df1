using System.Text.Json.Serialization;
using Federated.Core.Randomness;

namespace Federated.Core.Scheduling.Simulation;

/// <summary>How fast virtual clients are, in seconds per local step.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(UniformSpeed), "uniform")]
[JsonDerivedType(typeof(NormalSpeed), "normal")]
[JsonDerivedType(typeof(ExponentialSpeed), "exponential")]
[JsonDerivedType(typeof(TraceSpeed), "trace")]
public abstract record SpeedModel
{
    /// <summary>Client <paramref name="clientIndex"/>'s base seconds per step, drawn once from its own stream.</summary>
    public abstract double BaseSecondsPerStep(int clientIndex, DeterministicRandom random);

    /// <summary>Seconds per step of the client's <paramref name="task"/>-th task (0-based), before drift.</summary>
    public virtual double TaskSecondsPerStep(double baseSecondsPerStep, int clientIndex, long task) => baseSecondsPerStep;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field.</summary>
    public abstract void Validate();

    private protected void Require(bool ok, string field, string rule, object value)
    {
        if (!ok)
            throw new ArgumentException($"{GetType().Name}.{field} {rule}, got {value}");
    }
}

/// <summary>Base speeds uniform in [Min, Max] seconds per step.</summary>
public sealed record UniformSpeed(double Min, double Max) : SpeedModel
{
    public override double BaseSecondsPerStep(int clientIndex, DeterministicRandom random)
        => Min + (Max - Min) * random.NextDouble();

    public override void Validate()
    {
        Require(Min > 0 && double.IsFinite(Min), nameof(Min), "must be a finite number > 0", Min);
        Require(Max >= Min && double.IsFinite(Max), nameof(Max), $"must be finite and at least Min = {Min}", Max);
    }
}

/// <summary>Base speeds normal with this mean and deviation, redrawn below <see cref="Min"/> (truncated, so positive).</summary>
public sealed record NormalSpeed(double Mean, double StdDev, double Min) : SpeedModel
{
    public override double BaseSecondsPerStep(int clientIndex, DeterministicRandom random)
    {
        for (var i = 0; i < 1000; i++)
        {
            var x = Mean + StdDev * random.NextGaussian();
            if (x >= Min)
                return x;
        }
        return Min;
    }

    public override void Validate()
    {
        Require(Min > 0 && double.IsFinite(Min), nameof(Min), "must be a finite number > 0", Min);
        Require(Mean >= Min && double.IsFinite(Mean), nameof(Mean), $"must be finite and at least Min = {Min}", Mean);
        Require(StdDev >= 0 && double.IsFinite(StdDev), nameof(StdDev), "must be a finite number ≥ 0", StdDev);
    }
}

/// <summary>Base speeds Min + an exponential with mean <see cref="Mean"/>: a long tail of slow clients.</summary>
public sealed record ExponentialSpeed(double Mean, double Min) : SpeedModel
{
    public override double BaseSecondsPerStep(int clientIndex, DeterministicRandom random)
        => Min - Mean * Math.Log(1 - random.NextDouble());

    public override void Validate()
    {
        Require(Min > 0 && double.IsFinite(Min), nameof(Min), "must be a finite number > 0", Min);
        Require(Mean >= 0 && double.IsFinite(Mean), nameof(Mean), "must be a finite number ≥ 0", Mean);
    }
}

/// <summary>Replayed traces: client i replays PerClient[i mod count], one value per task, cycling.</summary>
public sealed record TraceSpeed(IReadOnlyList<IReadOnlyList<double>> PerClient) : SpeedModel
{
    public override double BaseSecondsPerStep(int clientIndex, DeterministicRandom random) => PerClient[clientIndex % PerClient.Count][0];

    public override double TaskSecondsPerStep(double baseSecondsPerStep, int clientIndex, long task)
    {
        var trace = PerClient[clientIndex % PerClient.Count];
        return trace[(int)(task % trace.Count)];
    }

    public override void Validate()
    {
        Require(PerClient.Count > 0, nameof(PerClient), "must hold at least one trace", PerClient.Count);
        for (var c = 0; c < PerClient.Count; c++)
        {
            Require(PerClient[c].Count > 0, $"{nameof(PerClient)}[{c}]", "must hold at least one value", PerClient[c].Count);
            for (var k = 0; k < PerClient[c].Count; k++)
                Require(PerClient[c][k] > 0 && double.IsFinite(PerClient[c][k]), $"{nameof(PerClient)}[{c}][{k}]", "must be a finite number > 0", PerClient[c][k]);
        }
    }
}
