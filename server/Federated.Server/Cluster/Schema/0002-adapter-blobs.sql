-- Version 2: adapter bytes in the shared database (Server:Cluster:AdapterStore = Postgres, PostgresAdapterBlobs).
-- A blob is named by the SHA-256 of its bytes and stored as chunks of about 1 MiB, so that no statement moves a
-- whole adapter. A put inserts the blob row first and then its chunks, all in one transaction: other sessions see
-- the blob only once every chunk is there, and a second put of the same hash waits on the row and then finds it.
-- scratch: put only as an aggregation shard's part, which no job's history references; only such rows are ever
-- deleted (a kept put of the same hash clears it).

CREATE TABLE adapter_blobs
(
    sha256  char(64)    NOT NULL PRIMARY KEY,
    size    bigint      NOT NULL CHECK (size >= 0),
    scratch boolean     NOT NULL,
    created timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE adapter_blob_chunks
(
    sha256      char(64) NOT NULL REFERENCES adapter_blobs (sha256) ON DELETE CASCADE,
    chunk_index integer  NOT NULL CHECK (chunk_index >= 0),
    data        bytea    NOT NULL,
    PRIMARY KEY (sha256, chunk_index)
);

-- Adapter factors are floats and do not compress: store them out of line without trying to.
ALTER TABLE adapter_blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
