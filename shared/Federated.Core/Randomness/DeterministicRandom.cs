namespace Federated.Core.Randomness;

/// <summary>
/// SplitMix64 (Steele et al., 2014) with Box–Muller normals: the same numbers on every machine and libtorch
/// build, so a built-in base model is bit-identical wherever it is created.
/// </summary>
public sealed class DeterministicRandom(ulong seed)
{
    private ulong _state = seed;
    private double? _spare;

    /// <summary>A well-mixed 64-bit hash of a seed and a label (FNV-1a, then the SplitMix64 finaliser).</summary>
    public static ulong Mix(ulong seed, string label)
    {
        var h = seed ^ 0xcbf29ce484222325UL;
        foreach (var c in label)
            h = (h ^ c) * 0x100000001b3UL;
        return Finalise(h);
    }

    private static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        return Finalise(_state += 0x9e3779b97f4a7c15UL);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double NextGaussian()
    {
        if (_spare is { } spare)
        {
            _spare = null;
            return spare;
        }
        double u = 1.0 - NextDouble(), v = NextDouble();
        var radius = Math.Sqrt(-2.0 * Math.Log(u));
        _spare = radius * Math.Sin(2 * Math.PI * v);
        return radius * Math.Cos(2 * Math.PI * v);
    }
}
