namespace Federated.Fuzz;

/// <summary>
/// One parser under fuzzing. <see cref="Run"/> feeds it the input and swallows only the exceptions the parser
/// documents for bad input; anything else (and a hang) escapes and is a finding.
/// </summary>
public interface IFuzzTarget
{
    /// <summary>The name used on the command line and for corpus/&lt;name&gt; and regressions/&lt;name&gt;.</summary>
    string Name { get; }

    /// <summary>True where the parser accepted the input, false where it refused it as documented.</summary>
    bool Run(ReadOnlySpan<byte> input);

    /// <summary>A few valid inputs, the seed corpus (written to corpus/&lt;name&gt; by --write-seeds).</summary>
    IReadOnlyList<(string Name, byte[] Bytes)> Seeds();
}
