namespace Federated.Core.Adapters;

/// <summary>LoRA factors of one linear layer: A is [rank, in], B is [out, rank]; the layer's update is scale · B · A.</summary>
public sealed record LoraFactors
{
    public LoraFactors(Matrix a, Matrix b)
    {
        if (b.Columns != a.Rows)
            throw new ArgumentException($"B is {b.Rows}×{b.Columns} but A is {a.Rows}×{a.Columns}: B's columns must equal A's rows (the rank)");
        A = a;
        B = b;
    }

    public Matrix A { get; }

    public Matrix B { get; }

    public int Rank => A.Rows;

    public int InFeatures => A.Columns;

    public int OutFeatures => B.Rows;
}
