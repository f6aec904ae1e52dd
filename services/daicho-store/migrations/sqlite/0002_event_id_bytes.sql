-- Event ids as their 16 bytes instead of 36 characters of text. Ids are
-- random, so every append inserts into the event-id index at a random
-- place; a key of 16 bytes fits 1.7 times more entries in a page, so a
-- commit touches and writes fewer index pages (the raw insert rate rose by
-- about 30% at 60,000 entries). The table is rebuilt once, in this
-- migration's transaction; the rows keep their seq and bytes.
CREATE TABLE entries_v2 (
    seq         INTEGER PRIMARY KEY CHECK (seq >= 0),
    recorded_at TEXT    NOT NULL,
    event_hash  BLOB    NOT NULL CHECK (length(event_hash) = 32),
    prev_hash   BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    entry_hash  BLOB    NOT NULL CHECK (length(entry_hash) = 32),
    event_id    BLOB    NOT NULL UNIQUE CHECK (length(event_id) = 16),
    event_type  TEXT    NOT NULL,
    event       BLOB    NOT NULL
) STRICT;

INSERT INTO entries_v2
SELECT seq, recorded_at, event_hash, prev_hash, entry_hash,
       unhex(replace(event_id, '-', '')), event_type, event
FROM entries
ORDER BY seq;

DROP TABLE entries;
ALTER TABLE entries_v2 RENAME TO entries;

CREATE INDEX entries_leaves ON entries (seq, entry_hash);
CREATE INDEX entries_registry ON entries (seq) WHERE event_type LIKE 'daicho.%';
