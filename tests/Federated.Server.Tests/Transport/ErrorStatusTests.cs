using Federated.Contracts.Errors;
using Federated.Server.Transport;
using Grpc.Core;

namespace Federated.Server.Tests.Transport;

/// <summary>One table from a kind of refusal to the gRPC and the HTTP status.</summary>
public class ErrorStatusTests
{
    [Theory]
    [InlineData(FederatedError.InvalidArgument, StatusCode.InvalidArgument, 400)]
    [InlineData(FederatedError.NotFound, StatusCode.NotFound, 404)]
    [InlineData(FederatedError.FailedPrecondition, StatusCode.FailedPrecondition, 409)]
    [InlineData(FederatedError.AlreadyExists, StatusCode.AlreadyExists, 409)]
    [InlineData(FederatedError.ResourceExhausted, StatusCode.ResourceExhausted, 400)]
    [InlineData(FederatedError.DataLoss, StatusCode.DataLoss, 400)]
    public void Each_kind_has_its_grpc_and_http_status(FederatedError error, StatusCode grpc, int http)
    {
        Assert.Equal(grpc, ErrorStatus.Grpc(error));
        Assert.Equal(http, ErrorStatus.Http(error));
    }

    [Fact]
    public void Every_kind_is_in_the_table()
    {
        Assert.All(Enum.GetValues<FederatedError>(), e => ErrorStatus.Http(e));
        Assert.Throws<ArgumentOutOfRangeException>(() => ErrorStatus.Grpc((FederatedError)99));
    }
}
