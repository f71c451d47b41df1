namespace Federated.Core.Adapters;

/// <summary>Tensor names of adapter payloads, identical to Hugging Face PEFT's for a causal LM.</summary>
public static class AdapterTensorNames
{
    private const string Prefix = "base_model.model.";
    private const string SuffixA = ".lora_A.weight";
    private const string SuffixB = ".lora_B.weight";

    public static string A(string module) => Prefix + module + SuffixA;

    public static string B(string module) => Prefix + module + SuffixB;

    /// <summary>Splits a tensor name into its module and factor ('A' or 'B'); false for any other name.</summary>
    public static bool TryParse(string tensorName, out string module, out char factor)
    {
        module = "";
        factor = default;
        // Longer than prefix and suffix together, so they cannot overlap ("base_model.model.lora_A.weight").
        if (tensorName.Length <= Prefix.Length + SuffixA.Length || !tensorName.StartsWith(Prefix, StringComparison.Ordinal))
            return false;
        if (tensorName.EndsWith(SuffixA, StringComparison.Ordinal))
            factor = 'A';
        else if (tensorName.EndsWith(SuffixB, StringComparison.Ordinal))
            factor = 'B';
        else
            return false;
        module = tensorName[Prefix.Length..^SuffixA.Length];
        return module.Length > 0;
    }
}
