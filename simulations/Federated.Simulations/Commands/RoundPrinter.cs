using System.Globalization;
using Federated.Protos.V1;
using Spectre.Console;

namespace Federated.Simulations.Commands;

/// <summary>
/// Prints a job's rounds as they complete: the base model first, then each round once its held-out metrics
/// are in (or at once, for a job without server-side evaluation), in round order.
/// </summary>
public sealed class RoundPrinter
{
    private bool _header;
    private bool _baseline;
    private int _printed;

    public void Print(JobStatus status) => Print(status, everything: false);

    /// <summary>
    /// Prints every round not printed yet, "-" where metrics are missing: a one-shot status, or the end of a watch,
    /// so that a round whose evaluation is owed (or failed) still shows.
    /// </summary>
    public void PrintAll(JobStatus status) => Print(status, everything: true);

    private void Print(JobStatus status, bool everything)
    {
        var evaluated = status.Spec.EvaluationDataset.Length > 0;
        if (!_header)
        {
            _header = true;
            AnsiConsole.MarkupLine("Round  Ranks stacked        Held-out loss  Token acc  Exact match  Time");
        }
        if (!_baseline && status.Baseline is { } b)
        {
            _baseline = true;
            AnsiConsole.WriteLine(Invariant($"    0  base model           {b.Loss,13:F3}  {b.TokenAccuracy,9:P1}  {b.ExactMatch,11:P1}"));
        }
        foreach (var round in status.Rounds.Where(r => r.Round > _printed).OrderBy(r => r.Round))
        {
            if (evaluated && round.Evaluation is null && !everything)
                break; // in round order: a later round waits for an earlier one's metrics (one owed after a restart comes first)
            var ranks = $"{string.Join("+", round.Participants.Select(p => p.Rank))} = {round.StackedRank}";
            var seconds = (round.CompletedAt.ToDateTimeOffset() - round.StartedAt.ToDateTimeOffset()).TotalSeconds;
            var e = round.Evaluation;
            var metrics = e is null ? $"{"-",13}  {"-",9}  {"-",11}" : Invariant($"{e.Loss,13:F3}  {e.TokenAccuracy,9:P1}  {e.ExactMatch,11:P1}");
            AnsiConsole.WriteLine(Invariant($"{round.Round,5}  {ranks,-20} {metrics}  {seconds,4:F1} s"));
            _printed = round.Round;
        }
        if (status.EvaluationError.Length > 0 && _printed < status.CompletedRounds)
            AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(status.EvaluationError)}[/]");
    }

    public static string Describe(JobStatus status)
        => status.State == JobState.Running
            ? $"Round {status.CompletedRounds + 1} of {status.Spec.Rounds}: clients training…"
            : "Finishing: evaluating the final global model…";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
