using Federated.Core.Adapters;

namespace Federated.Core.Aggregation;

/// <summary>One client's adapter and its aggregation weight (its number of training samples, by default).</summary>
public sealed record WeightedAdapter(LoraAdapter Adapter, double Weight, string Source);
