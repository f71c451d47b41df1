using System.Security.Cryptography;
using Federated.Contracts;
using Federated.Contracts.Access;
using Federated.Contracts.Errors;
using Federated.Server.Hosting;

namespace Federated.Server.Access;

/// <summary>Persisted state of <see cref="OperatorAccountsGrain"/>.</summary>
public sealed class OperatorAccountsState
{
    public Dictionary<string, OperatorAccountRecord> Accounts { get; set; } = new(StringComparer.Ordinal);
}

public sealed class OperatorAccountRecord
{
    public OperatorRole Role { get; set; }

    public byte[] KeyHash { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public string CreatedBy { get; set; } = "";
}

/// <summary>The accounts an admin added at run time: one activation in the cluster, state in the shared grain storage.</summary>
[GrainType("operator-accounts")]
public sealed partial class OperatorAccountsGrain(
    [PersistentState("operator-accounts", StorageNames.State)] IPersistentState<OperatorAccountsState> state,
    TimeProvider time,
    ILogger<OperatorAccountsGrain> logger) : Grain, IOperatorAccountsGrain
{
    public const int MaxAccounts = 10_000;

    public async Task<OperatorAccountInfo> Add(string name, OperatorRole role, byte[] keyHash, string createdBy)
    {
        Identifiers.Require(name, "name");
        if (keyHash.Length != 32)
            throw FederatedException.Invalid("the key's hash must be a SHA-256 (32 bytes)");
        if (state.State.Accounts.ContainsKey(name))
            throw FederatedException.Precondition($"name: there is an account '{name}' already");
        if (state.State.Accounts.Count >= MaxAccounts)
            throw FederatedException.Precondition($"there are {MaxAccounts:N0} accounts already; remove some first");
        var record = new OperatorAccountRecord { Role = role, KeyHash = keyHash, CreatedAt = time.GetUtcNow(), CreatedBy = createdBy };
        state.State.Accounts[name] = record;
        await state.WriteStateAsync();
        LogAdded(logger, name, role.Name(), createdBy);
        return Info(name, record);
    }

    public Task<IReadOnlyList<OperatorAccountInfo>> List()
        => Task.FromResult<IReadOnlyList<OperatorAccountInfo>>([.. state.State.Accounts.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => Info(a.Key, a.Value))]);

    public async Task<OperatorAccountInfo> Remove(string name)
    {
        var record = Find(name);
        state.State.Accounts.Remove(name);
        await state.WriteStateAsync();
        LogRemoved(logger, name);
        return Info(name, record);
    }

    public async Task<OperatorAccountInfo> SetRole(string name, OperatorRole role)
    {
        var record = Find(name);
        if (record.Role != role)
        {
            record.Role = role;
            await state.WriteStateAsync();
            LogRole(logger, name, role.Name());
        }
        return Info(name, record);
    }

    public Task<OperatorRole?> Verify(string name, byte[] keyHash)
    {
        // One answer for an unknown name and a wrong key: a caller learns nothing about which names exist.
        var found = state.State.Accounts.TryGetValue(name, out var record);
        var matches = CryptographicOperations.FixedTimeEquals(found ? record!.KeyHash : new byte[32], keyHash.Length == 32 ? keyHash : new byte[32]);
        return Task.FromResult(found && matches && keyHash.Length == 32 ? record!.Role : (OperatorRole?)null);
    }

    public Task<OperatorRole?> RoleOf(string name)
        => Task.FromResult(state.State.Accounts.TryGetValue(name, out var record) ? record.Role : (OperatorRole?)null);

    private OperatorAccountRecord Find(string name)
        => state.State.Accounts.TryGetValue(name, out var record) ? record : throw FederatedException.NotFound($"there is no account '{name}' added at run time");

    private static OperatorAccountInfo Info(string name, OperatorAccountRecord r) => new(name, r.Role, r.CreatedAt, r.CreatedBy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Operator account {Account} added with role {Role} by {CreatedBy}")]
    private static partial void LogAdded(ILogger logger, string account, string role, string createdBy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Operator account {Account} removed")]
    private static partial void LogRemoved(ILogger logger, string account);

    [LoggerMessage(Level = LogLevel.Information, Message = "Operator account {Account} now has role {Role}")]
    private static partial void LogRole(ILogger logger, string account, string role);
}
