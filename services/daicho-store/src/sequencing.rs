//! The single-writer transaction in which entries are sequenced.
//!
//! It is long because one transaction is written twice, once per backend,
//! side by side: keeping the SQLite and PostgreSQL forms of each step
//! together is what lets a reader check that they do the same thing.

use std::collections::HashMap;

use daicho_core::entry::Recorded;
use daicho_core::event::EventId;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;
use sqlx::{ConnectOptions, Executor as _, FromRow, QueryBuilder, Row, Sqlite};
use tokio::sync::OwnedMutexGuard;

use crate::store::{
    checkpoint_row, latest_checkpoint_sql, SqliteWriter, Store, StoredCheckpoint, SIZE_SQL,
};
use crate::stored::{decode, decode_all, to_i64, to_u64, EntryRow, EntryValues, ENTRY_COLUMNS};
use crate::StoreError;

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
    Sqlite(SqliteTx),
    Postgres(PgTx),
}

/// A transaction on the store's PostgreSQL writer connection. If it ends
/// other than by a successful commit or rollback, the connection is closed
/// on drop: the server then rolls the transaction back and releases the
/// advisory lock at once, for the other processes waiting on it.
#[derive(Debug)]
struct PgTx {
    writer: OwnedMutexGuard<Option<PgConnection>>,
    ended: bool,
}

impl PgTx {
    fn conn(&mut self) -> &mut PgConnection {
        self.writer
            .as_mut()
            .expect("a sequencing holds the open writer connection")
    }

    /// Ends the transaction with `COMMIT` or `ROLLBACK`.
    async fn end(mut self, how: &str) -> Result<(), StoreError> {
        // A query without arguments goes as one simple query.
        self.conn().execute(how).await?;
        self.ended = true;
        Ok(())
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        if !self.ended {
            drop(self.writer.take());
        }
    }
}

/// A transaction on the store's SQLite writer connection, driven by hand
/// rather than by sqlx's `Transaction` (which needs a connection it owns or
/// borrows; this one is held through the store's lock), so that its
/// `BEGIN IMMEDIATE` travels with its first query and its `COMMIT` with its
/// last INSERT: a commit then costs the writer two round trips to the
/// database's thread.
#[derive(Debug)]
struct SqliteTx {
    writer: Option<OwnedMutexGuard<Option<SqliteWriter>>>,
    /// The first query (with the BEGIN) has been sent.
    begun: bool,
}

impl SqliteTx {
    fn writer(&mut self) -> &mut SqliteWriter {
        self.writer
            .as_mut()
            .and_then(|w| w.as_mut())
            .expect("a sequencing holds the open writer connection")
    }

    fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.writer().conn
    }

    /// What precedes the transaction's first statement: its BEGIN.
    /// IMMEDIATE takes the write lock before the first read, so two
    /// writers cannot both read the same size.
    fn begin_prefix(&mut self) -> &'static str {
        if self.begun {
            ""
        } else {
            self.begun = true;
            self.writer().maybe_open = true;
            "BEGIN IMMEDIATE; "
        }
    }

    /// Ends the transaction with `COMMIT` or `ROLLBACK`, if it began.
    async fn end(mut self, how: &str) -> Result<(), StoreError> {
        if self.begun {
            sqlx::query(how).execute(self.conn()).await?;
            self.writer().maybe_open = false;
        }
        Ok(())
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        let Some(mut writer) = self.writer.take() else {
            return;
        };
        if !writer.as_ref().is_some_and(|w| w.maybe_open) {
            return;
        }
        // Rolled back now, still holding the connection, so that the
        // database's write lock is not kept until the next sequencing;
        // without a runtime to do it on, the next sequencing does it first.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Some(w) = writer.as_mut() {
                    w.roll_back().await;
                }
            });
        }
    }
}

/// Runs the same code on either backend's transaction, with `$sql` the
/// statement to run (preceded by the BEGIN on SQLite if it is the first).
macro_rules! on_tx {
    ($self:expr, $sql:ident, $conn:ident => $body:expr) => {
        match &mut $self.tx {
            Tx::Sqlite(tx) => {
                let $sql = format!("{}{}", tx.begin_prefix(), $sql);
                let $conn = tx.conn();
                $body
            }
            Tx::Postgres(tx) => {
                let $sql: String = $sql.into();
                let $conn = tx.conn();
                $body
            }
        }
    };
}

impl Sequencing {
    pub(crate) async fn begin(store: &Store) -> Result<Sequencing, StoreError> {
        let tx = match store {
            // The BEGIN is sent with the first query (see `SqliteTx`).
            Store::Sqlite { writer, .. } => {
                let mut writer = writer.clone().lock_owned().await;
                let Some(w) = writer.as_mut() else {
                    return Err(StoreError::Internal(sqlx::Error::PoolClosed));
                };
                // A transaction a dropped sequencing could not roll back.
                if w.maybe_open {
                    w.roll_back().await;
                }
                Tx::Sqlite(SqliteTx {
                    writer: Some(writer),
                    begun: false,
                })
            }
            Store::Postgres {
                writer, options, ..
            } => {
                let mut writer = writer.clone().lock_owned().await;
                if writer.is_none() {
                    *writer = Some(options.connect().await?);
                }
                let mut tx = PgTx {
                    writer,
                    ended: false,
                };
                // One round trip: the BEGIN and the lock go as one simple
                // query. A stuck writer must not hang every other process
                // forever (`lock_timeout`). The lock is taken before
                // anything is read: under READ COMMITTED every later
                // statement then sees all that the previous holder
                // committed. On an error, dropping `tx` closes the
                // connection.
                let begin = format!(
                    "BEGIN; SET LOCAL lock_timeout = '30s'; \
                     SELECT pg_advisory_xact_lock({PG_LOCK_CLASS}, hashtext(current_schema()))"
                );
                tx.conn().execute(begin.as_str()).await?;
                Tx::Postgres(tx)
            }
        };
        Ok(Sequencing { tx })
    }

    /// The number of entries in the database.
    pub async fn size(&mut self) -> Result<u64, StoreError> {
        let sql = SIZE_SQL;
        let n: i64 = on_tx!(self, sql, c => sqlx::query_scalar(&sql).fetch_one(c).await?);
        to_u64(n)
    }

    /// Every entry with `seq >= from`, in seq order: what other processes
    /// appended since this one last looked.
    pub async fn entries_from(&mut self, from: u64) -> Result<Vec<Recorded>, StoreError> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE seq >= $1 ORDER BY seq");
        let from = to_i64(from)?;
        let rows: Vec<EntryRow> =
            on_tx!(self, sql, c => sqlx::query_as(&sql).bind(from).fetch_all(c).await?);
        decode_all(rows)
    }

    /// The latest stored checkpoint.
    pub async fn latest_checkpoint(&mut self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let sql = latest_checkpoint_sql();
        let row: Option<(i64, String)> = on_tx!(self, sql, c => sqlx::query_as(&sql)
            .fetch_optional(c)
            .await?);
        row.map(checkpoint_row).transpose()
    }

    /// The stored entries of those of `ids` that are already in the ledger,
    /// by event id.
    pub async fn find_event_ids(
        &mut self,
        ids: &[EventId],
    ) -> Result<HashMap<EventId, Recorded>, StoreError> {
        Ok(self.size_and_event_ids(ids).await?.1)
    }

    /// The number of entries in the database and [`Sequencing::find_event_ids`]:
    /// what a commit reads under the lock before it sequences, in one query
    /// (a round trip less per commit).
    pub async fn size_and_event_ids(
        &mut self,
        ids: &[EventId],
    ) -> Result<(u64, HashMap<EventId, Recorded>), StoreError> {
        let mut rows: Vec<EntryRow> = Vec::new();
        let size: i64;
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                // The first query also counts the entries: its first
                // statement's single column tells its row from theirs.
                let mut sizes = Vec::new();
                let mut chunks = ids.chunks(SQLITE_IDS_PER_SELECT);
                let mut chunk = chunks.next();
                let mut qb = QueryBuilder::<Sqlite>::new(tx.begin_prefix());
                qb.push(SIZE_SQL);
                loop {
                    if let Some(chunk) = chunk {
                        if !qb.sql().is_empty() {
                            qb.push("; ");
                        }
                        qb.push(format!(
                            "SELECT {ENTRY_COLUMNS} FROM entries WHERE event_id IN ("
                        ));
                        let mut list = qb.separated(", ");
                        for id in chunk {
                            list.push_bind(id.to_bytes().to_vec());
                        }
                        qb.push(")");
                    }
                    for row in qb.build().fetch_all(tx.conn()).await? {
                        if row.len() == 1 {
                            sizes.push(row.try_get::<i64, _>(0)?);
                        } else {
                            rows.push(EntryRow::from_row(&row)?);
                        }
                    }
                    chunk = chunks.next();
                    if chunk.is_none() {
                        break;
                    }
                    qb = QueryBuilder::new("");
                }
                size = match sizes[..] {
                    [n] => n,
                    _ => {
                        return Err(StoreError::Internal(sqlx::Error::Protocol(format!(
                            "{} sizes counted by one query",
                            sizes.len()
                        ))))
                    }
                };
            }
            Tx::Postgres(tx) => {
                // One statement: the size, joined with the stored entries
                // of `ids` (none, one row with only the size).
                let ids: Vec<uuid::Uuid> = ids.iter().map(pg_uuid).collect();
                let sql = format!(
                    "SELECT s.size, {} FROM ({SIZE_SQL}) AS s (size) \
                     LEFT JOIN entries AS e ON e.event_id = ANY($1::uuid[])",
                    ENTRY_COLUMNS
                        .split(", ")
                        .map(|c| format!("e.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                type Joined = (
                    i64,
                    Option<i64>,
                    Option<String>,
                    Option<Vec<u8>>,
                    Option<Vec<u8>>,
                    Option<Vec<u8>>,
                    Option<Vec<u8>>,
                );
                // Planned anew each time, not prepared: a ledger starts with
                // a row or two, where a sequential scan is the cheaper plan,
                // and PostgreSQL would keep that plan for the connection's
                // life while the table grows (only ANALYZE invalidates it),
                // reading the whole ledger on every commit.
                let joined: Vec<Joined> = sqlx::query_as(&sql)
                    .bind(&ids)
                    .persistent(false)
                    .fetch_all(tx.conn())
                    .await?;
                size = match joined.first() {
                    Some(row) => row.0,
                    None => {
                        return Err(StoreError::Internal(sqlx::Error::Protocol(
                            "no size counted".into(),
                        )))
                    }
                };
                for row in joined {
                    if let (_, Some(seq), Some(at), Some(eh), Some(ph), Some(h), Some(ev)) = row {
                        rows.push((seq, at, eh, ph, h, ev));
                    }
                }
            }
        }
        let found = rows
            .into_iter()
            .map(|row| {
                let e = decode(row)?;
                Ok((e.event.body.event_id.clone(), e))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok((to_u64(size)?, found))
    }

    /// Inserts `entries` and, if given, the checkpoint `(size, note)` that
    /// covers them, in few statements: multi-row `INSERT`s on SQLite and
    /// one `INSERT … SELECT FROM UNNEST` on PostgreSQL. A repeated seq, event
    /// id or checkpoint size is a [`StoreError::Conflict`]; on PostgreSQL it
    /// also aborts the transaction.
    ///
    /// Each event is stored as the canonical bytes the entry carries, not
    /// serialised again.
    pub async fn insert(
        &mut self,
        entries: &[Recorded],
        checkpoint: Option<(u64, &str)>,
    ) -> Result<(), StoreError> {
        self.insert_values(entry_values(entries)?, checkpoint, false)
            .await
    }

    /// [`Sequencing::insert`] and [`Sequencing::commit`] in one
    /// step: on SQLite the `COMMIT` travels with the last INSERT, saving
    /// the writer a round trip per commit. When this returns `Ok`, the rows
    /// are durable; on an error, whether they are is unknown to the caller
    /// (the commit itself may have failed after writing), and the
    /// transaction is rolled back if it is still open.
    pub async fn insert_and_commit(
        mut self,
        entries: &[Recorded],
        checkpoint: Option<(u64, &str)>,
    ) -> Result<(), StoreError> {
        if entries.is_empty() && checkpoint.is_none() {
            return self.commit().await;
        }
        let values = entry_values(entries)?;
        match self.tx {
            Tx::Sqlite(_) => {
                self.insert_values(values, checkpoint, true).await?;
                if let Tx::Sqlite(tx) = &mut self.tx {
                    tx.writer().maybe_open = false;
                }
                Ok(())
            }
            Tx::Postgres(_) => {
                self.insert_values(values, checkpoint, false).await?;
                self.commit().await
            }
        }
    }

    /// Inserts `values` and the checkpoint; with `commit` (SQLite only),
    /// the last query ends with the `COMMIT`.
    async fn insert_values(
        &mut self,
        values: Vec<EntryValues<'_>>,
        checkpoint: Option<(u64, &str)>,
        commit: bool,
    ) -> Result<(), StoreError> {
        let checkpoint = checkpoint
            .map(|(size, note)| to_i64(size).map(|size| (size, note)))
            .transpose()?;
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                // The checkpoint (and the COMMIT) ride in the last INSERT's
                // query: SQLite runs the statements of one query in turn,
                // binding its parameters in order, and stops at the first
                // that fails.
                let mut queries = Vec::new();
                for chunk in values.chunks(SQLITE_ROWS_PER_INSERT) {
                    let mut qb = QueryBuilder::<Sqlite>::new(tx.begin_prefix());
                    qb.push(INSERT_ENTRIES);
                    push_sqlite_rows(&mut qb, chunk);
                    queries.push(qb);
                }
                if checkpoint.is_some() || commit {
                    if queries.is_empty() {
                        queries.push(QueryBuilder::new(tx.begin_prefix()));
                    }
                    let last = queries.last_mut().expect("one query at least");
                    // Between statements, not after a bare BEGIN prefix.
                    let separate = |qb: &mut QueryBuilder<'_, Sqlite>| {
                        if !qb.sql().is_empty() && !qb.sql().ends_with("; ") {
                            qb.push("; ");
                        }
                    };
                    if let Some((size, note)) = checkpoint {
                        separate(last);
                        push_checkpoint(last, size, note);
                    }
                    if commit {
                        separate(last);
                        last.push("COMMIT");
                    }
                }
                for mut qb in queries {
                    qb.build().execute(tx.conn()).await?;
                }
            }
            Tx::Postgres(tx) => {
                let mut sql = String::new();
                if !values.is_empty() {
                    // Columns as arrays: one statement and eight parameters
                    // whatever the number of rows; the checkpoint, if any,
                    // is inserted by the same statement.
                    sql = format!(
                        "{INSERT_ENTRIES} SELECT * FROM UNNEST($1::bigint[], $2::text[], \
                         $3::bytea[], $4::bytea[], $5::bytea[], $6::uuid[], $7::text[], \
                         $8::bytea[])"
                    );
                }
                let with_entries = !values.is_empty();
                if checkpoint.is_some() {
                    // Its parameters follow the entries' eight, if any.
                    let params = if with_entries { "$9, $10" } else { "$1, $2" };
                    let insert_cp =
                        format!("INSERT INTO checkpoints (size, note) VALUES ({params})");
                    sql = if with_entries {
                        format!("WITH appended AS ({sql}) {insert_cp}")
                    } else {
                        insert_cp
                    };
                }
                if sql.is_empty() {
                    return Ok(());
                }
                let mut query = sqlx::query(&sql);
                if with_entries {
                    let mut cols = PgColumns::default();
                    for v in values {
                        cols.push(v);
                    }
                    query = query
                        .bind(cols.seq)
                        .bind(cols.recorded_at)
                        .bind(cols.event_hash)
                        .bind(cols.prev_hash)
                        .bind(cols.entry_hash)
                        .bind(cols.event_id)
                        .bind(cols.event_type)
                        .bind(cols.event);
                }
                if let Some((size, note)) = checkpoint {
                    query = query.bind(size).bind(note);
                }
                query.execute(tx.conn()).await?;
            }
        }
        Ok(())
    }

    /// Commits and releases the lock. When this returns, the rows are
    /// durable.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self.tx {
            // Not committed: the transaction is still marked open, and
            // dropping it rolls back.
            Tx::Sqlite(tx) => tx.end("COMMIT").await?,
            Tx::Postgres(tx) => tx.end("COMMIT").await?,
        }
        Ok(())
    }

    /// Rolls back and releases the lock (as dropping does, but waiting for
    /// the database to confirm).
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.tx {
            Tx::Sqlite(tx) => tx.end("ROLLBACK").await?,
            Tx::Postgres(tx) => tx.end("ROLLBACK").await?,
        }
        Ok(())
    }
}

/// The column values of entries, borrowing their canonical bytes.
fn entry_values(entries: &[Recorded]) -> Result<Vec<EntryValues<'_>>, StoreError> {
    entries.iter().map(EntryValues::of).collect()
}

/// Appends `VALUES (…), (…)` for `rows` to an SQLite INSERT.
fn push_sqlite_rows<'a>(qb: &mut QueryBuilder<'a, Sqlite>, rows: &'a [EntryValues<'_>]) {
    qb.push_values(rows, |mut row, v| {
        row.push_bind(v.seq)
            .push_bind(v.recorded_at.as_str())
            .push_bind(v.event_hash.as_slice())
            .push_bind(v.prev_hash.as_slice())
            .push_bind(v.entry_hash.as_slice())
            .push_bind(v.event_id.to_bytes().to_vec())
            .push_bind(v.event_type.as_str())
            .push_bind(v.event);
    });
}

/// Appends the INSERT of a checkpoint to an SQLite query.
fn push_checkpoint<'a>(qb: &mut QueryBuilder<'a, Sqlite>, size: i64, note: &'a str) {
    qb.push("INSERT INTO checkpoints (size, note) VALUES (");
    qb.push_bind(size);
    qb.push(", ");
    qb.push_bind(note);
    qb.push(")");
}

/// An event id as PostgreSQL's `uuid`, sent in binary.
fn pg_uuid(id: &EventId) -> uuid::Uuid {
    uuid::Uuid::from_bytes(id.to_bytes())
}

/// Entry columns as PostgreSQL arrays.
#[derive(Default)]
struct PgColumns {
    seq: Vec<i64>,
    recorded_at: Vec<String>,
    event_hash: Vec<Vec<u8>>,
    prev_hash: Vec<Vec<u8>>,
    entry_hash: Vec<Vec<u8>>,
    event_id: Vec<uuid::Uuid>,
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
        self.event_id.push(pg_uuid(v.event_id));
        self.event_type.push(v.event_type);
        self.event.push(v.event.to_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The testkit links its own copy of this crate, so only the scratch
    // database's URL crosses over, never a `Store`.
    use daicho_testkit::ScratchDb;
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
        // One read connection (and the writer's own), so that every query
        // meets the plans the earlier ones left behind.
        let store = Store::open_postgres(db.url(), 1).await.unwrap();
        let Store::Postgres { pool, .. } = &store else {
            unreachable!()
        };
        let grow = |from: i64, to: i64| async move {
            sqlx::query(&format!(
                "INSERT INTO entries SELECT g, 'x', decode(repeat('00', 32), 'hex'), \
                 decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'), \
                 md5(g::text)::uuid, 'x.y', convert_to(repeat('e', 900), 'UTF8') \
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
