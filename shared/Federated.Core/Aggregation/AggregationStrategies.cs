namespace Federated.Core.Aggregation;

/// <summary>The strategies a job can choose, by name.</summary>
public static class AggregationStrategies
{
    public const string Stacking = "stacking";
    public const string FedIt = "fedit";
    public const string ZeroPadding = "zero-padding";
    public const string FlexLora = "flexlora";

    public static IReadOnlyList<string> Names { get; } = [Stacking, FedIt, ZeroPadding, FlexLora];

    public static bool IsKnown(string name) => Names.Contains(name, StringComparer.Ordinal);

    /// <summary>The strategy of this name; throws <see cref="ArgumentException"/> listing the known names otherwise.</summary>
    public static IAggregationStrategy Create(string name) => name switch
    {
        Stacking => new StackingStrategy(),
        FedIt => new FedItStrategy(),
        ZeroPadding => new ZeroPaddingStrategy(),
        FlexLora => new FlexLoraStrategy(),
        _ => throw new ArgumentException($"aggregation strategy '{name}' is not known; choose one of {string.Join(", ", Names)}"),
    };
}
