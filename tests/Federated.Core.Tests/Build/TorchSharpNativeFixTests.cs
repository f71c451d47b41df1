using Federated.Build;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Build;

/// <summary>The build's fix for TorchSharp's GLIBCXX_3.4.32 need (shared/build/ElfVersionNeedPatch.cs).</summary>
public class TorchSharpNativeFixTests
{
    private const string Version = "GLIBCXX_3.4.32";
    private const string Symbol = "_ZSt21ios_base_library_initv";
    private static readonly string Library = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [Fact]
    public void The_library_needs_the_version_for_one_unused_symbol_only()
    {
        var elf = File.ReadAllBytes(Library);
        var need = ElfVersionNeedPatch.ReadVersionNeeds(elf).Single(n => n.Version == Version);
        Assert.Equal("libstdc++.so.6", need.File);
        Assert.Equal([Symbol], ElfVersionNeedPatch.SymbolsBoundTo(elf, need.Index));
    }

    [Fact]
    public void The_built_library_is_patched_exactly_when_the_system_lacks_the_version()
    {
        var system = ElfVersionNeedPatch.FindSystemLibStdCxx();
        Assert.NotNull(system);
        var systemHasIt = ElfVersionNeedPatch.ReadVersionDefinitions(File.ReadAllBytes(system)).Contains(Version);
        var need = ElfVersionNeedPatch.ReadVersionNeeds(File.ReadAllBytes(Library)).Single(n => n.Version == Version);
        Assert.Equal(!systemHasIt, need.IsWeak);
    }

    [Fact]
    public void Patching_sets_only_the_weak_flag_of_that_one_need()
    {
        var original = Unpatched();
        var patched = (byte[])original.Clone();
        Assert.Null(ElfVersionNeedPatch.TryMakeWeak(patched, "libstdc++.so.6", Version, [Symbol], out var changed));
        Assert.True(changed);
        Assert.Single(Enumerable.Range(0, original.Length), i => original[i] != patched[i]);
        var needs = ElfVersionNeedPatch.ReadVersionNeeds(patched);
        Assert.True(needs.Single(n => n.Version == Version).IsWeak);
        Assert.All(needs.Where(n => n.Version != Version), n => Assert.False(n.IsWeak));

        Assert.Null(ElfVersionNeedPatch.TryMakeWeak(patched, "libstdc++.so.6", Version, [Symbol], out var again));
        Assert.False(again); // already weak: nothing to do
    }

    [Fact]
    public void Patching_is_refused_when_a_callable_symbol_needs_the_version()
    {
        var elf = Unpatched();
        var refusal = ElfVersionNeedPatch.TryMakeWeak(elf, "libstdc++.so.6", Version, ["some_other_symbol"], out var changed);
        Assert.False(changed);
        Assert.Contains(Symbol, refusal);
    }

    [Fact]
    public void TorchSharp_loads_and_computes()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, a.matmul(a).data<float>().ToArray());
    }

    private static byte[] Unpatched()
    {
        var elf = File.ReadAllBytes(Library);
        var need = ElfVersionNeedPatch.ReadVersionNeeds(elf).Single(n => n.Version == Version);
        elf[need.FlagsOffset] &= unchecked((byte)~ElfVersionNeedPatch.VerFlagWeak);
        return elf;
    }
}
