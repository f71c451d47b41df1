using Federated.Fuzz.Targets;

namespace Federated.Fuzz;

public static class FuzzTargets
{
    public static IReadOnlyList<IFuzzTarget> All { get; } =
    [
        new SafeTensorsTarget(),
        new UpdateStreamTarget(),
        new PeftConfigTarget(),
        new TokenizerJsonTarget(),
        new JsonlTarget(),
    ];

    public static IFuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
