-- Version 1 of the coordinator's PostgreSQL schema: what Orleans' ADO.NET providers (clustering, grain
-- persistence, reminders; invariant "Npgsql") need. The providers ship no SQL; they read their statements by
-- name from OrleansQuery and bind the parameters named in their query contract (Orleans' DbStoredQueries and
-- AdoNetGrainStorage). The statements below are this project's own. Rules kept throughout:
--   * every time is timestamptz: Npgsql 6+ refuses to write a UTC DateTime into a plain timestamp;
--   * every parameter is cast, so PostgreSQL never has to guess a type from a NULL;
--   * result columns carry the exact names the providers read ("Version", "PayloadBinary", …).
-- PostgresSchema applies this file once, under an advisory lock, and records it in federated_schema.

CREATE TABLE OrleansQuery
(
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);

-- Membership. One version row per cluster (Orleans calls the cluster id DeploymentId): every change to the
-- member list bumps it, which is how silos agree on the table without locks of their own.
CREATE TABLE orleans_membership_version
(
    deployment_id varchar(150) NOT NULL PRIMARY KEY,
    changed_at    timestamptz  NOT NULL DEFAULT now(),
    version       integer      NOT NULL DEFAULT 0
);

CREATE TABLE orleans_membership
(
    deployment_id  varchar(150)  NOT NULL REFERENCES orleans_membership_version (deployment_id) ON DELETE CASCADE,
    address        varchar(45)   NOT NULL,
    port           integer       NOT NULL,
    generation     integer       NOT NULL,
    silo_name      varchar(150)  NOT NULL,
    host_name      varchar(150)  NOT NULL,
    status         integer       NOT NULL,
    proxy_port     integer,
    suspect_times  varchar(8000),
    start_time     timestamptz   NOT NULL,
    i_am_alive_at  timestamptz   NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- Grain state: one row per grain and state name; the payload is the grain state serializer's bytes.
CREATE TABLE orleans_grain_state
(
    service_id        varchar(150) NOT NULL,
    grain_type_hash   integer      NOT NULL,
    grain_type        varchar(512) NOT NULL,
    grain_id_hash     integer      NOT NULL,
    grain_id_n0       bigint       NOT NULL,
    grain_id_n1       bigint       NOT NULL,
    grain_id_text     varchar(512) NOT NULL DEFAULT '',
    payload           bytea,
    version           integer      NOT NULL,
    modified_at       timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, grain_type_hash, grain_id_hash, grain_type, grain_id_n0, grain_id_n1, grain_id_text)
);

-- Reminders: durable timers that outlive the silo that set them.
CREATE TABLE orleans_reminder
(
    service_id    varchar(150) NOT NULL,
    grain_id      varchar(512) NOT NULL,
    reminder_name varchar(150) NOT NULL,
    start_time    timestamptz  NOT NULL,
    period_ms     bigint       NOT NULL,
    grain_hash    integer      NOT NULL,
    version       integer      NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
);
CREATE INDEX orleans_reminder_by_hash ON orleans_reminder (service_id, grain_hash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Clustering ---------------------------------------------------------------------------------------------

('InsertMembershipVersionKey', $q$
WITH added AS (
    INSERT INTO orleans_membership_version (deployment_id) VALUES (@DeploymentId::varchar)
    ON CONFLICT (deployment_id) DO NOTHING
    RETURNING 1)
SELECT count(*)::int FROM added
$q$),

-- The version bump takes the row lock first; the member row is written only if the bump matched. A bump whose
-- insert then conflicts only costs a version number: the caller sees 0, reads the table again and retries.
('InsertMembershipKey', $q$
WITH bumped AS (
    UPDATE orleans_membership_version
    SET version = version + 1, changed_at = now()
    WHERE deployment_id = @DeploymentId::varchar AND version = @Version::int
    RETURNING deployment_id),
added AS (
    INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name, status, proxy_port, start_time, i_am_alive_at)
    SELECT deployment_id, @Address::varchar, @Port::int, @Generation::int, @SiloName::varchar, @HostName::varchar,
           @Status::int, @ProxyPort::int, @StartTime::timestamptz, @IAmAliveTime::timestamptz
    FROM bumped
    ON CONFLICT (deployment_id, address, port, generation) DO NOTHING
    RETURNING 1)
SELECT count(*)::int FROM added
$q$),

('UpdateMembershipKey', $q$
WITH bumped AS (
    UPDATE orleans_membership_version
    SET version = version + 1, changed_at = now()
    WHERE deployment_id = @DeploymentId::varchar AND version = @Version::int
    RETURNING deployment_id),
changed AS (
    UPDATE orleans_membership m
    SET status = @Status::int, suspect_times = @SuspectTimes::varchar, i_am_alive_at = @IAmAliveTime::timestamptz
    FROM bumped
    WHERE m.deployment_id = bumped.deployment_id
      AND m.address = @Address::varchar AND m.port = @Port::int AND m.generation = @Generation::int
    RETURNING 1)
SELECT count(*)::int FROM changed
$q$),

-- A liveness beat needs no version: it changes no silo's status.
('UpdateIAmAlivetimeKey', $q$
UPDATE orleans_membership
SET i_am_alive_at = @IAmAliveTime::timestamptz
WHERE deployment_id = @DeploymentId::varchar
  AND address = @Address::varchar AND port = @Port::int AND generation = @Generation::int
$q$),

-- The version row comes back even with no member row (the outer join), as the provider expects.
('MembershipReadRowKey', $q$
SELECT v.deployment_id AS "DeploymentId", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_at AS "IAmAliveTime",
       v.version AS "Version"
FROM orleans_membership_version v
LEFT JOIN orleans_membership m
       ON m.deployment_id = v.deployment_id
      AND m.address = @Address::varchar AND m.port = @Port::int AND m.generation = @Generation::int
WHERE v.deployment_id = @DeploymentId::varchar
$q$),

('MembershipReadAllKey', $q$
SELECT v.deployment_id AS "DeploymentId", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_at AS "IAmAliveTime",
       v.version AS "Version"
FROM orleans_membership_version v
LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
WHERE v.deployment_id = @DeploymentId::varchar
$q$),

('DeleteMembershipTableEntriesKey', $q$
DELETE FROM orleans_membership_version WHERE deployment_id = @DeploymentId::varchar
$q$),

('GatewaysQueryKey', $q$
SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
FROM orleans_membership
WHERE deployment_id = @DeploymentId::varchar AND status = @Status::int AND proxy_port > 0
$q$),

-- Rows of silos gone quiet before the given time, except live ones (status 3 = Active), so the table does not
-- grow by one row per restart forever.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM orleans_membership
WHERE deployment_id = @DeploymentId::varchar AND i_am_alive_at < @IAmAliveTime::timestamptz AND status <> 3
$q$),

-- Grain persistence ---------------------------------------------------------------------------------------

('ReadFromStorageKey', $q$
SELECT payload AS "PayloadBinary", version AS "Version"
FROM orleans_grain_state
WHERE service_id = @ServiceId::varchar AND grain_type_hash = @GrainTypeHash::int AND grain_type = @GrainTypeString::varchar
  AND grain_id_hash = @GrainIdHash::int AND grain_id_n0 = @GrainIdN0::bigint AND grain_id_n1 = @GrainIdN1::bigint
  AND grain_id_text = coalesce(@GrainIdExtensionString::varchar, '')
$q$),

-- Optimistic concurrency: a known version updates only that version; no version inserts only where no row is.
-- Either way the new version comes back, or no row when the grain's version was stale.
('WriteToStorageKey', $q$
WITH updated AS (
    UPDATE orleans_grain_state
    SET payload = @PayloadBinary::bytea, version = version + 1, modified_at = now()
    WHERE @GrainStateVersion::int IS NOT NULL AND version = @GrainStateVersion::int
      AND service_id = @ServiceId::varchar AND grain_type_hash = @GrainTypeHash::int AND grain_type = @GrainTypeString::varchar
      AND grain_id_hash = @GrainIdHash::int AND grain_id_n0 = @GrainIdN0::bigint AND grain_id_n1 = @GrainIdN1::bigint
      AND grain_id_text = coalesce(@GrainIdExtensionString::varchar, '')
    RETURNING version),
inserted AS (
    INSERT INTO orleans_grain_state (service_id, grain_type_hash, grain_type, grain_id_hash, grain_id_n0, grain_id_n1, grain_id_text, payload, version)
    SELECT @ServiceId::varchar, @GrainTypeHash::int, @GrainTypeString::varchar, @GrainIdHash::int, @GrainIdN0::bigint, @GrainIdN1::bigint,
           coalesce(@GrainIdExtensionString::varchar, ''), @PayloadBinary::bytea, 1
    WHERE @GrainStateVersion::int IS NULL
    ON CONFLICT DO NOTHING
    RETURNING version)
SELECT version AS "NewGrainStateVersion" FROM updated
UNION ALL
SELECT version FROM inserted
$q$),

('ClearStorageKey', $q$
UPDATE orleans_grain_state
SET payload = NULL, version = version + 1, modified_at = now()
WHERE version = @GrainStateVersion::int
  AND service_id = @ServiceId::varchar AND grain_type_hash = @GrainTypeHash::int AND grain_type = @GrainTypeString::varchar
  AND grain_id_hash = @GrainIdHash::int AND grain_id_n0 = @GrainIdN0::bigint AND grain_id_n1 = @GrainIdN1::bigint
  AND grain_id_text = coalesce(@GrainIdExtensionString::varchar, '')
RETURNING version
$q$),

-- Deleting answers the version after the deleted one, which the provider compares with the grain's.
('DeleteStorageKey', $q$
DELETE FROM orleans_grain_state
WHERE version = @GrainStateVersion::int
  AND service_id = @ServiceId::varchar AND grain_type_hash = @GrainTypeHash::int AND grain_type = @GrainTypeString::varchar
  AND grain_id_hash = @GrainIdHash::int AND grain_id_n0 = @GrainIdN0::bigint AND grain_id_n1 = @GrainIdN1::bigint
  AND grain_id_text = coalesce(@GrainIdExtensionString::varchar, '')
RETURNING version + 1
$q$),

-- Reminders -------------------------------------------------------------------------------------------------

('ReadReminderRowsKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period", version AS "Version"
FROM orleans_reminder
WHERE service_id = @ServiceId::varchar AND grain_id = @GrainId::varchar
$q$),

-- A ring range that does not wrap: (begin, end].
('ReadRangeRows1Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period", version AS "Version"
FROM orleans_reminder
WHERE service_id = @ServiceId::varchar AND grain_hash > @BeginHash::int AND grain_hash <= @EndHash::int
$q$),

-- A ring range that wraps past the largest hash: (begin, max] and [min, end].
('ReadRangeRows2Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period", version AS "Version"
FROM orleans_reminder
WHERE service_id = @ServiceId::varchar AND (grain_hash > @BeginHash::int OR grain_hash <= @EndHash::int)
$q$),

('ReadReminderRowKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period", version AS "Version"
FROM orleans_reminder
WHERE service_id = @ServiceId::varchar AND grain_id = @GrainId::varchar AND reminder_name = @ReminderName::varchar
$q$),

('UpsertReminderRowKey', $q$
INSERT INTO orleans_reminder (service_id, grain_id, reminder_name, start_time, period_ms, grain_hash, version)
VALUES (@ServiceId::varchar, @GrainId::varchar, @ReminderName::varchar, @StartTime::timestamptz, @Period::bigint, @GrainHash::int, 0)
ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
SET start_time = excluded.start_time, period_ms = excluded.period_ms, grain_hash = excluded.grain_hash,
    version = orleans_reminder.version + 1
RETURNING version AS "Version"
$q$),

('DeleteReminderRowKey', $q$
WITH removed AS (
    DELETE FROM orleans_reminder
    WHERE service_id = @ServiceId::varchar AND grain_id = @GrainId::varchar AND reminder_name = @ReminderName::varchar
      AND version = @Version::int
    RETURNING 1)
SELECT count(*) > 0 FROM removed
$q$),

('DeleteReminderRowsKey', $q$
DELETE FROM orleans_reminder WHERE service_id = @ServiceId::varchar
$q$);
