using Federated.Contracts;
using Federated.Contracts.Errors;
using Grpc.Core;

namespace Federated.Server.Access;

/// <summary>
/// Who is calling the Coordinator service, as <see cref="ClientAuthentication"/> established it from the call's
/// credential, never from a message field: a client (<see cref="ClientId"/>), a daemon of the shared-token
/// migration switch (<see cref="Legacy"/>: trusted as the message says), or no one yet (only Enrol is open to it).
/// </summary>
public sealed partial record ClientCaller(string? ClientId, bool Legacy)
{
    private const string Key = "federated.client-caller";

    public static readonly ClientCaller Anonymous = new(null, false);

    public static readonly ClientCaller SharedToken = new(null, true);

    public bool IsAuthenticated => ClientId is not null;

    public static ClientCaller Of(ServerCallContext context)
        => context.UserState.TryGetValue(Key, out var caller) && caller is ClientCaller c ? c : Anonymous;

    internal void AttachTo(ServerCallContext context) => context.UserState[Key] = this;

    /// <summary>
    /// The client id a message names, which must be the caller's own: PERMISSION_DENIED for another's, UNAUTHENTICATED
    /// for a caller with no credential (a shared-token caller is taken at its word).
    /// </summary>
    public string Require(string? claimed, string what = "client_id")
    {
        var id = Identifiers.Require(claimed, what);
        if (Legacy)
            return id;
        if (ClientId is null)
            throw FederatedException.Unauthenticated("this call needs the client's credential (authorization: Bearer fcc1.…), which the client's first Enrol returned");
        if (!string.Equals(id, ClientId, StringComparison.Ordinal))
            throw FederatedException.Denied($"the credential presented is client '{ClientId}''s; it may not act as client '{Excerpt.Of(id)}'");
        return id;
    }

    /// <summary>
    /// A task id the caller names that is some client's task ("&lt;job&gt;.t&lt;n&gt;.&lt;client&gt;") must be its own:
    /// PERMISSION_DENIED otherwise. One that is no task id at all is left to the checks of its field.
    /// </summary>
    public static void RequireOwnTask(string? taskId, string clientId)
    {
        if (string.IsNullOrEmpty(taskId) || !TaskMark().IsMatch(taskId))
            return;
        var suffix = "." + clientId;
        if (!taskId.EndsWith(suffix, StringComparison.Ordinal) || !TaskPrefix().IsMatch(taskId[..^suffix.Length]))
            throw FederatedException.Denied($"task '{Excerpt.Of(taskId)}' is not a task of client '{clientId}'");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\.t[0-9]+$")]
    private static partial System.Text.RegularExpressions.Regex TaskPrefix();

    [System.Text.RegularExpressions.GeneratedRegex(@"\.t[0-9]+\.")]
    private static partial System.Text.RegularExpressions.Regex TaskMark();
}
