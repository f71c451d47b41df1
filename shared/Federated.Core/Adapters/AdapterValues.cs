namespace Federated.Core.Adapters;

/// <summary>Checks on the numbers inside an adapter.</summary>
public static class AdapterValues
{
    /// <summary>Throws <see cref="AdapterFormatException"/> naming the first factor holding NaN or ±Inf.</summary>
    public static void EnsureFinite(LoraAdapter adapter)
    {
        foreach (var module in adapter.ModuleNames)
        {
            var factors = adapter[module];
            Check(AdapterTensorNames.A(module), factors.A.Data);
            Check(AdapterTensorNames.B(module), factors.B.Data);
        }
    }

    private static void Check(string tensor, float[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                var what = float.IsNaN(values[i]) ? "NaN" : "an infinite value";
                throw new AdapterFormatException($"tensor '{tensor}' holds {what} at element {i}");
            }
        }
    }
}
