using Federated.Contracts.Evaluation;
using Federated.Contracts.Jobs;
using Federated.Core.Adapters;
using Federated.Core.Data;
using Federated.Core.Model;
using Federated.Core.Runtime;
using Federated.Core.Training;
using Federated.Server.Jobs;
using Federated.Server.Models;
using Federated.Server.Storage;

namespace Federated.Server.Evaluation;

/// <summary>
/// Keeps a job's global model in memory (base plus merged global updates) and measures it on the job's
/// held-out data after each round. Calls arrive one-way and run one at a time, in round order; a round asked for again
/// once its metrics are recorded is skipped.
/// </summary>
[GrainType("evaluator")]
public sealed partial class EvaluatorGrain(AdapterStore store, BaseModelRegistry models, EvaluationSources sources, ILogger<EvaluatorGrain> logger) : Grain, IEvaluatorGrain
{
    private LlamaForCausalLM? _model;
    private int _mergedThrough;
    private IReadOnlyList<TokenizedExample>? _examples;

    public async Task Evaluate(int round)
    {
        var jobId = this.GetPrimaryKeyString();
        try
        {
            var job = await GrainFactory.GetGrain<IJobGrain>(jobId).GetSnapshot();
            if (string.IsNullOrEmpty(job.Config.EvaluationDataset) || round > job.CompletedRounds)
                return;
            if (round == 0 ? job.Baseline is not null : job.History[round - 1].Evaluation is not null)
                return; // asked again (the job's keep-alive, in case a silo's death lost the request) after it was done

            _examples ??= models.TextFormat(job.Config.BaseModel).TokenizeAll(sources.Load(job.Config.EvaluationDataset), job.Config.Hyperparameters.MaxSequenceLength);
            if (_model is null || round < _mergedThrough)
            {
                _model?.Dispose();
                _model = await ComputeThread.Run(() => models.Load(job.Config.BaseModel));
                _mergedThrough = 0;
            }
            for (var r = _mergedThrough + 1; r <= round; r++)
            {
                var update = await store.ReadAdapterAsync(job.History[r - 1].UpdateSha256);
                var target = _model;
                await ComputeThread.Run(() => target.MergeAdapter(update));
                _mergedThrough = r;
            }
            var model = _model;
            var examples = _examples;
            var result = await ComputeThread.Run(() => Evaluator.Evaluate(model, examples));
            await GrainFactory.GetGrain<IJobGrain>(jobId).RecordEvaluation(round, new EvaluationSummary(result.Loss, result.TokenAccuracy, result.ExactMatch, result.Examples));
        }
        catch (Exception e)
        {
            LogFailed(logger, e, jobId, round);
            await GrainFactory.GetGrain<IJobGrain>(jobId).RecordEvaluationFailure(round, e.Message);
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _model?.Dispose();
        _model = null;
        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: evaluation after round {Round} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string jobId, int round);
}
