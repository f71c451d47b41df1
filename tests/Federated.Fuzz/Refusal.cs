namespace Federated.Fuzz;

/// <summary>The message of the last documented refusal, for --replay to show why an input was refused.</summary>
public static class Refusal
{
    public static string? Last { get; private set; }

    public static bool Note(Exception refusal)
    {
        Last = refusal.Message;
        return false;
    }
}
