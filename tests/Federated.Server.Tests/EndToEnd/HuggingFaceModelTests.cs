using System.Text.Json;
using Federated.Core.Data;
using Federated.Core.Model;
using Federated.Core.Tokenizers;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Xunit.Abstractions;

namespace Federated.Server.Tests.EndToEnd;

/// <summary>A federated job on a user's Hugging Face model directory and Alpaca JSONL file, as `federated run --data` runs it.</summary>
public class HuggingFaceModelTests(ITestOutputHelper output)
{
    private static readonly string[] Words = ["cat", "tree", "stone", "river", "the", "moth", "thin", "path"];

    [Fact]
    public async Task Two_clients_train_a_Hugging_Face_model_on_Dirichlet_shards_of_Alpaca_data_and_the_server_evaluates_it()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var model = SmallHuggingFaceModel.Write(folder["model"]);
        var data = WriteAlpaca(folder["alpaca.jsonl"], 120);
        var format = ModelCatalog.TextFormat(model);
        Assert.Equal(ChatFormat.Template, format.Format);
        Assert.Equal(SmallHuggingFaceModel.TokenizerIds, format.Tokenizer.VocabSize);
        var settings = new LocalRunSettings
        {
            Clients = 2,
            Rounds = 2,
            Ranks = [2, 4],
            LocalSteps = 10,
            BatchSize = 8,
            BaseModel = model,
            DataPath = data,
            Partition = PartitionScheme.Dirichlet,
            Alpha = 0.5,
            EvaluationExamples = 12,
            MaxSequenceLength = 96,
            OutputDirectory = folder["run"],
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        var result = await LocalFederation.RunAsync(settings, logger, cancellationToken: timeout.Token);

        var job = result.Job;
        Assert.True(job.State == JobState.Completed, $"job {job.State}: {job.Error}");
        Assert.Equal(model, job.Spec.BaseModel);
        Assert.Equal(2, job.CompletedRounds);
        Assert.Equal(96, job.Spec.Hyperparameters.MaxSequenceLength);
        Assert.Empty(job.EvaluationError);
        Assert.NotNull(job.Baseline);
        Assert.Equal(12, job.Baseline.Examples);
        foreach (var round in job.Rounds)
        {
            Assert.Equal(["client-1", "client-2"], round.Participants.Select(p => p.ClientId));
            Assert.NotNull(round.Evaluation);
            Assert.Equal(12, round.Evaluation.Examples);
            Assert.True(double.IsFinite(round.Evaluation.Loss) && round.Evaluation.Loss > 0, $"round {round.Round} loss {round.Evaluation.Loss}");
            Assert.InRange(round.Evaluation.TokenAccuracy, 0, 1);
        }
        output.WriteLine($"held-out loss {job.Baseline.Loss:F3} → {job.Rounds[0].Evaluation.Loss:F3} → {job.Rounds[^1].Evaluation.Loss:F3}");
        Assert.True(job.Rounds[^1].Evaluation.Loss < job.Baseline.Loss, $"held-out loss went from {job.Baseline.Loss} to {job.Rounds[^1].Evaluation.Loss}");

        // The 108 training examples were dealt out by category, and the clients' sample counts say so.
        var shards = Enumerable.Range(0, 2).Select(i => JsonlExamples.Load(Path.Combine(folder["run"], "clients", LocalFederation.ClientName(i), "data", "train.jsonl"))).ToList();
        Assert.Equal(108, shards.Sum(s => s.Count));
        Assert.Equal(shards.Select(s => (long)s.Count), job.Rounds[0].Participants.Select(p => p.NumSamples));
        var heldOut = JsonlExamples.Load(Path.Combine(folder["run"], "eval.jsonl"));
        Assert.Equal(12, heldOut.Count);
        Assert.Empty(heldOut.Intersect(shards.SelectMany(s => s)));
        Assert.All(format.TokenizeAll(heldOut, 96), e => Assert.DoesNotContain(0, e.Tokens)); // no <unk>: the tokenizer covers the data
        Assert.All(format.TokenizeAll(heldOut, 96), e => Assert.Equal(SmallHuggingFaceModel.ImEnd, e.Tokens[^1]));
    }

    /// <summary>Alpaca records of three skills, the skill as "category", some with an "input".</summary>
    private static string WriteAlpaca(string path, int count)
    {
        using var writer = new StreamWriter(path);
        for (int i = 0; i < count; i++)
        {
            var word = Words[i % Words.Length] + Words[i / Words.Length % Words.Length] + (i >= Words.Length * Words.Length ? "s" : ""); // unique per i
            var (instruction, outputText, category) = (i % 3) switch
            {
                0 => ("Reverse the word.", new string(word.Reverse().ToArray()), "reverse"),
                1 => ("Repeat the word.", word, "copy"),
                _ => ("Uppercase the word.", word.ToUpperInvariant(), "upper"),
            };
            var record = i % 2 == 0
                ? new Dictionary<string, string> { ["instruction"] = instruction, ["input"] = word, ["output"] = outputText, ["category"] = category }
                : new Dictionary<string, string> { ["instruction"] = $"{instruction} {word}", ["output"] = outputText, ["category"] = category };
            writer.WriteLine(JsonSerializer.Serialize(record));
        }
        return path;
    }
}
