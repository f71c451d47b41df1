using System.Security.Cryptography;

namespace Federated.Server.Storage;

/// <summary>An adapter payload being written: hashed as it goes, deleted unless committed.</summary>
public sealed class PendingAdapter : IAsyncDisposable
{
    private readonly AdapterStore _store;
    private readonly string _path;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly HashingStream _stream;
    private readonly bool _scratch;
    private bool _committed;

    internal PendingAdapter(AdapterStore store, string path, bool scratch)
    {
        _store = store;
        _path = path;
        _scratch = scratch;
        _stream = new HashingStream(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true), _hash);
    }

    /// <summary>Write-only view that hashes what passes through.</summary>
    public Stream Stream => _stream;

    public long Length => _stream.Length;

    public async Task<(string Sha256, long SizeBytes)> CommitAsync()
    {
        // A backend of files renames this very file into place, so it is on disk before it becomes the hash's (and before
        // the upload is acknowledged); a database backend copies it and makes it durable by its own commit, so an fsync
        // of a file about to be deleted would only cost time.
        if (_store.Blobs.KeepsFiles)
            _stream.FlushToDisk();
        else
            await _stream.FlushAsync().ConfigureAwait(false);
        var length = _stream.Length;
        await _stream.DisposeAsync().ConfigureAwait(false);
        var sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset());
        await _store.CommitAsync(_path, sha256, _scratch).ConfigureAwait(false); // the backend consumes the file
        _committed = true;
        return (sha256, length);
    }

    /// <summary>
    /// Moves the bytes written so far to <paramref name="path"/> instead of storing them (an upload cut on the way,
    /// kept for its resume; <see cref="Transport.PartialUploads"/>); returns their length.
    /// </summary>
    public async Task<long> KeepAsync(string path)
    {
        await _stream.FlushAsync().ConfigureAwait(false);
        var length = _stream.Length;
        await _stream.DisposeAsync().ConfigureAwait(false);
        File.Move(_path, path, overwrite: true);
        _committed = true;
        return length;
    }

    /// <summary>The SHA-256 of the bytes written so far.</summary>
    public string CurrentHash() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _hash.Dispose();
        if (!_committed && File.Exists(_path))
            File.Delete(_path);
    }

    private sealed class HashingStream(FileStream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => throw new NotSupportedException();
        }

        public override void Flush() => inner.Flush();

        public void FlushToDisk() => inner.Flush(flushToDisk: true);

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            hash.AppendData(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
