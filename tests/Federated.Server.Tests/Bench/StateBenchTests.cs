using Federated.Simulations.Bench;

namespace Federated.Server.Tests.Bench;

/// <summary>The state bench's plumbing on a small federation; its timings are reported by the bench command, not asserted.</summary>
public class StateBenchTests
{
    [Fact]
    public void Bench_measures_both_formats_over_a_state_with_every_client()
    {
        var result = StateBench.Measure(clients: 200, repeats: 2);

        Assert.Equal((200, 400, 2), (result.Clients, result.Tasks, result.Repeats)); // an open and an accepted task per client
        Assert.True(result.MessagePackBytes > result.PolicyStateBytes && result.JsonBytes > result.PolicyStateBytes, "both files carry the policy's state");
        Assert.InRange(result.CompactJsonBytes, result.MessagePackBytes + 1, result.JsonBytes - 1); // indentation is part of JSON's size
        Assert.True(result.SizeRatio < 1, $"MessagePack is smaller than indented JSON ({result.MessagePackBytes} against {result.JsonBytes} bytes)");
        Assert.All([result.MessagePackSave, result.MessagePackLoad, result.JsonSave, result.JsonLoad, result.PolicySerialise], s => Assert.True(s.Min > 0 && s.Min <= s.Median && s.Median <= s.Max));
    }

    [Fact]
    public void The_state_holds_each_client_and_the_fedcompass_policy()
    {
        var (state, groups) = StateBench.SchedulerStateOf(50);
        Assert.Equal(50, state.AssignedRanks.Count);
        Assert.Equal(50, state.Issued.Values.Count(t => t.Update is not null));
        Assert.Contains("\"policy\":\"fedcompass\"", state.PolicyState);
        Assert.True(groups > 0, "fedcompass grouped the clients");
        Assert.Throws<ArgumentOutOfRangeException>(() => StateBench.Measure(clients: 1));
    }
}
