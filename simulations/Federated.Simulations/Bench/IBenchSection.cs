namespace Federated.Simulations.Bench;

/// <summary>One part of `federated bench`: measures something and prints its figures, ratios measured in the same run.</summary>
public interface IBenchSection
{
    /// <summary>The name `--only` selects it by.</summary>
    string Name { get; }

    string Description { get; }

    /// <param name="quick">Smaller sizes, for a fast look (figures are then not the targets' sizes).</param>
    Task RunAsync(bool quick, CancellationToken cancellationToken);
}
