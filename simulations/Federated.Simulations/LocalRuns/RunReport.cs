using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Federated.Protos.V1;
using Google.Protobuf;

namespace Federated.Simulations.LocalRuns;

/// <summary>Writes a run's results: results.json (settings, wall time, the job's full status) and rounds.csv.</summary>
public static class RunReport
{
    /// <summary>How results.json (and `federated job status --json`) is written.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>The "job" object of results.json: the job's status in protobuf's JSON mapping.</summary>
    public static JsonNode JobJson(JobStatus job) => JsonNode.Parse(JsonFormatter.Default.Format(job))!;

    public static IReadOnlyList<string> Write(LocalRunResult result, LocalRunSettings settings)
    {
        var json = new JsonObject
        {
            ["wall_seconds"] = result.WallSeconds,
            ["settings"] = JsonSerializer.SerializeToNode(settings),
            ["job"] = JobJson(result.Job),
        };
        var jsonPath = Path.Combine(result.OutputDirectory, "results.json");
        File.WriteAllText(jsonPath, json.ToJsonString(JsonOptions));

        var csv = new StringBuilder("round,participants,ranks,stacked_rank,update_bytes,heldout_loss,token_accuracy,exact_match,round_seconds\n");
        if (result.Job.Baseline is { } baseline)
            csv.AppendLine(Invariant($"0,0,,0,0,{baseline.Loss:R},{baseline.TokenAccuracy:R},{baseline.ExactMatch:R},0"));
        foreach (var round in result.Job.Rounds)
        {
            var e = round.Evaluation;
            var seconds = (round.CompletedAt.ToDateTimeOffset() - round.StartedAt.ToDateTimeOffset()).TotalSeconds;
            csv.AppendLine(Invariant($"{round.Round},{round.Participants.Count},{string.Join(' ', round.Participants.Select(p => p.Rank))},{round.StackedRank},{round.GlobalUpdateBytes},{e?.Loss.ToString("R", CultureInfo.InvariantCulture) ?? ""},{e?.TokenAccuracy.ToString("R", CultureInfo.InvariantCulture) ?? ""},{e?.ExactMatch.ToString("R", CultureInfo.InvariantCulture) ?? ""},{seconds:F3}"));
        }
        var csvPath = Path.Combine(result.OutputDirectory, "rounds.csv");
        File.WriteAllText(csvPath, csv.ToString());
        return [jsonPath, csvPath];
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
