//! Throw-away databases for tests: a fresh SQLite file in a temporary
//! directory, or a fresh schema in the test PostgreSQL database, removed
//! when the handle is dropped. Every test of the store, the sequencer and
//! the HTTP API runs against these, once per backend
//! ([`on_both_backends!`](crate::on_both_backends)).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use daicho_store::{Store, StoreError};

/// The environment variable naming the PostgreSQL database that tests and
/// benchmarks use, each in schemas of its own.
pub const DATABASE_URL_VAR: &str = "DAICHO_TEST_DATABASE_URL";

/// The test PostgreSQL database when [`DATABASE_URL_VAR`] is unset.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The test PostgreSQL database: [`DATABASE_URL_VAR`], or
/// [`DEFAULT_DATABASE_URL`] when it is unset.
pub fn database_url() -> String {
    std::env::var(DATABASE_URL_VAR).unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}

/// Which backend a scratch database uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A schema of the test PostgreSQL database.
    Postgres,
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct ScratchDb {
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(PathBuf),
    Schema { base_url: String, schema: String },
}

/// A name no other scratch database of any process has: the process id, a
/// counter and the clock.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}_{n}_{nanos}", std::process::id())
}

impl ScratchDb {
    /// A fresh database of the given backend.
    pub fn new(backend: Backend) -> ScratchDb {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres(),
        }
    }

    /// A fresh SQLite file (not yet created) in a new temporary directory.
    pub fn sqlite() -> ScratchDb {
        let dir = std::env::temp_dir().join(format!("daicho-scratch-{}", unique_name()));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        ScratchDb {
            url: format!("sqlite://{}", dir.join("daicho.db").display()),
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A fresh schema (created on first open) in the test database,
    /// [`database_url`].
    pub fn postgres() -> ScratchDb {
        let base_url = database_url();
        let schema = format!("daicho_test_{}", unique_name());
        let sep = if base_url.contains('?') { '&' } else { '?' };
        ScratchDb {
            // The application name marks this database's connections, so
            // that the clean-up can end any that are still open.
            url: format!("{base_url}{sep}schema={schema}&application_name={schema}"),
            cleanup: Cleanup::Schema { base_url, schema },
        }
    }

    /// The database URL, for [`Store::open`] or a server's `--database-url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        match self.cleanup {
            Cleanup::Dir(_) => Backend::Sqlite,
            Cleanup::Schema { .. } => Backend::Postgres,
        }
    }

    /// The SQLite file's path, for tests that copy or replace it.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match &self.cleanup {
            Cleanup::Dir(dir) => Some(dir.join("daicho.db")),
            Cleanup::Schema { .. } => None,
        }
    }

    /// A directory that lives as long as this database (for SQLite, the
    /// file's own directory; for PostgreSQL, none).
    pub fn dir(&self) -> Option<&Path> {
        match &self.cleanup {
            Cleanup::Dir(dir) => Some(dir),
            Cleanup::Schema { .. } => None,
        }
    }

    /// On PostgreSQL, ends every connection to this database (as a restart
    /// of the server would, and of no other test's) and returns how many
    /// were ended; on SQLite, nothing.
    pub fn end_connections(&self) -> Result<u64, String> {
        match &self.cleanup {
            Cleanup::Dir(_) => Ok(0),
            Cleanup::Schema { base_url, schema } => on_the_server(base_url, schema, None),
        }
    }

    /// Opens the database (creating it and applying the migrations).
    pub async fn open(&self) -> Result<Store, StoreError> {
        Store::open(&self.url).await
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { base_url, schema } => {
                // A test that ends with a transaction still open (or whose
                // runtime is blocked here) would hold locks that DROP
                // SCHEMA waits for, so those connections are ended first.
                let drop_sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                if let Err(e) = on_the_server(base_url, schema, Some(drop_sql)) {
                    eprintln!("could not drop scratch schema: {e}");
                }
            }
        }
    }
}

/// Ends every connection marked with `schema` as its application name (a
/// scratch schema's, see [`ScratchDb::postgres`]), then runs `then` if
/// given, on a connection of its own to `base_url`. Drop may run inside an
/// async test's runtime, which cannot block on a future, so this runs on a
/// thread with a runtime of its own.
fn on_the_server(base_url: &str, schema: &str, then: Option<String>) -> Result<u64, String> {
    let (base_url, schema) = (base_url.to_owned(), schema.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async {
            use sqlx::{ConnectOptions, Connection};
            let options: sqlx::postgres::PgConnectOptions = base_url.parse()?;
            let mut conn = options.connect().await?;
            let ended: Vec<bool> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = $1 AND pid <> pg_backend_pid()",
            )
            .bind(&schema)
            .fetch_all(&mut conn)
            .await?;
            if let Some(sql) = then {
                sqlx::query(&sql).execute(&mut conn).await?;
            }
            conn.close().await?;
            Ok::<_, sqlx::Error>(ended.into_iter().filter(|e| *e).count() as u64)
        })
    })
    .join()
    .map_err(|_| "the thread panicked".to_owned())?
    .map_err(|e| e.to_string())
}

/// A read transaction held open on an SQLite database, as a long report or
/// backup would hold one: until it is dropped, SQLite copies no commit made
/// after it began from the write-ahead log into the database file, so the
/// log keeps every later commit. The fault drills use it to leave a log
/// worth cutting short.
#[derive(Debug)]
pub struct HeldSnapshot {
    _conn: sqlx::SqliteConnection,
}

impl HeldSnapshot {
    /// Opens the SQLite database at `path` (which must exist) and begins a
    /// read transaction on it.
    pub async fn hold(path: &Path) -> Result<HeldSnapshot, sqlx::Error> {
        use sqlx::ConnectOptions as _;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .connect()
            .await?;
        sqlx::query("BEGIN").execute(&mut conn).await?;
        // The snapshot begins with the transaction's first read.
        let _: i64 = sqlx::query_scalar("SELECT count(*) FROM entries")
            .fetch_one(&mut conn)
            .await?;
        Ok(HeldSnapshot { _conn: conn })
    }
}
