namespace Federated.Core.Tensors;

/// <summary>
/// Random access into a safetensors file: read the header, then only the tensors wanted, and join several
/// payloads into one by copying their data, so large adapters are handled a part at a time.
/// </summary>
public static class SafeTensorsSlices
{
    public static async Task<SafeTensorsHeader> ReadHeaderAsync(FileStream file, CancellationToken cancellationToken = default)
    {
        file.Position = 0;
        return await SafeTensorsHeader.ReadAsync(file, file.Length, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one tensor of <paramref name="header"/>'s payload as float32.</summary>
    public static async Task<NamedTensor> ReadAsync(FileStream file, SafeTensorsHeader header, TensorEntry entry, CancellationToken cancellationToken = default)
    {
        file.Position = header.DataOffset + entry.Begin;
        var data = new float[SafeTensorsHeader.InMemoryLength(entry)];
        await SafeTensorsFile.ReadIntoAsync(file, entry, data, cancellationToken).ConfigureAwait(false);
        return new NamedTensor(entry.Name, entry.Shape, data);
    }

    /// <summary>
    /// Writes one payload holding every tensor of <paramref name="parts"/> in order (names must not repeat;
    /// metadata must agree), copying data without decoding it.
    /// </summary>
    public static async Task ConcatenateAsync(IReadOnlyList<string> parts, Stream output, CancellationToken cancellationToken = default)
    {
        var headers = new List<SafeTensorsHeader>(parts.Count);
        foreach (var part in parts)
        {
            await using var file = new FileStream(part, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            headers.Add(await ReadHeaderAsync(file, cancellationToken).ConfigureAwait(false));
        }
        var metadata = headers.Count > 0 ? headers[0].Metadata : new Dictionary<string, string>();
        for (int i = 1; i < headers.Count; i++)
        {
            if (!headers[i].Metadata.OrderBy(kv => kv.Key).SequenceEqual(metadata.OrderBy(kv => kv.Key)))
                throw new SafeTensorsFormatException($"{parts[i]}: its metadata differs from {parts[0]}'s; parts of one payload must agree");
        }
        var (_, header) = SafeTensorsHeader.Create(headers.SelectMany(h => h.Tensors).Select(t => (t.Name, t.DType, t.Shape)), metadata);
        await output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < parts.Count; i++)
        {
            await using var file = new FileStream(parts[i], FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            file.Position = headers[i].DataOffset;
            await file.CopyToAsync(output, 1 << 20, cancellationToken).ConfigureAwait(false);
        }
    }
}
