namespace Federated.Server.Tests.Infrastructure;

/// <summary>
/// One coordinator for every test class in the collection, started once: for tests that only call it over
/// gRPC with their own client and job ids. Tests that restart a server, need other settings, or count what the
/// whole server stored keep a server of their own (<c>IClassFixture&lt;ServerFixture&gt;</c>).
/// </summary>
[CollectionDefinition(Name)]
public sealed class SharedServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "shared server";
}

/// <summary>
/// A test class on the collection's server. After each test it stops the jobs the test left running: a poll
/// takes a task from any running job, so a job left open would hand tasks to the next test's clients.
/// </summary>
[Collection(SharedServerCollection.Name)]
public abstract class SharedServerTests(ServerFixture fixture) : IAsyncLifetime
{
    protected ServerFixture Fixture { get; } = fixture;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => Fixture.StopRunningJobsAsync();
}
