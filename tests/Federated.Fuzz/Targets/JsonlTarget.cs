using Federated.Core.Data;

namespace Federated.Fuzz.Targets;

/// <summary>A training-data JSONL file as a client reads its dataset. Bad input is <see cref="DataFormatException"/>.</summary>
public sealed class JsonlTarget : IFuzzTarget
{
    private readonly Lazy<ScratchFile> _file = new(() => new ScratchFile("data.jsonl"));

    public string Name => "jsonl";

    public bool Run(ReadOnlySpan<byte> input)
    {
        try
        {
            _ = JsonlExamples.LoadWithFormat(_file.Value.Write(input));
            return true;
        }
        catch (DataFormatException e)
        {
            return Refusal.Note(e);
        }
    }

    public IReadOnlyList<(string Name, byte[] Bytes)> Seeds() =>
    [
        ("prompt-completion.jsonl", "{\"prompt\":\"2+2?\",\"completion\":\"4\",\"category\":\"math\"}\n\n{\"prompt\":\"hi\",\"completion\":\"hello\"}\n"u8.ToArray()),
        ("alpaca.jsonl", "{\"instruction\":\"Sum\",\"input\":\"1 2\",\"output\":\"3\"}\n{\"instruction\":\"x\",\"output\":\"y\"}\n"u8.ToArray()),
        ("dolly.jsonl", "{\"instruction\":\"Say\",\"context\":\"\",\"response\":\"ok\",\"category\":\"qa\"}\n"u8.ToArray()),
        ("chat.jsonl", "{\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"hello\"}]}\n"u8.ToArray()),
        ("text.jsonl", "{\"text\":\"plain \\u00e9 text\"}\r\n{\"text\":\"more\"}"u8.ToArray()),
    ];
}
