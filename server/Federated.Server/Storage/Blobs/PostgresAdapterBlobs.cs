using System.Buffers;
using System.Data;
using Npgsql;
using NpgsqlTypes;

namespace Federated.Server.Storage.Blobs;

/// <summary>
/// Adapter bytes in the shared PostgreSQL database (schema version 2, Cluster/Schema/0002-adapter-blobs.sql): a row
/// per blob and its bytes as chunks of <see cref="ChunkBytes"/>. Writes stream a file in chunk by chunk inside one
/// transaction; reads fetch one chunk at a time as the consumer asks (<see cref="PostgresBlobStream"/>), so neither
/// holds a whole adapter in memory, and a slow reader holds no connection between chunks.
/// </summary>
public sealed class PostgresAdapterBlobs : IAdapterBlobs, IAsyncDisposable
{
    /// <summary>Bytes per chunk row: large enough that per-row costs vanish, small enough to stay a buffer.</summary>
    public const int ChunkBytes = 1 << 20;

    private readonly NpgsqlDataSource _source;

    public PostgresAdapterBlobs(string connectionString)
    {
        _source = NpgsqlDataSource.Create(connectionString);
    }

    public bool KeepsFiles => false;

    public string? LocalFile(string sha256) => null;

    public async Task<long?> SizeAsync(string sha256, CancellationToken cancellationToken = default)
    {
        await using var command = _source.CreateCommand("SELECT size FROM adapter_blobs WHERE sha256 = @sha256");
        command.Parameters.AddWithValue("sha256", sha256);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long size ? size : null;
    }

    public async Task<Stream?> OpenReadAsync(string sha256, CancellationToken cancellationToken = default)
        => await SizeAsync(sha256, cancellationToken).ConfigureAwait(false) is { } size ? new PostgresBlobStream(_source, sha256, size) : null;

    public async Task PutAsync(string sha256, string completedFile, bool scratch, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var file = new FileStream(completedFile, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: true);
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            // The row first: a concurrent put of the same hash waits here until this one commits (or rolls back), and
            // a kept put makes an existing scratch row kept, locking it against a delete meanwhile.
            await using (var claim = new NpgsqlCommand(
                "INSERT INTO adapter_blobs (sha256, size, scratch) VALUES (@sha256, @size, @scratch) "
                + "ON CONFLICT (sha256) DO UPDATE SET scratch = adapter_blobs.scratch AND EXCLUDED.scratch RETURNING (xmax = 0)",
                connection, transaction))
            {
                claim.Parameters.AddWithValue("sha256", sha256);
                claim.Parameters.AddWithValue("size", file.Length);
                claim.Parameters.AddWithValue("scratch", scratch);
                var inserted = (bool)(await claim.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                if (inserted)
                    await WriteChunksAsync(connection, transaction, sha256, file, cancellationToken).ConfigureAwait(false);
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(completedFile);
        }
    }

    public async Task DeleteScratchAsync(string sha256, CancellationToken cancellationToken = default)
    {
        await using var command = _source.CreateCommand("DELETE FROM adapter_blobs WHERE sha256 = @sha256 AND scratch");
        command.Parameters.AddWithValue("sha256", sha256);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    private static async Task WriteChunksAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sha256, FileStream file, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            await using var insert = new NpgsqlCommand(
                "INSERT INTO adapter_blob_chunks (sha256, chunk_index, data) VALUES (@sha256, @index, @data)", connection, transaction);
            insert.Parameters.AddWithValue("sha256", sha256);
            var index = new NpgsqlParameter<int>("index", NpgsqlDbType.Integer);
            var data = new NpgsqlParameter<ReadOnlyMemory<byte>>("data", NpgsqlDbType.Bytea);
            insert.Parameters.Add(index);
            insert.Parameters.Add(data);
            await insert.PrepareAsync(cancellationToken).ConfigureAwait(false);
            for (var i = 0; ; i++)
            {
                var read = await file.ReadAtLeastAsync(buffer.AsMemory(0, ChunkBytes), ChunkBytes, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (read == 0 && i > 0)
                    break;
                index.TypedValue = i;
                data.TypedValue = buffer.AsMemory(0, read);
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                if (read < ChunkBytes)
                    break;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A blob read front to back, one chunk fetched per <see cref="ChunkBytes"/> consumed, each on a pooled connection
    /// taken only for that fetch. A missing chunk is DATA_LOSS; changed bytes are caught by the caller's hash check.
    /// </summary>
    private sealed class PostgresBlobStream(NpgsqlDataSource source, string sha256, long size) : Stream
    {
        private byte[]? _chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        private int _chunkLength;
        private int _chunkOffset;
        private int _nextIndex;
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => size;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException("a stored blob is read front to back");
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var chunk = _chunk ?? throw new ObjectDisposedException(nameof(PostgresBlobStream));
            if (_position >= size || buffer.Length == 0)
                return 0;
            if (_chunkOffset == _chunkLength)
                await FetchAsync(chunk, cancellationToken).ConfigureAwait(false);
            var count = (int)Math.Min(Math.Min(buffer.Length, _chunkLength - _chunkOffset), size - _position);
            chunk.AsMemory(_chunkOffset, count).CopyTo(buffer);
            _chunkOffset += count;
            _position += count;
            return count;
        }

        private async Task FetchAsync(byte[] chunk, CancellationToken cancellationToken)
        {
            await using var command = source.CreateCommand("SELECT data FROM adapter_blob_chunks WHERE sha256 = @sha256 AND chunk_index = @index");
            command.Parameters.AddWithValue("sha256", sha256);
            command.Parameters.AddWithValue("index", _nextIndex);
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess | CommandBehavior.SingleRow, cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                throw Missing();
            await using var column = await reader.GetStreamAsync(0, cancellationToken).ConfigureAwait(false);
            // A chunk longer than expected is read only this far: the hash check at the end fails it.
            _chunkLength = await column.ReadAtLeastAsync(chunk.AsMemory(0, ChunkBytes), ChunkBytes, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            _chunkOffset = 0;
            if (_chunkLength == 0)
                throw Missing();
            _nextIndex++;
        }

        private Contracts.Errors.FederatedException Missing()
            => new(Contracts.Errors.FederatedError.DataLoss, $"stored adapter {sha256} is damaged: chunk {_nextIndex} of its bytes is missing after {_position} of {size} bytes; it was not used");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("a stored blob is read front to back");

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && _chunk is { } chunk)
            {
                _chunk = null;
                ArrayPool<byte>.Shared.Return(chunk);
            }
            base.Dispose(disposing);
        }
    }
}
