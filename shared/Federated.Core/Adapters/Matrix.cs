namespace Federated.Core.Adapters;

/// <summary>A dense row-major float32 matrix held in managed memory.</summary>
public sealed class Matrix
{
    public Matrix(int rows, int columns, float[]? data = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        data ??= new float[checked(rows * columns)];
        if (data.Length != (long)rows * columns)
            throw new ArgumentException($"a {rows}×{columns} matrix needs {(long)rows * columns} values, got {data.Length}", nameof(data));
        Rows = rows;
        Columns = columns;
        Data = data;
    }

    public int Rows { get; }

    public int Columns { get; }

    public float[] Data { get; }

    public float this[int row, int column]
    {
        get => Data[row * Columns + column];
        set => Data[row * Columns + column] = value;
    }

    public Span<float> Row(int row) => Data.AsSpan(row * Columns, Columns);

    public IReadOnlyList<long> Shape => [Rows, Columns];
}
