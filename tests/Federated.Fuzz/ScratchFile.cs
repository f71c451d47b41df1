namespace Federated.Fuzz;

/// <summary>
/// The parsers that read files (tokenizer.json, JSONL) take a path, so an input is written to a file of this
/// process's own first: one per process and target, rewritten for each input.
/// </summary>
internal sealed class ScratchFile
{
    private readonly string _path;

    public ScratchFile(string fileName)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"federated-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        _path = Path.Combine(folder, fileName);
    }

    public string Write(ReadOnlySpan<byte> bytes)
    {
        using (var file = new FileStream(_path, FileMode.Create, FileAccess.Write))
            file.Write(bytes);
        return _path;
    }
}
