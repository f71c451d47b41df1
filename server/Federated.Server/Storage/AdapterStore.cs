using Federated.Contracts;
using Federated.Contracts.Errors;
using Federated.Core.Adapters;
using Federated.Core.Tensors;
using Federated.Server.Storage.Blobs;

namespace Federated.Server.Storage;

/// <summary>
/// Content-addressed store of adapter payloads, the one place the server reads and writes adapter bytes: each is kept
/// once in a backend (<see cref="IAdapterBlobs"/>: files or PostgreSQL), named by the SHA-256 of its bytes. Grain state
/// refers to adapters by that hash; the bytes never enter grain state. New payloads are written to a temporary file
/// under incoming/&lt;owner&gt;/ (fsynced, hashed as written) and only put into the backend once complete and checked,
/// so an acknowledged payload survives power loss; every read checks the bytes against the hash again
/// (<see cref="VerifyingStream"/>), so changed bytes fail with DATA_LOSS instead of feeding wrong bytes on.
/// </summary>
/// <remarks>
/// <para>The owner is this silo's stable name (<see cref="AdapterStores.OwnerOf"/>): an upload in flight belongs to
/// the silo receiving it, and a store starting up removes only its own owner's leftovers, never another silo's on a
/// shared folder.</para>
/// <para>Deletion: only payloads written as scratch (<see cref="WriteAsync"/> with <c>scratch</c>: an aggregation
/// shard's parts) can be deleted, and only by <see cref="DeleteScratchAsync"/>; everything a job's history can name is
/// written kept and is never deleted, even when a scratch part happens to have the same bytes.</para>
/// </remarks>
public sealed class AdapterStore : IAsyncDisposable
{
    private readonly string _temporary;
    private readonly LocalAdapterCopies? _copies;

    /// <summary>The files backend in <paramref name="rootDirectory"/>, owned by "local" (one silo, or tests).</summary>
    public AdapterStore(string rootDirectory)
        : this(rootDirectory, new FileAdapterBlobs(rootDirectory), AdapterStores.LocalOwner)
    {
    }

    /// <param name="localRoot">This silo's folder for uploads in flight (and copies, for a backend without files).</param>
    /// <param name="blobs">Where the bytes are kept.</param>
    /// <param name="owner">This silo's stable name; a folder name.</param>
    public AdapterStore(string localRoot, IAdapterBlobs blobs, string owner)
    {
        if (!AdapterStores.IsValidOwner(owner))
            throw new ArgumentException($"'{Excerpt.Of(owner)}' is not an adapter store owner: letters, digits, '.', '_' and '-' only", nameof(owner));
        Root = Path.GetFullPath(localRoot);
        Blobs = blobs;
        Owner = owner;
        var incoming = Path.Combine(Root, "incoming");
        _temporary = Path.Combine(incoming, owner);
        Directory.CreateDirectory(_temporary);
        foreach (var leftover in Directory.EnumerateFiles(_temporary))
            File.Delete(leftover); // this silo's writes interrupted by a crash: their senders retry
        if (owner == AdapterStores.LocalOwner && Directory.Exists(incoming))
            foreach (var legacy in Directory.EnumerateFiles(incoming))
                File.Delete(legacy); // earlier versions wrote straight into incoming/, always as the only silo
        if (!blobs.KeepsFiles)
            _copies = new LocalAdapterCopies(Path.Combine(Root, "cache", owner));
    }

    public string Root { get; }

    public IAdapterBlobs Blobs { get; }

    public string Owner { get; }

    public static bool IsValidHash(string sha256)
        => sha256.Length == 64 && sha256.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    /// <summary>Throws INVALID_ARGUMENT unless <paramref name="sha256"/> is a SHA-256 in lower-case hex.</summary>
    public static string RequireHash(string sha256)
        => IsValidHash(sha256) ? sha256 : throw FederatedException.Invalid($"'{Excerpt.Of(sha256)}' is not a SHA-256 in lower-case hex (64 characters)");

    public async Task<bool> ContainsAsync(string sha256, CancellationToken cancellationToken = default)
        => await SizeAsync(sha256, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>The stored payload's size in bytes; null when it is not stored.</summary>
    public Task<long?> SizeAsync(string sha256, CancellationToken cancellationToken = default)
        => Blobs.SizeAsync(RequireHash(sha256), cancellationToken);

    /// <summary>Removes a payload written as scratch (an aggregation shard's part once joined); a kept one stays.</summary>
    public Task DeleteScratchAsync(string sha256, CancellationToken cancellationToken = default)
        => Blobs.DeleteScratchAsync(RequireHash(sha256), cancellationToken);

    /// <summary>Opens a payload for one front-to-back read that fails with DATA_LOSS at its end if the bytes are not the hash's.</summary>
    public async Task<VerifyingStream> OpenReadAsync(string sha256, CancellationToken cancellationToken = default)
    {
        var raw = await Blobs.OpenReadAsync(RequireHash(sha256), cancellationToken).ConfigureAwait(false)
            ?? throw FederatedException.NotFound($"no adapter with SHA-256 {sha256} is stored");
        return new VerifyingStream(raw, sha256);
    }

    /// <summary>Reads a whole adapter, checked against its hash before it is returned (one pass over the bytes).</summary>
    public async Task<LoraAdapter> ReadAdapterAsync(string sha256, CancellationToken cancellationToken = default)
    {
        await using var stream = await OpenReadAsync(sha256, cancellationToken).ConfigureAwait(false);
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
    /// A payload as a seekable file on this machine, for readers that seek (a shard of layers, a header) and so cannot
    /// check as they go; dispose it when done. A copy (backends without files) is always checked while it is made; the
    /// stored file itself (files) is checked in one extra pass when <paramref name="verify"/> says so: pass false only
    /// when this same round already verified it (the aggregator checks each input once for all its shards).
    /// </summary>
    public async Task<LocalAdapterFile> OpenLocalAsync(string sha256, bool verify = true, CancellationToken cancellationToken = default)
    {
        RequireHash(sha256);
        if (_copies is not null)
            return await _copies.AcquireAsync(sha256, () => OpenReadAsync(sha256)).ConfigureAwait(false);
        var path = Blobs.LocalFile(sha256) ?? throw FederatedException.NotFound($"no adapter with SHA-256 {sha256} is stored");
        if (verify)
        {
            await using var stream = await OpenReadAsync(sha256, cancellationToken).ConfigureAwait(false);
            await stream.VerifyToEndAsync(cancellationToken).ConfigureAwait(false);
        }
        return new LocalAdapterFile(path, release: null);
    }

    /// <summary>Copies of payloads held on this machine now (0 with files; for tests).</summary>
    internal int LocalCopies => _copies?.Count ?? 0;

    /// <summary>Starts a new payload; nothing is stored unless it is committed. Scratch: see the class remarks.</summary>
    public PendingAdapter BeginWrite(bool scratch = false) => new(this, Path.Combine(_temporary, Guid.NewGuid().ToString("N")), scratch);

    /// <summary>Writes a payload produced by <paramref name="write"/> and returns its hash.</summary>
    public async Task<(string Sha256, long SizeBytes)> WriteAsync(Func<Stream, Task> write, bool scratch = false)
    {
        await using var pending = BeginWrite(scratch);
        await write(pending.Stream).ConfigureAwait(false);
        return await pending.CommitAsync().ConfigureAwait(false);
    }

    internal Task CommitAsync(string temporaryPath, string sha256, bool scratch) => Blobs.PutAsync(sha256, temporaryPath, scratch);

    public async ValueTask DisposeAsync()
    {
        if (Blobs is IAsyncDisposable disposable)
            await disposable.DisposeAsync().ConfigureAwait(false);
    }
}
