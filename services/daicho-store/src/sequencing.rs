//! The single-writer transaction in which entries are sequenced.

use std::collections::HashMap;

use daicho_core::event::EventId;
use daicho_core::ledger::Appended;
use sqlx::{Postgres, QueryBuilder, Sqlite, Transaction};

use crate::store::{checkpoint_row, latest_checkpoint_sql, Store, StoredCheckpoint, SIZE_SQL};
use crate::stored::{decode, decode_all, to_i64, to_u64, EntryRow, EntryValues, ENTRY_COLUMNS};
use crate::{StoreError, StoredEntry};

/// The first half of the PostgreSQL advisory lock key ("daic" in ASCII);
/// the second half is a hash of the current schema.
const PG_LOCK_CLASS: i32 = 0x6461_6963;

/// SQLite allows at most 32,766 bound parameters per statement; an entry
/// row binds eight.
const SQLITE_ROWS_PER_INSERT: usize = 1000;

/// SQLite lookups by event id bind one parameter each.
const SQLITE_IDS_PER_SELECT: usize = 30_000;

const INSERT_ENTRIES: &str = "INSERT INTO entries \
    (seq, recorded_at, event_hash, prev_hash, entry_hash, event_id, event_type, event) ";

/// A transaction holding the database's single writer lock. Everything read
/// through it is the database's state under the lock, so nothing can be
/// appended by another process between reading the size and inserting.
///
/// Dropping it without [`Sequencing::commit`] rolls back and releases the
/// lock.
#[derive(Debug)]
pub struct Sequencing {
    tx: Tx,
}

#[derive(Debug)]
enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs the same code on either backend's transaction.
macro_rules! on_tx {
    ($self:expr, $conn:ident => $body:expr) => {
        match &mut $self.tx {
            Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

impl Sequencing {
    pub(crate) async fn begin(store: &Store) -> Result<Sequencing, StoreError> {
        let tx = match store {
            // IMMEDIATE takes the write lock now rather than at the first
            // write, so two writers cannot both read the same size.
            Store::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // A stuck writer must not hang every other process forever.
                sqlx::query("SET LOCAL lock_timeout = '30s'")
                    .execute(&mut *tx)
                    .await?;
                // The lock is taken before anything is read: under READ
                // COMMITTED every later statement then sees all that the
                // previous holder committed.
                sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))")
                    .bind(PG_LOCK_CLASS)
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        };
        Ok(Sequencing { tx })
    }

    /// The number of entries in the database.
    pub async fn size(&mut self) -> Result<u64, StoreError> {
        let n: i64 = on_tx!(self, c => sqlx::query_scalar(SIZE_SQL).fetch_one(c).await?);
        to_u64(n)
    }

    /// Every entry with `seq >= from`, in seq order: what other processes
    /// appended since this one last looked.
    pub async fn entries_from(&mut self, from: u64) -> Result<Vec<StoredEntry>, StoreError> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE seq >= $1 ORDER BY seq");
        let from = to_i64(from)?;
        let rows: Vec<EntryRow> =
            on_tx!(self, c => sqlx::query_as(&sql).bind(from).fetch_all(c).await?);
        decode_all(rows)
    }

    /// The latest stored checkpoint.
    pub async fn latest_checkpoint(&mut self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row: Option<(i64, String)> = on_tx!(self, c => sqlx::query_as(latest_checkpoint_sql())
            .fetch_optional(c)
            .await?);
        row.map(checkpoint_row).transpose()
    }

    /// The stored entries of those of `ids` that are already in the ledger,
    /// by event id.
    pub async fn find_event_ids(
        &mut self,
        ids: &[EventId],
    ) -> Result<HashMap<EventId, StoredEntry>, StoreError> {
        let mut rows: Vec<EntryRow> = Vec::new();
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                for chunk in ids.chunks(SQLITE_IDS_PER_SELECT) {
                    let mut qb = QueryBuilder::<Sqlite>::new(format!(
                        "SELECT {ENTRY_COLUMNS} FROM entries WHERE event_id IN ("
                    ));
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(id.to_bytes().to_vec());
                    }
                    qb.push(")");
                    rows.extend(qb.build_query_as::<EntryRow>().fetch_all(&mut **tx).await?);
                }
            }
            Tx::Postgres(tx) => {
                let ids: Vec<&str> = ids.iter().map(EventId::as_str).collect();
                let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE event_id = ANY($1)");
                // Planned anew each time, not prepared: a ledger starts with
                // a row or two, where a sequential scan is the cheaper plan,
                // and PostgreSQL would keep that plan for the connection's
                // life while the table grows (only ANALYZE invalidates it),
                // reading the whole ledger on every commit.
                rows = sqlx::query_as(&sql)
                    .bind(&ids)
                    .persistent(false)
                    .fetch_all(&mut **tx)
                    .await?;
            }
        }
        rows.into_iter()
            .map(|row| {
                let e = decode(row)?;
                Ok((e.event.body.event_id.clone(), e))
            })
            .collect()
    }

    /// Inserts `entries` and, if given, the checkpoint `(size, note)` that
    /// covers them, in few statements: multi-row `INSERT`s on SQLite and
    /// one `INSERT … SELECT FROM UNNEST` on PostgreSQL. A repeated seq, event
    /// id or checkpoint size is a [`StoreError::Conflict`]; on PostgreSQL it
    /// also aborts the transaction.
    pub async fn insert(
        &mut self,
        entries: &[StoredEntry],
        checkpoint: Option<(u64, &str)>,
    ) -> Result<(), StoreError> {
        let values = entries
            .iter()
            .map(|e| EntryValues::of(&e.entry, &e.hash, &e.event, None))
            .collect::<Result<Vec<_>, _>>()?;
        self.insert_values(values, checkpoint).await
    }

    /// [`Sequencing::insert`] for entries fresh from a ledger batch, which
    /// spares the sequencer a copy of every event and its serialisation.
    pub async fn insert_appended(
        &mut self,
        entries: &[Appended],
        checkpoint: Option<(u64, &str)>,
    ) -> Result<(), StoreError> {
        let values = entries
            .iter()
            .map(|e| EntryValues::of(&e.entry, &e.hash, &e.event, Some(&e.bytes)))
            .collect::<Result<Vec<_>, _>>()?;
        self.insert_values(values, checkpoint).await
    }

    async fn insert_values(
        &mut self,
        values: Vec<EntryValues<'_>>,
        checkpoint: Option<(u64, &str)>,
    ) -> Result<(), StoreError> {
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                for chunk in values.chunks(SQLITE_ROWS_PER_INSERT) {
                    let mut qb = QueryBuilder::<Sqlite>::new(INSERT_ENTRIES);
                    qb.push_values(chunk, |mut row, v| {
                        row.push_bind(v.seq)
                            .push_bind(v.recorded_at.as_str())
                            .push_bind(v.event_hash.as_slice())
                            .push_bind(v.prev_hash.as_slice())
                            .push_bind(v.entry_hash.as_slice())
                            .push_bind(v.event_id.to_bytes().to_vec())
                            .push_bind(v.event_type.as_str())
                            .push_bind(v.event.as_ref());
                    });
                    qb.build().execute(&mut **tx).await?;
                }
            }
            Tx::Postgres(tx) if !values.is_empty() => {
                // Columns as arrays: one statement and eight parameters
                // whatever the number of rows.
                let mut cols = PgColumns::default();
                for v in values {
                    cols.push(v);
                }
                sqlx::query(&format!(
                    "{INSERT_ENTRIES} SELECT * FROM UNNEST($1::bigint[], $2::text[], \
                     $3::bytea[], $4::bytea[], $5::bytea[], $6::text[], $7::text[], $8::bytea[])"
                ))
                .bind(cols.seq)
                .bind(cols.recorded_at)
                .bind(cols.event_hash)
                .bind(cols.prev_hash)
                .bind(cols.entry_hash)
                .bind(cols.event_id)
                .bind(cols.event_type)
                .bind(cols.event)
                .execute(&mut **tx)
                .await?;
            }
            Tx::Postgres(_) => {}
        }
        if let Some((size, note)) = checkpoint {
            let size = to_i64(size)?;
            on_tx!(self, c => {
                sqlx::query("INSERT INTO checkpoints (size, note) VALUES ($1, $2)")
                    .bind(size)
                    .bind(note)
                    .execute(c)
                    .await?;
            });
        }
        Ok(())
    }

    /// Commits and releases the lock. When this returns, the rows are
    /// durable.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self.tx {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Rolls back and releases the lock (as dropping does, but waiting for
    /// the database to confirm).
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.tx {
            Tx::Sqlite(tx) => tx.rollback().await?,
            Tx::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

/// Entry columns as PostgreSQL arrays.
#[derive(Default)]
struct PgColumns {
    seq: Vec<i64>,
    recorded_at: Vec<String>,
    event_hash: Vec<Vec<u8>>,
    prev_hash: Vec<Vec<u8>>,
    entry_hash: Vec<Vec<u8>>,
    event_id: Vec<String>,
    event_type: Vec<String>,
    event: Vec<Vec<u8>>,
}

impl PgColumns {
    fn push(&mut self, v: EntryValues<'_>) {
        self.seq.push(v.seq);
        self.recorded_at.push(v.recorded_at);
        self.event_hash.push(v.event_hash);
        self.prev_hash.push(v.prev_hash);
        self.entry_hash.push(v.entry_hash);
        self.event_id.push(v.event_id.as_str().to_owned());
        self.event_type.push(v.event_type);
        self.event.push(v.event.into_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::ScratchDb;
    use sqlx::PgPool;

    /// Sequential scans of `table` this backend has made, reported to the
    /// statistics or still pending (`pg_stat_xact_user_tables`).
    async fn seq_scans(pool: &PgPool, table: &str) -> i64 {
        sqlx::query_scalar(
            "SELECT COALESCE((SELECT seq_scan FROM pg_stat_user_tables \
                 WHERE relname = $1 AND schemaname = current_schema()), 0) \
             + COALESCE((SELECT seq_scan FROM pg_stat_xact_user_tables \
                 WHERE relname = $1 AND schemaname = current_schema()), 0)",
        )
        .bind(table)
        .fetch_one(pool)
        .await
        .unwrap()
    }

    /// A ledger starts with a row or two and grows for years on the same
    /// connections: no query may keep a plan made for the tiny table (a
    /// sequential scan, which would then read the whole ledger each time).
    #[tokio::test]
    async fn queries_use_the_indexes_as_the_ledger_grows() {
        let db = ScratchDb::postgres();
        // One connection, so that every query meets the plans the earlier
        // ones left behind.
        let store = Store::open_postgres(db.url(), 1).await.unwrap();
        let Store::Postgres(pool) = &store else {
            unreachable!()
        };
        let grow = |from: i64, to: i64| async move {
            sqlx::query(&format!(
                "INSERT INTO entries SELECT g, 'x', decode(repeat('00', 32), 'hex'), \
                 decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'), \
                 md5(g::text), 'x.y', convert_to(repeat('e', 900), 'UTF8') \
                 FROM generate_series({from}, {to}) g"
            ))
            .execute(pool)
            .await
            .unwrap();
            sqlx::query(&format!(
                "INSERT INTO checkpoints SELECT g + 1, repeat('n', 300) \
                 FROM generate_series({from}, {to}) g"
            ))
            .execute(pool)
            .await
            .unwrap();
        };
        grow(0, 1).await;
        // As a group commit asks: several ids at once.
        let ids: Vec<EventId> = (0..64u8).map(|i| EventId::from_bytes([i; 16])).collect();
        let queries = |n: usize| {
            let (store, ids) = (&store, &ids);
            async move {
                let mut seq = store.begin_sequencing().await.unwrap();
                seq.find_event_ids(&ids[..n]).await.unwrap();
                seq.size().await.unwrap();
                seq.latest_checkpoint().await.unwrap();
                seq.rollback().await.unwrap();
                // The filler rows do not decode as entries; the queries ran.
                store.size().await.unwrap();
                let _ = store.head().await;
                let _ = store.entries(1, 100).await;
                let _ = store.entry(1).await;
                store.entry_by_event_id(&ids[0]).await.unwrap();
                store.checkpoint_at(1).await.unwrap();
                store.latest_checkpoint().await.unwrap();
            }
        };
        // Enough executions on the tiny tables for plans to be cached.
        for n in [1, 1, 1, 64, 3, 17, 64, 64, 2, 64] {
            queries(n).await;
        }
        grow(2, 20_000).await;
        let before = (
            seq_scans(pool, "entries").await,
            seq_scans(pool, "checkpoints").await,
        );
        for n in [1, 64, 5] {
            queries(n).await;
        }
        let after = (
            seq_scans(pool, "entries").await,
            seq_scans(pool, "checkpoints").await,
        );
        assert_eq!(after, before, "a query scanned entries or checkpoints");
        store.close().await;
    }
}
