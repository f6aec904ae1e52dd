-- The ledger's durable state (PostgreSQL). One row per entry, in seq order.
-- `event` holds the canonical (JCS) bytes of the signed event exactly, so
-- that the event hash can be recomputed from what is stored.
CREATE TABLE entries (
    seq         BIGINT PRIMARY KEY CHECK (seq >= 0),
    recorded_at TEXT   NOT NULL,
    event_hash  BYTEA  NOT NULL CHECK (length(event_hash) = 32),
    prev_hash   BYTEA  NOT NULL CHECK (length(prev_hash) = 32),
    entry_hash  BYTEA  NOT NULL CHECK (length(entry_hash) = 32),
    event_id    TEXT   NOT NULL UNIQUE,
    event_type  TEXT   NOT NULL,
    event       BYTEA  NOT NULL
);

-- The key registry is rebuilt from `daicho.*` entries at start-up; this
-- partial index keeps that scan independent of the ledger's size.
CREATE INDEX entries_registry ON entries (seq) WHERE event_type LIKE 'daicho.%';

-- Signed checkpoint notes, one per committed size.
CREATE TABLE checkpoints (
    size BIGINT PRIMARY KEY CHECK (size > 0),
    note TEXT   NOT NULL
);

-- Read tokens, kept only as SHA-256 hashes.
CREATE TABLE tokens (
    token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),
    role       TEXT  NOT NULL,
    label      TEXT  NOT NULL,
    created_at TEXT  NOT NULL
);
