using Federated.Core.Adapters;
using Federated.Core.Tensors;

namespace Federated.Fuzz.Targets;

/// <summary>
/// An uploaded update as the server checks it while it arrives (<see cref="UpdateStreamValidator"/>), for the
/// layout of <see cref="Adapters.Layout"/>. The first byte picks the chunk size the rest is fed in, so chunk
/// boundaries fall everywhere. Bad input is <see cref="AdapterFormatException"/> or <see cref="SafeTensorsFormatException"/>.
/// </summary>
public sealed class UpdateStreamTarget : IFuzzTarget
{
    public string Name => "update-stream";

    public bool Run(ReadOnlySpan<byte> input)
    {
        if (input.Length == 0)
            return false;
        var chunk = input[0] == 0 ? int.MaxValue : input[0];
        var payload = input[1..];
        var validator = new UpdateStreamValidator(Adapters.Layout(), Adapters.Rank, Adapters.Scale, payload.Length);
        try
        {
            while (payload.Length > 0)
            {
                var take = Math.Min(chunk, payload.Length);
                validator.Feed(payload[..take]);
                payload = payload[take..];
            }
            validator.Complete();
            return true;
        }
        catch (AdapterFormatException e)
        {
            return Refusal.Note(e);
        }
        catch (SafeTensorsFormatException e)
        {
            return Refusal.Note(e);
        }
    }

    public IReadOnlyList<(string Name, byte[] Bytes)> Seeds()
    {
        var update = AdapterSerializer.ToBytes(Adapters.Small());
        return
        [
            ("whole.bin", [0, .. update]),
            ("chunks-of-3.bin", [3, .. update]),
            ("chunks-of-64.bin", [64, .. update]),
        ];
    }
}
