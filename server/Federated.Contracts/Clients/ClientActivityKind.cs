namespace Federated.Contracts.Clients;

public enum ClientActivityKind
{
    Idle,
    Downloading,
    Training,
    Uploading,
}
