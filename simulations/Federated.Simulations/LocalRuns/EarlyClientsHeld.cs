using Federated.Contracts.Clients;
using Federated.Contracts.Jobs;
using Federated.Server.Clients;
using Microsoft.Extensions.DependencyInjection;

namespace Federated.Simulations.LocalRuns;

/// <summary>
/// Holds a local run's early clients (paused as an operator would: each finishes the task it holds, takes no new
/// one) while late joiners start, and lets them go once every late joiner holds a task of the job. Without it the
/// late joiners' start-up races the remaining rounds, and on a fast machine they may join none.
/// </summary>
public sealed class EarlyClientsHeld : IAsyncDisposable
{
    private readonly IGrainFactory _grains;
    private readonly ClientIndex _index;
    private readonly string _jobId;
    private readonly IReadOnlyList<string> _held;

    private EarlyClientsHeld(IGrainFactory grains, ClientIndex index, string jobId, IReadOnlyList<string> held)
        => (_grains, _index, _jobId, _held) = (grains, index, jobId, held);

    public static async Task<EarlyClientsHeld> StartAsync(LocalServer server, string jobId, IEnumerable<string> clientIds)
    {
        var hold = new EarlyClientsHeld(server.App.Services.GetRequiredService<IGrainFactory>(), server.App.Services.GetRequiredService<ClientIndex>(), jobId, clientIds.ToList());
        foreach (var id in hold._held)
            await hold._grains.GetGrain<IClientGrain>(id).SetAdmission(ClientAdmission.Paused);
        return hold;
    }

    /// <summary>
    /// Returns once each of <paramref name="clientIds"/> has been given a task of the job (woken by the index), or
    /// the job has stopped running (looked at each second too: an operator's stop changes no client).
    /// </summary>
    public Task UntilHoldingTasksAsync(IEnumerable<string> clientIds, CancellationToken cancellationToken)
    {
        var waiting = clientIds.ToList();
        return _index.UntilAsync(
            async () => waiting.TrueForAll(id => _index.AssignmentOf(id)?.JobId == _jobId)
                || await _grains.GetGrain<IJobGrain>(_jobId).GetStatus() != JobStatusKind.Running,
            TimeSpan.FromSeconds(1),
            cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _held)
            await _grains.GetGrain<IClientGrain>(id).SetAdmission(ClientAdmission.Active);
    }
}
