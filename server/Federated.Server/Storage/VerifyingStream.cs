using System.Security.Cryptography;
using Federated.Contracts.Errors;

namespace Federated.Server.Storage;

/// <summary>
/// A stored adapter opened for reading (from any backend), hashed as it is read: reaching its end with bytes whose SHA-256 is
/// not the one it is stored under throws DATA_LOSS naming that hash, so changed bytes are never taken for
/// the adapter it claims to be. A consumer that streams bytes onward fails at the end; one that reads
/// everything before use calls <see cref="VerifyToEndAsync"/> before using what it read.
/// </summary>
public sealed class VerifyingStream : Stream
{
    private readonly Stream _inner;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _position;
    private bool _checked;

    /// <summary>Wraps a backend's raw stream of the blob; its Length must be the stored size.</summary>
    internal VerifyingStream(Stream inner, string sha256)
    {
        _inner = inner;
        Length = inner.Length;
        Sha256 = sha256;
    }

    /// <summary>The hash the bytes must have.</summary>
    public string Sha256 { get; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length { get; }

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException("a verified read goes front to back once");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = _inner.Read(buffer);
        return Account(buffer[..read]);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..read]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reads what is left (nothing, for a consumer that read it all) and checks the hash.</summary>
    public async Task VerifyToEndAsync(CancellationToken cancellationToken = default)
    {
        var buffer = new byte[1 << 16];
        while (await ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
        {
        }
    }

    private int Account(ReadOnlySpan<byte> read)
    {
        if (read.Length > 0)
        {
            _hash.AppendData(read);
            _position += read.Length;
            return read.Length;
        }
        if (!_checked)
        {
            var actual = Convert.ToHexStringLower(_hash.GetHashAndReset());
            if (!string.Equals(actual, Sha256, StringComparison.Ordinal))
                throw Damaged(Sha256, actual);
            _checked = true;
        }
        return 0;
    }

    internal static FederatedException Damaged(string sha256, string actual)
        => new(FederatedError.DataLoss, $"stored adapter {sha256} is damaged: its bytes hash to {actual}; it was not used");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("a verified read goes front to back once");

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync().ConfigureAwait(false);
        _hash.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
