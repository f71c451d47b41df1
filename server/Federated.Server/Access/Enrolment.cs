using Federated.Contracts;
using Federated.Contracts.Access;
using Federated.Contracts.Clients;
using Federated.Contracts.Errors;
using Federated.Protos;
using Federated.Protos.V1;
using Federated.Server.Transport;
using Microsoft.Extensions.Options;

namespace Federated.Server.Access;

/// <summary>
/// Enrol's rules: a client holding its credential re-enrols (a new device profile after a restart); a first
/// enrolment spends one use of a join token (unless <see cref="EnrolmentOptions.Open"/>) and gets the client its own
/// credential, returned once, whose hash alone the client's grain keeps.
/// </summary>
public sealed partial class Enrolment(IGrainFactory grains, IOptions<EnrolmentOptions> options, ILogger<Enrolment> logger)
{
    /// <returns>The new credential on a first enrolment; null on a re-enrolment.</returns>
    public async Task<string?> EnrolAsync(ClientCaller caller, EnrolRequest request)
    {
        var clientId = Identifiers.Require(request.ClientId, "client_id");
        var profile = ProtoMapping.ToProfile(request);
        ClientInputLimits.CheckProfile(profile); // a malformed profile spends no join token
        var client = grains.GetGrain<IClientGrain>(clientId);
        if (caller.Legacy || caller.IsAuthenticated)
        {
            caller.Require(clientId);
            await client.Enrol(profile);
            return null;
        }

        string? tokenId = null;
        var repeat = false;
        if (!string.IsNullOrEmpty(request.JoinToken))
        {
            if (!PrefixedSecret.TryParse(request.JoinToken, PrefixedSecret.JoinTokenPrefix, out var token))
                throw FederatedException.Unauthenticated("join_token is not a join token (expected fjt1.<id>.<secret>, as `federated tokens create` prints it)");
            var redemption = await grains.GetGrain<IJoinTokensGrain>(0).Redeem(token.Id, token.Hash(), clientId);
            if (redemption.Refusal is { } refusal)
            {
                LogRefused(logger, clientId, refusal);
                throw FederatedException.Unauthenticated($"{refusal}; ask an operator for a new join token");
            }
            (tokenId, repeat) = (token.Id, redemption.Repeat);
        }
        else if (!options.Value.Open)
            throw FederatedException.Unauthenticated("a first enrolment needs a join token (join_token; an operator makes one with `federated tokens create`)");

        var credential = PrefixedSecret.Create(PrefixedSecret.ClientCredentialPrefix, clientId);
        try
        {
            await client.EnrolNew(profile, credential.Hash(), tokenId);
        }
        catch when (tokenId is not null && !repeat)
        {
            await grains.GetGrain<IJoinTokensGrain>(0).GiveBack(tokenId, clientId); // not enrolled, so the use is not spent
            throw;
        }
        LogIssued(logger, clientId, tokenId ?? "(open enrolment)");
        return credential.ToString();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Client {ClientId} enrolled with join token {TokenId} and got its own credential")]
    private static partial void LogIssued(ILogger logger, string clientId, string tokenId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client {ClientId}'s first enrolment was refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string clientId, string reason);
}
