using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Federated.Core.Adapters;
using Federated.Core.Tensors;

namespace Federated.Core.Aggregation;

/// <summary>
/// Stacking (see <see cref="StackingStrategy"/>) from stored float32 updates straight into an output payload,
/// a module at a time: each client's A is streamed through in small chunks, scaled by p_k s_k and written
/// (A's client blocks are contiguous rows); B's client blocks interleave within rows, so one module's B
/// factors are gathered into a reused buffer and written. Memory is one module's B, never the round.
/// </summary>
public sealed class StreamingStacking
{
    private const int ChunkFloats = 1 << 16;
    private readonly byte[] _bytes = new byte[ChunkFloats * sizeof(float)];
    private byte[] _input = [];
    private byte[] _output = [];

    /// <summary>
    /// Writes the stacked update of <paramref name="modules"/> (default: all of the first update's), its
    /// weighted mean multiplied by <paramref name="scale"/> (carried in the payload's scale), and returns its rank.
    /// </summary>
    public async Task<int> WriteAsync(IReadOnlyList<StoredUpdate> updates, IReadOnlyList<string>? modules, Stream output, double scale = 1.0, CancellationToken cancellationToken = default)
    {
        if (!double.IsFinite(scale) || scale <= 0)
            throw new ArgumentException($"the scale of a stacked update must be positive and finite, got {scale}", nameof(scale));
        if (updates.Count == 0)
            throw new ArgumentException("stacking needs at least one update", nameof(updates));
        var weights = AggregationWeights.Normalise(updates.Select(u => (u.Weight, u.Source)).ToList());
        var files = new List<FileStream>(updates.Count);
        try
        {
            var headers = new List<SafeTensorsHeader>(updates.Count);
            foreach (var update in updates)
            {
                var file = new FileStream(update.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                files.Add(file);
                headers.Add(await SafeTensorsSlices.ReadHeaderAsync(file, cancellationToken).ConfigureAwait(false));
            }
            modules ??= AdapterSerializer.ModuleNames(headers[0]);
            var coefficients = new float[updates.Count];
            for (int k = 0; k < updates.Count; k++)
                coefficients[k] = (float)(weights[k] * (AdapterSerializer.ScaleOf(headers[k])
                    ?? throw new AdapterFormatException($"the update from {updates[k].Source} has no valid '{AdapterSerializer.ScaleKey}' metadata")));

            var layout = modules.Select(m => Layout(m, updates, headers)).ToList();
            var (_, header) = SafeTensorsHeader.Create(layout.SelectMany(l => new[]
            {
                (AdapterTensorNames.A(l.Module), TensorDType.F32, (IReadOnlyList<long>)[l.TotalRank, l.In]),
                (AdapterTensorNames.B(l.Module), TensorDType.F32, (IReadOnlyList<long>)[l.Out, l.TotalRank]),
            }), new Dictionary<string, string> { ["format"] = "pt", [AdapterSerializer.ScaleKey] = scale.ToString("R", CultureInfo.InvariantCulture) });
            await output.WriteAsync(header, cancellationToken).ConfigureAwait(false);

            foreach (var module in layout)
            {
                for (int k = 0; k < files.Count; k++)
                    await CopyScaledAsync(files[k], headers[k], module.A[k], coefficients[k], output, cancellationToken).ConfigureAwait(false);
                await WriteGatheredBAsync(files, headers, module, output, cancellationToken).ConfigureAwait(false);
            }
            return layout.Count == 0 ? 0 : layout.Max(l => l.TotalRank);
        }
        finally
        {
            foreach (var file in files)
                await file.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed record ModuleLayout(string Module, int In, int Out, int TotalRank, TensorEntry[] A, TensorEntry[] B);

    private static ModuleLayout Layout(string module, IReadOnlyList<StoredUpdate> updates, IReadOnlyList<SafeTensorsHeader> headers)
    {
        var a = new TensorEntry[updates.Count];
        var b = new TensorEntry[updates.Count];
        int inFeatures = -1, outFeatures = -1, total = 0;
        for (int k = 0; k < updates.Count; k++)
        {
            a[k] = Entry(headers[k], AdapterTensorNames.A(module), updates[k].Source);
            b[k] = Entry(headers[k], AdapterTensorNames.B(module), updates[k].Source);
            if (a[k].Shape.Count != 2 || b[k].Shape.Count != 2 || a[k].Shape[0] != b[k].Shape[1])
                throw new AdapterFormatException($"module '{module}' of the update from {updates[k].Source}: lora_A is {a[k].ShapeText} and lora_B is {b[k].ShapeText}");
            if (k == 0)
                (inFeatures, outFeatures) = ((int)a[k].Shape[1], (int)b[k].Shape[0]);
            else if (a[k].Shape[1] != inFeatures || b[k].Shape[0] != outFeatures)
                throw new AdapterFormatException($"module '{module}' is {b[k].Shape[0]}×{a[k].Shape[1]} in the update from {updates[k].Source} but {outFeatures}×{inFeatures} in the update from {updates[0].Source}");
            total += (int)a[k].Shape[0];
        }
        return new ModuleLayout(module, inFeatures, outFeatures, total, a, b);
    }

    private static TensorEntry Entry(SafeTensorsHeader header, string name, string source)
    {
        if (!header.ByName.TryGetValue(name, out var entry))
            throw new AdapterFormatException($"the update from {source} lacks tensor '{name}'");
        if (entry.DType != TensorDType.F32)
            throw new AdapterFormatException($"tensor '{name}' of the update from {source} is {entry.DType}; stored updates are float32");
        return entry;
    }

    private async Task CopyScaledAsync(FileStream file, SafeTensorsHeader header, TensorEntry entry, float coefficient, Stream output, CancellationToken cancellationToken)
    {
        file.Position = header.DataOffset + entry.Begin;
        var remaining = entry.End - entry.Begin;
        while (remaining > 0)
        {
            var length = (int)Math.Min(_bytes.Length, remaining);
            await file.ReadExactlyAsync(_bytes.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            var values = MemoryMarshal.Cast<byte, float>(_bytes.AsSpan(0, length));
            TensorPrimitives.Multiply(values, coefficient, values);
            await output.WriteAsync(_bytes.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            remaining -= length;
        }
    }

    /// <summary>B = [B_1 … B_K] by columns: row i of the output is row i of each B_k in turn.</summary>
    private async Task WriteGatheredBAsync(IReadOnlyList<FileStream> files, IReadOnlyList<SafeTensorsHeader> headers, ModuleLayout module, Stream output, CancellationToken cancellationToken)
    {
        var totalBytes = module.Out * module.TotalRank * sizeof(float);
        if (_output.Length < totalBytes)
            _output = new byte[totalBytes];
        int offset = 0;
        for (int k = 0; k < files.Count; k++)
        {
            var rank = (int)module.B[k].Shape[1];
            var bytes = module.Out * rank * sizeof(float);
            if (_input.Length < bytes)
                _input = new byte[bytes];
            files[k].Position = headers[k].DataOffset + module.B[k].Begin;
            await files[k].ReadExactlyAsync(_input.AsMemory(0, bytes), cancellationToken).ConfigureAwait(false);
            var source = MemoryMarshal.Cast<byte, float>(_input.AsSpan(0, bytes));
            var target = MemoryMarshal.Cast<byte, float>(_output.AsSpan(0, totalBytes));
            for (int row = 0; row < module.Out; row++)
                source.Slice(row * rank, rank).CopyTo(target.Slice(row * module.TotalRank + offset, rank));
            offset += rank;
        }
        await output.WriteAsync(_output.AsMemory(0, totalBytes), cancellationToken).ConfigureAwait(false);
    }
}
