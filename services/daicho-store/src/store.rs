//! The store handle: opening, migrations, reads and tokens.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use daicho_core::event::EventId;
use daicho_core::Digest;
use futures_util::{Stream, TryStreamExt};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};

use crate::sequencing::Sequencing;
use crate::stored::{decode, decode_all, digest, to_i64, to_u64, EntryRow, ENTRY_COLUMNS};
use daicho_core::entry::Recorded;

use crate::StoreError;

/// How long a connection waits for another writer's lock before failing.
/// Group commits are short, so a wait this long means something is stuck.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// How long a read waits for a PostgreSQL connection before it fails (the
/// pool keeps trying to connect meanwhile). A server that is down then
/// shows in `/readyz` and in refused requests within seconds, rather than
/// at the request timeout; a busy pool hands a connection over in
/// milliseconds.
const PG_ACQUIRE_WAIT: Duration = Duration::from_secs(5);

/// Connections per pool: reads run concurrently with the single writer,
/// and this machine has few cores.
const MAX_CONNECTIONS: u32 = 8;

/// A checkpoint as stored: the tree size it covers and the signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The tree size.
    pub size: u64,
    /// The signed checkpoint note, exactly as signed.
    pub note: String,
}

/// A read token as stored: only its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The SHA-256 digest of the token.
    pub token_hash: [u8; 32],
    /// Its role, as given when it was created.
    pub role: String,
    /// Whom it was issued to.
    pub label: String,
    /// When it was created, in `recorded_at`'s form.
    pub created_at: String,
}

/// A handle on the ledger's database. Cloning is cheap: clones share one
/// connection pool and the one writer connection.
#[derive(Debug, Clone)]
pub enum Store {
    /// An SQLite file in WAL mode with `synchronous=FULL`, so that a
    /// committed transaction is on disk when the commit returns.
    Sqlite {
        /// Connections for reads (and the log checkpoints).
        pool: SqlitePool,
        /// The one connection that sequences, held outside the pool.
        /// SQLite has a single writer anyway. On one connection, its page
        /// cache stays valid from commit to commit (a connection that
        /// another wrote behind drops its cache and reads the event-id
        /// index back), and a commit costs no pool round trips (the pool
        /// pings a connection as it takes it back). `None` once closed.
        writer: Arc<tokio::sync::Mutex<Option<SqliteWriter>>>,
    },
    /// A PostgreSQL database (or one schema of it).
    Postgres {
        /// Connections for reads.
        pool: PgPool,
        /// The connection that sequences, held outside the pool for the
        /// same round trips (the pool pings a connection as it hands it
        /// out and as it takes it back). `None` until first used, and after
        /// a sequencing ended abnormally: it is then closed, which ends its
        /// transaction and lock on the server at once, and the next
        /// sequencing connects anew.
        writer: Arc<tokio::sync::Mutex<Option<PgConnection>>>,
        /// How to connect it.
        options: Box<PgConnectOptions>,
    },
}

/// The SQLite connection that sequences (see [`crate::Sequencing`]); opaque
/// outside this crate.
#[derive(Debug)]
pub struct SqliteWriter {
    pub(crate) conn: SqliteConnection,
    /// A transaction may be open on it: a sequencing sent its BEGIN and
    /// has not seen its COMMIT or ROLLBACK through.
    pub(crate) maybe_open: bool,
}

impl SqliteWriter {
    /// Rolls back whatever transaction may be open. SQLite refuses a
    /// ROLLBACK with none open, which is as good as done.
    pub(crate) async fn roll_back(&mut self) {
        let _ = sqlx::query("ROLLBACK").execute(&mut self.conn).await;
        self.maybe_open = false;
    }
}

/// Runs the same code on either backend's pool; the SQL used this way is
/// written to be valid on both (`$n` placeholders work in SQLite too).
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite { pool: $pool, .. } => $body,
            Store::Postgres { pool: $pool, .. } => $body,
        }
    };
}

impl Store {
    /// Opens (creating if missing) the database at `url` and applies the
    /// schema migrations.
    ///
    /// - `sqlite://PATH` (or `sqlite:PATH`): an SQLite file, created if missing.
    /// - `postgres://…` or `postgresql://…`: a PostgreSQL database. An extra
    ///   query parameter `schema=NAME` (`[a-z0-9_]`, at most 63 characters)
    ///   keeps the ledger in that schema, created if missing, by setting
    ///   every connection's `search_path`; several ledgers (and test runs)
    ///   can then share one database.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            Self::open_sqlite(url).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::open_postgres(url, MAX_CONNECTIONS).await
        } else {
            Err(StoreError::BadUrl(
                "expected sqlite://PATH or postgres://…".into(),
            ))
        }
    }

    async fn open_sqlite(url: &str) -> Result<Store, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit that has returned survives a power cut, which is
            // what a receipt promises.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(LOCK_WAIT)
            // 64 MiB of page cache per connection (the default is 2 MiB):
            // the event-id index takes random inserts, and at a million
            // entries it no longer fits in the default cache.
            .pragma("cache_size", "-65536")
            // Statement journals (a multi-row INSERT inside the sequencing
            // transaction keeps one, to undo itself on a conflict) stay in
            // memory instead of a temporary file created and deleted per
            // statement.
            .pragma("temp_store", "MEMORY")
            // The service copies the log into the database in the
            // background ([`Store::checkpoint_wal`]); SQLite's own automatic
            // checkpoint, which runs inside the committing transaction, is
            // the fallback, at 64 MiB of log instead of 4 MiB.
            .pragma("wal_autocheckpoint", "16384")
            // Once fully copied, a log grown under load is cut back.
            .pragma("journal_size_limit", "67108864")
            .foreign_keys(true)
            .disable_statement_logging();
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let writer = SqliteWriter {
            conn: options.connect().await?,
            maybe_open: false,
        };
        Ok(Store::Sqlite {
            pool,
            writer: Arc::new(tokio::sync::Mutex::new(Some(writer))),
        })
    }

    pub(crate) async fn open_postgres(
        url: &str,
        max_connections: u32,
    ) -> Result<Store, StoreError> {
        let (url, schema) = split_schema(url)?;
        let mut options = PgConnectOptions::from_str(&url)
            .map_err(|e| StoreError::BadUrl(e.to_string()))?
            .disable_statement_logging();
        if let Some(schema) = &schema {
            let mut conn = options.connect().await?;
            // Two processes may create the schema at once; the loser sees a
            // unique violation on the catalogue, which means it exists.
            match sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .execute(&mut conn)
                .await
                .map_err(StoreError::from)
            {
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
            sqlx::Connection::close(conn).await?;
            options = options.options([("search_path", schema.as_str())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(PG_ACQUIRE_WAIT)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Store::Postgres {
            pool,
            writer: Arc::new(tokio::sync::Mutex::new(None)),
            options: Box::new(options),
        })
    }

    /// Closes every connection; the handle (and its clones) must not be
    /// used afterwards.
    pub async fn close(&self) {
        // Closing fails only if a connection is already broken; it is gone
        // either way.
        match self {
            Store::Sqlite { writer, .. } => {
                if let Some(w) = writer.lock().await.take() {
                    let _ = w.conn.close().await;
                }
            }
            Store::Postgres { writer, .. } => {
                if let Some(conn) = writer.lock().await.take() {
                    let _ = conn.close().await;
                }
            }
        }
        on_pool!(self, p => p.close().await)
    }

    /// On SQLite, copies the write-ahead log into the database file without
    /// waiting for readers or the writer (`PRAGMA wal_checkpoint(PASSIVE)`)
    /// and returns the frames in the log and how many of them are now in
    /// the database. The service runs it in the background after commits,
    /// so that the single writer does not do this copying (and its fsync)
    /// inside a commit. `None` on PostgreSQL, which checkpoints by itself.
    pub async fn checkpoint_wal(&self) -> Result<Option<(u64, u64)>, StoreError> {
        match self {
            Store::Sqlite { pool: p, .. } => {
                let (_busy, log, copied): (i64, i64, i64) =
                    sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                        .fetch_one(p)
                        .await?;
                // -1 when the database is not in WAL mode, which it always is.
                Ok(Some((
                    u64::try_from(log).unwrap_or(0),
                    u64::try_from(copied).unwrap_or(0),
                )))
            }
            Store::Postgres { .. } => Ok(None),
        }
    }

    /// On SQLite, writes a consistent copy of the whole database to the new
    /// file `path` (`VACUUM INTO`): one read transaction, so the copy is the
    /// database as of one commit, while the service goes on appending (a
    /// reader never blocks SQLite's writer in WAL mode). The copy holds no
    /// write-ahead log and is compacted. `path` must not exist. On
    /// PostgreSQL, [`StoreError::Unsupported`]: `pg_dump` takes the backup
    /// (docs/OPERATIONS.md).
    pub async fn backup_into(&self, path: &Path) -> Result<(), StoreError> {
        let Store::Sqlite { pool, .. } = self else {
            return Err(StoreError::Unsupported(
                "a backup of a PostgreSQL ledger is taken with pg_dump",
            ));
        };
        let path = path.to_str().ok_or_else(|| {
            StoreError::BadUrl(format!("the backup path {} is not UTF-8", path.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(pool)
            .await?;
        Ok(())
    }

    /// On SQLite, SQLite's own check of every page of the file
    /// (`PRAGMA quick_check`: the b-trees' structure, cell order, free
    /// list, and that each row has its columns; not the index-to-table
    /// cross-check of `integrity_check`, whose cost grows faster than the
    /// file). It reads the whole file once, which start-up can afford
    /// beside rebuilding the tree. A damaged file is
    /// [`StoreError::Damaged`] with SQLite's first findings. PostgreSQL
    /// keeps its own pages (and their checksums, when enabled), so there it
    /// does nothing.
    pub async fn check_integrity(&self) -> Result<(), StoreError> {
        let Store::Sqlite { pool, .. } = self else {
            return Ok(());
        };
        // The first ten findings: more say nothing new to the operator.
        let findings: Vec<String> = sqlx::query_scalar("PRAGMA quick_check(10)")
            .fetch_all(pool)
            .await
            .map_err(|e| {
                let text = e.to_string();
                match StoreError::from(e) {
                    // A page so damaged that the check itself stops.
                    e if e.is_damaged() => StoreError::Damaged(text),
                    e => e,
                }
            })?;
        if findings.len() == 1 && findings[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Damaged(findings.join("; ")))
        }
    }

    /// Which backend this is, for logs and metrics: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite { .. } => "sqlite",
            Store::Postgres { .. } => "postgres",
        }
    }

    /// The number of entries.
    pub async fn size(&self) -> Result<u64, StoreError> {
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(SIZE_SQL).fetch_one(p).await?);
        to_u64(n)
    }

    /// The entry hashes (Merkle leaves) from `from` on, in seq order. This
    /// is what start-up reads to rebuild the tree, so it reads one narrow
    /// column as a stream.
    pub async fn leaf_hashes(&self, from: u64) -> Result<Vec<Digest>, StoreError> {
        let from = to_i64(from)?;
        const SQL: &str = "SELECT seq, entry_hash FROM entries WHERE seq >= $1 ORDER BY seq";
        let mut out = Vec::new();
        let mut expected = from;
        on_pool!(self, p => {
            let mut rows = sqlx::query_as::<_, (i64, Vec<u8>)>(SQL).bind(from).fetch(p);
            while let Some((seq, hash)) = rows.try_next().await? {
                // A gap would silently shift every later leaf, so it is
                // reported rather than built into a wrong tree.
                if seq != expected {
                    return Err(StoreError::Corrupt {
                        seq: to_u64(expected)?,
                        reason: format!("entries jump from seq {expected} to {seq}"),
                    });
                }
                expected += 1;
                out.push(digest(to_u64(seq)?, &hash, "entry_hash")?);
            }
        });
        Ok(out)
    }

    /// The last entry, if any.
    pub async fn head(&self) -> Result<Option<Recorded>, StoreError> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries ORDER BY seq DESC LIMIT 1");
        let row: Option<EntryRow> =
            on_pool!(self, p => sqlx::query_as(&sql).fetch_optional(p).await?);
        row.map(decode).transpose()
    }

    /// Up to `limit` entries with `seq >= from`, in seq order.
    pub async fn entries(&self, from: u64, limit: u32) -> Result<Vec<Recorded>, StoreError> {
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE seq >= $1 ORDER BY seq LIMIT $2");
        let (from, limit) = (to_i64(from)?, i64::from(limit));
        let rows: Vec<EntryRow> = on_pool!(self, p => sqlx::query_as(&sql)
            .bind(from)
            .bind(limit)
            .fetch_all(p)
            .await?);
        decode_all(rows)
    }

    /// The entry at `seq`.
    pub async fn entry(&self, seq: u64) -> Result<Option<Recorded>, StoreError> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE seq = $1");
        let seq = to_i64(seq)?;
        let row: Option<EntryRow> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(seq).fetch_optional(p).await?);
        row.map(decode).transpose()
    }

    /// The entry that records the event with this id.
    pub async fn entry_by_event_id(&self, id: &EventId) -> Result<Option<Recorded>, StoreError> {
        // SQLite keeps the id as its 16 bytes, PostgreSQL as a uuid (bound
        // as its text).
        let row: Option<EntryRow> = match self {
            Store::Sqlite { pool: p, .. } => {
                let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE event_id = $1");
                sqlx::query_as(&sql)
                    .bind(&id.to_bytes()[..])
                    .fetch_optional(p)
                    .await?
            }
            Store::Postgres { pool: p, .. } => {
                let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE event_id = $1::uuid");
                sqlx::query_as(&sql)
                    .bind(id.as_str())
                    .fetch_optional(p)
                    .await?
            }
        };
        row.map(decode).transpose()
    }

    /// Every ledger-defined (`daicho.*`) entry in seq order: the genesis and
    /// the key registrations and revocations, from which the registry is
    /// rebuilt.
    pub async fn registry_events(&self) -> Result<Vec<Recorded>, StoreError> {
        let rows: Vec<EntryRow> =
            on_pool!(self, p => sqlx::query_as(&registry_sql()).fetch_all(p).await?);
        decode_all(rows)
    }

    /// The signed checkpoint note for tree size `size`, if one was kept.
    pub async fn checkpoint_at(&self, size: u64) -> Result<Option<String>, StoreError> {
        const SQL: &str = "SELECT note FROM checkpoints WHERE size = $1";
        let size = to_i64(size)?;
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL).bind(size).fetch_optional(p).await?))
    }

    /// The checkpoint of the largest size.
    pub async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row: Option<(i64, String)> =
            on_pool!(self, p => sqlx::query_as(LATEST_CHECKPOINT_SQL).fetch_optional(p).await?);
        row.map(checkpoint_row).transpose()
    }

    /// Up to `limit` checkpoints with `size > after`, smallest first.
    pub async fn checkpoints(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredCheckpoint>, StoreError> {
        const SQL: &str =
            "SELECT size, note FROM checkpoints WHERE size > $1 ORDER BY size LIMIT $2";
        let (after, limit) = (to_i64(after)?, i64::from(limit));
        let rows: Vec<(i64, String)> = on_pool!(self, p => sqlx::query_as(SQL)
            .bind(after)
            .bind(limit)
            .fetch_all(p)
            .await?);
        rows.into_iter().map(checkpoint_row).collect()
    }

    /// The entries with `from <= seq < upto`, in seq order, as a stream of
    /// chunks of at most `chunk` entries: an export reads the ledger a chunk
    /// at a time instead of holding it all in memory. Give `upto` as the
    /// size of the checkpoint the export ends with, so that entries appended
    /// while it runs are not included.
    pub fn export_chunks(
        &self,
        from: u64,
        upto: u64,
        chunk: u32,
    ) -> impl Stream<Item = Result<Vec<Recorded>, StoreError>> + Send + 'static {
        let store = self.clone();
        let chunk = chunk.max(1);
        futures_util::stream::try_unfold(from, move |next| {
            let store = store.clone();
            async move {
                if next >= upto {
                    return Ok(None);
                }
                let want = u32::try_from(upto - next).unwrap_or(u32::MAX).min(chunk);
                let batch = store.entries(next, want).await?;
                let Some(last) = batch.last() else {
                    return Ok(None);
                };
                let after = last.entry.seq + 1;
                Ok(Some((batch, after)))
            }
        })
    }

    /// Stores a read token's hash with its role and a label saying whom it
    /// was issued to. A hash that is already stored is a
    /// [`StoreError::Conflict`].
    pub async fn insert_token(
        &self,
        token_hash: [u8; 32],
        role: &str,
        label: &str,
    ) -> Result<(), StoreError> {
        const SQL: &str =
            "INSERT INTO tokens (token_hash, role, label, created_at) VALUES ($1, $2, $3, $4)";
        let created_at =
            daicho_core::timestamp::RecordedAt::from_datetime(time::OffsetDateTime::now_utc())
                .map(|t| t.to_string())
                .unwrap_or_default();
        on_pool!(self, p => {
            sqlx::query(SQL)
                .bind(&token_hash[..])
                .bind(role)
                .bind(label)
                .bind(&created_at)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// The role of the token with this hash. Hashes are looked up by the
    /// database's index; the caller hashed the presented token, so the
    /// lookup reveals nothing about stored tokens' bytes.
    pub async fn token_role(&self, token_hash: [u8; 32]) -> Result<Option<String>, StoreError> {
        const SQL: &str = "SELECT role FROM tokens WHERE token_hash = $1";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(&token_hash[..])
            .fetch_optional(p)
            .await?))
    }

    /// Every stored token, oldest first (then by hash): its hash, role,
    /// label and creation time. The tokens themselves are not stored.
    pub async fn tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        const SQL: &str =
            "SELECT token_hash, role, label, created_at FROM tokens ORDER BY created_at, token_hash";
        let rows: Vec<(Vec<u8>, String, String, String)> =
            on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?);
        rows.into_iter()
            .map(|(hash, role, label, created_at)| {
                // The schema's CHECK keeps hashes at 32 bytes; another length
                // means the table was changed by something else.
                let token_hash =
                    <[u8; 32]>::try_from(hash.as_slice()).map_err(|_| StoreError::Corrupt {
                        seq: 0,
                        reason: format!("a token hash of {} bytes in the tokens table", hash.len()),
                    })?;
                Ok(StoredToken {
                    token_hash,
                    role,
                    label,
                    created_at,
                })
            })
            .collect()
    }

    /// Deletes the token with this hash; whether there was one. From the
    /// commit on, [`Store::token_role`] no longer finds it, on every
    /// connection and every process sharing the database.
    pub async fn revoke_token(&self, token_hash: [u8; 32]) -> Result<bool, StoreError> {
        const SQL: &str = "DELETE FROM tokens WHERE token_hash = $1";
        let deleted = on_pool!(self, p => sqlx::query(SQL)
            .bind(&token_hash[..])
            .execute(p)
            .await?
            .rows_affected());
        Ok(deleted == 1)
    }

    /// Starts a sequencing transaction: waits for the database's single
    /// writer lock and holds it until [`Sequencing::commit`] or drop.
    ///
    /// On SQLite this is the store's one writer connection (other handles
    /// of this store wait for it) and `BEGIN IMMEDIATE`, the database's
    /// write lock (other processes wait for it), which is sent with the
    /// transaction's first statement: nothing is read before the lock is
    /// held. On PostgreSQL it is a transaction that takes a
    /// transaction-scoped advisory lock keyed by the current schema, so
    /// ledgers in different schemas do not wait for each other.
    pub async fn begin_sequencing(&self) -> Result<Sequencing, StoreError> {
        Sequencing::begin(self).await
    }
}

pub(crate) const SIZE_SQL: &str = "SELECT COALESCE(MAX(seq) + 1, 0) FROM entries";

const LATEST_CHECKPOINT_SQL: &str = "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1";

pub(crate) fn latest_checkpoint_sql() -> &'static str {
    LATEST_CHECKPOINT_SQL
}

fn registry_sql() -> String {
    // The condition repeats the partial index's, so both planners use it.
    format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE event_type LIKE 'daicho.%' ORDER BY seq")
}

pub(crate) fn checkpoint_row((size, note): (i64, String)) -> Result<StoredCheckpoint, StoreError> {
    Ok(StoredCheckpoint {
        size: to_u64(size)?,
        note,
    })
}

/// Takes the `schema=NAME` parameter out of a PostgreSQL URL, because it is
/// ours and not the driver's.
fn split_schema(url: &str) -> Result<(String, Option<String>), StoreError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), None));
    };
    let mut schema = None;
    let mut rest = Vec::new();
    for param in query.split('&') {
        match param.strip_prefix("schema=") {
            Some(name) => schema = Some(name.to_owned()),
            None => rest.push(param),
        }
    }
    if let Some(name) = &schema {
        // The name is spliced into `CREATE SCHEMA`, so only a plain
        // identifier is accepted.
        let plain = !name.is_empty()
            && name.len() <= 63
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !plain {
            return Err(StoreError::BadUrl(
                "schema must be 1 to 63 characters of [a-z0-9_]".into(),
            ));
        }
    }
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, schema))
}

#[cfg(test)]
mod tests {
    use super::split_schema;

    #[test]
    fn schema_parameter_is_taken_out_of_the_url() {
        let (url, schema) = split_schema("postgres://u@h/db?schema=abc&sslmode=disable").unwrap();
        assert_eq!(url, "postgres://u@h/db?sslmode=disable");
        assert_eq!(schema.as_deref(), Some("abc"));
        let (url, schema) = split_schema("postgres://u@h/db").unwrap();
        assert_eq!((url.as_str(), schema), ("postgres://u@h/db", None));
        assert!(split_schema("postgres://u@h/db?schema=a\"b").is_err());
    }
}
