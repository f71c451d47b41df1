namespace Federated.Contracts.Jobs;

public enum JobStatusKind
{
    Running,
    Completed,
    Failed,
}
