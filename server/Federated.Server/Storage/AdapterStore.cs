using System.Security.Cryptography;
using Federated.Contracts;
using Federated.Contracts.Errors;
using Federated.Core.Adapters;
using Federated.Core.Tensors;

namespace Federated.Server.Storage;

/// <summary>
/// Content-addressed store of adapter payloads: each is kept once, at sha256/ab/abcd….safetensors, named by
/// the SHA-256 of its bytes. Grain state refers to adapters by that hash; the bytes never enter grain state.
/// New payloads are written to a temporary file and only renamed into place once complete and checked;
/// the file is fsynced before, and its directory after, the rename (<see cref="DurableFiles"/>), so an acknowledged
/// payload survives power loss; every read checks the bytes against the hash again (<see cref="VerifyingStream"/>), so a file changed on
/// disk fails with DATA_LOSS instead of feeding wrong bytes on.
/// </summary>
public sealed class AdapterStore
{
    private readonly string _temporary;

    public AdapterStore(string rootDirectory)
    {
        Root = Path.GetFullPath(rootDirectory);
        _temporary = Path.Combine(Root, "incoming");
        Directory.CreateDirectory(_temporary);
        foreach (var leftover in Directory.EnumerateFiles(_temporary))
            File.Delete(leftover); // writes interrupted by a crash: their senders retry
    }

    public string Root { get; }

    public static bool IsValidHash(string sha256)
        => sha256.Length == 64 && sha256.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    public string PathOf(string sha256)
    {
        if (!IsValidHash(sha256))
            throw FederatedException.Invalid($"'{Excerpt.Of(sha256)}' is not a SHA-256 in lower-case hex (64 characters)");
        return Path.Combine(Root, "sha256", sha256[..2], sha256 + ".safetensors");
    }

    public bool Contains(string sha256) => File.Exists(PathOf(sha256));

    /// <summary>Removes a payload that nothing refers to (an aggregation shard's part once joined).</summary>
    public void Delete(string sha256) => File.Delete(PathOf(sha256));

    /// <summary>Opens a payload for one front-to-back read that fails with DATA_LOSS at its end if the bytes are not the hash's.</summary>
    public VerifyingStream OpenRead(string sha256)
        => new(new FileStream(Existing(sha256), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true), sha256);

    /// <summary>Reads a whole adapter, checked against its hash before it is returned (one pass over the bytes).</summary>
    public async Task<LoraAdapter> ReadAdapterAsync(string sha256, CancellationToken cancellationToken = default)
    {
        await using var stream = OpenRead(sha256);
        LoraAdapter adapter;
        try
        {
            adapter = await AdapterSerializer.ReadAsync(stream, stream.Length, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AdapterFormatException or SafeTensorsFormatException)
        {
            await stream.VerifyToEndAsync(cancellationToken).ConfigureAwait(false); // damaged bytes are DATA_LOSS, not a bad request
            throw;
        }
        await stream.VerifyToEndAsync(cancellationToken).ConfigureAwait(false);
        return adapter;
    }

    /// <summary>
    /// The path of a payload whose bytes were just checked against its hash, for readers that seek (a shard
    /// of layers, a header): they cannot check as they go, so this costs one extra pass over the file.
    /// </summary>
    public async Task<string> VerifiedPathAsync(string sha256, CancellationToken cancellationToken = default)
    {
        await using (var stream = OpenRead(sha256))
            await stream.VerifyToEndAsync(cancellationToken).ConfigureAwait(false);
        return PathOf(sha256);
    }

    /// <summary>Starts a new payload; nothing is stored unless it is committed.</summary>
    public PendingAdapter BeginWrite() => new(this, Path.Combine(_temporary, Guid.NewGuid().ToString("N")));

    /// <summary>Writes a payload produced by <paramref name="write"/> and returns its hash.</summary>
    public async Task<(string Sha256, long SizeBytes)> WriteAsync(Func<Stream, Task> write)
    {
        await using var pending = BeginWrite();
        await write(pending.Stream).ConfigureAwait(false);
        return await pending.CommitAsync().ConfigureAwait(false);
    }

    internal string Commit(string temporaryPath, string sha256)
    {
        var path = PathOf(sha256);
        DurableFiles.CreateDirectoryDurably(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
            File.Delete(temporaryPath); // same bytes already stored
        else
            DurableFiles.MoveDurably(temporaryPath, path, overwrite: false); // the bytes were fsynced by the caller
        return path;
    }

    private string Existing(string sha256)
    {
        var path = PathOf(sha256);
        if (!File.Exists(path))
            throw FederatedException.NotFound($"no adapter with SHA-256 {sha256} is stored");
        return path;
    }
}

/// <summary>An adapter payload being written: hashed as it goes, deleted unless committed.</summary>
public sealed class PendingAdapter : IAsyncDisposable
{
    private readonly AdapterStore _store;
    private readonly string _path;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly HashingStream _stream;
    private bool _committed;

    internal PendingAdapter(AdapterStore store, string path)
    {
        _store = store;
        _path = path;
        _stream = new HashingStream(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true), _hash);
    }

    /// <summary>Write-only view that hashes what passes through.</summary>
    public Stream Stream => _stream;

    public long Length => _stream.Length;

    public async Task<(string Sha256, long SizeBytes)> CommitAsync()
    {
        _stream.FlushToDisk(); // the bytes are on disk before the rename makes them the hash's (and before the upload is acknowledged)
        var length = _stream.Length;
        await _stream.DisposeAsync().ConfigureAwait(false);
        var sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset());
        _store.Commit(_path, sha256);
        _committed = true;
        return (sha256, length);
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
