using System.Buffers.Binary;
using Federated.Core.Tensors;

namespace Federated.Core.Adapters;

/// <summary>
/// Checks an update payload as its bytes arrive, so a bad upload is refused at the first wrong byte and
/// never held whole in memory: the header must describe exactly the expected float32 LoRA factors at the
/// assigned rank with the expected scale, and every value must be finite.
/// </summary>
public sealed class UpdateStreamValidator
{
    private readonly AdapterLayout _layout;
    private readonly int _rank;
    private readonly double _expectedScale;
    private readonly long _payloadBytes;
    private readonly byte[] _prefix = new byte[8];
    private byte[]? _json;
    private int _filled;
    private SafeTensorsHeader? _header;
    private readonly byte[] _carry = new byte[4];
    private int _carried;
    private long _dataPosition;
    private int _tensorIndex;

    public UpdateStreamValidator(AdapterLayout layout, int rank, double expectedScale, long payloadBytes)
    {
        _layout = layout;
        _rank = rank;
        _expectedScale = expectedScale;
        _payloadBytes = payloadBytes;
    }

    public SafeTensorsHeader? Header => _header;

    /// <summary>Checks the next bytes of the payload; throws <see cref="AdapterFormatException"/> or <see cref="SafeTensorsFormatException"/>.</summary>
    public void Feed(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            if (_json is null)
            {
                var take = Math.Min(8 - _filled, bytes.Length);
                bytes[..take].CopyTo(_prefix.AsSpan(_filled));
                _filled += take;
                bytes = bytes[take..];
                if (_filled == 8)
                {
                    _json = new byte[SafeTensorsHeader.ReadLength(_prefix)];
                    _filled = 0;
                }
            }
            else if (_header is null)
            {
                var take = Math.Min(_json.Length - _filled, bytes.Length);
                bytes[..take].CopyTo(_json.AsSpan(_filled));
                _filled += take;
                bytes = bytes[take..];
                if (_filled == _json.Length)
                    AcceptHeader(SafeTensorsHeader.Parse(_json, _payloadBytes));
            }
            else
            {
                CheckValues(bytes);
                return;
            }
        }
    }

    /// <summary>Confirms the payload ended where its header says.</summary>
    public void Complete()
    {
        if (_header is null)
            throw new SafeTensorsFormatException("payload ended inside its header");
        if (_dataPosition != _header.DataBytes)
            throw new SafeTensorsFormatException($"payload holds {_dataPosition} data bytes but its header describes {_header.DataBytes}");
    }

    private void AcceptHeader(SafeTensorsHeader header)
    {
        _layout.ValidateHeader(header, _rank);
        var scale = AdapterSerializer.ScaleOf(header)
            ?? throw new AdapterFormatException($"update has no valid '{AdapterSerializer.ScaleKey}' metadata (got '{header.Metadata.GetValueOrDefault(AdapterSerializer.ScaleKey)}')");
        if (Math.Abs(scale - _expectedScale) > 1e-9 * Math.Abs(_expectedScale))
            throw new AdapterFormatException($"update scale {scale} does not match alpha / rank = {_expectedScale} of its task");
        _header = header;
    }

    private void CheckValues(ReadOnlySpan<byte> bytes)
    {
        if (_dataPosition + _carried + bytes.Length > _header!.DataBytes)
            throw new SafeTensorsFormatException($"payload has more data than the {_header.DataBytes} bytes its header describes");
        if (_carried > 0)
        {
            var take = Math.Min(4 - _carried, bytes.Length);
            bytes[..take].CopyTo(_carry.AsSpan(_carried));
            _carried += take;
            bytes = bytes[take..];
            if (_carried < 4)
                return;
            Check(BinaryPrimitives.ReadSingleLittleEndian(_carry));
            _carried = 0;
        }
        var whole = bytes.Length / 4 * 4;
        for (int i = 0; i < whole; i += 4)
            Check(BinaryPrimitives.ReadSingleLittleEndian(bytes[i..]));
        bytes[whole..].CopyTo(_carry);
        _carried = bytes.Length - whole;
    }

    private void Check(float value)
    {
        if (!float.IsFinite(value))
        {
            var tensors = _header!.Tensors;
            while (_tensorIndex < tensors.Count - 1 && tensors[_tensorIndex].End <= _dataPosition)
                _tensorIndex++;
            var tensor = tensors[_tensorIndex];
            var element = (_dataPosition - tensor.Begin) / 4;
            var what = float.IsNaN(value) ? "NaN" : "an infinite value";
            throw new AdapterFormatException($"tensor '{tensor.Name}' holds {what} at element {element}");
        }
        _dataPosition += 4;
    }
}
