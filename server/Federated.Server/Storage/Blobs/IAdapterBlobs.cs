namespace Federated.Server.Storage.Blobs;

/// <summary>
/// Where adapter bytes live, named by the SHA-256 of their bytes: files (<see cref="FileAdapterBlobs"/>, one silo's
/// data directory or a mount all silos share) or PostgreSQL (<see cref="PostgresAdapterBlobs"/>). A backend only
/// stores and hands back bytes; <see cref="AdapterStore"/>, the one façade the server uses, hashes what is written and
/// checks every read against the hash. Every hash passed in is already valid lower-case hex.
/// </summary>
/// <remarks>
/// Deletion: a blob put as <c>scratch</c> (an aggregation shard's part, which no job's history references) may be
/// removed by <see cref="DeleteScratchAsync"/>; a blob put even once without <c>scratch</c> (client updates, global
/// updates, views, catch-ups: everything a history can name) is never deleted. Because storage is content-addressed a
/// part can be byte-identical to such a blob; the kept put wins, so deleting the part leaves it.
/// </remarks>
public interface IAdapterBlobs
{
    /// <summary>The blob's size in bytes; null when it is not stored.</summary>
    Task<long?> SizeAsync(string sha256, CancellationToken cancellationToken = default);

    /// <summary>The blob's bytes, unchecked, as a front-to-back stream whose Length is the size; null when it is not stored.</summary>
    Task<Stream?> OpenReadAsync(string sha256, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="completedFile"/> (complete, already hashed to <paramref name="sha256"/>, and fsynced when
    /// the backend <see cref="KeepsFiles"/>, since that backend renames it into place; one that copies it commits its own
    /// copy durably) and
    /// consumes it: it is moved into the store or deleted. Putting a hash that is already stored changes nothing but
    /// (for a kept put) makes it kept; concurrent puts of one hash, from any silos, store it once.
    /// </summary>
    Task PutAsync(string sha256, string completedFile, bool scratch, CancellationToken cancellationToken = default);

    /// <summary>Removes a blob that was only ever put as scratch; a kept one (or a missing one) is left as it is.</summary>
    Task DeleteScratchAsync(string sha256, CancellationToken cancellationToken = default);

    /// <summary>Whether blobs are files on this machine (<see cref="LocalFile"/>); if not, a seeking reader needs a copy.</summary>
    bool KeepsFiles { get; }

    /// <summary>The blob's file when <see cref="KeepsFiles"/>; null when it is not stored or the backend keeps no files.</summary>
    string? LocalFile(string sha256);
}
