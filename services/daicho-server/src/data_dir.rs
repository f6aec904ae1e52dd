//! The data directory: where the keys, the last signed checkpoint and (by
//! default) the SQLite database live, and its creation by `daicho init`.
//!
//! ```text
//! DIR                      the directory itself (0700 when init creates it)
//! DIR/daicho.db            the SQLite database, unless --database-url (0600)
//! DIR/keys/ledger.key      the ledger's checkpoint key (0600)
//! DIR/keys/ledger.vkey     the genesis ledger key's C2SP verifier key, for
//!                          auditors (it does not change when the key rotates)
//! DIR/keys/ledger.previous.key  during a rotation's overlap, the key before
//! DIR/keys/ledger.next.key while a rotation is under way, the next key
//! DIR/keys/admin.key       the first administrator key (0600)
//! DIR/keys/admin.key.pub   its verifier key
//! DIR/keys/last-checkpoint the last checkpoint this service signed
//! DIR/last-checkpoint      its copy, beside the database
//! DIR/initialising         present only while `init` has not finished
//! ```
//!
//! # Initialisation is resumable
//!
//! `init` takes these steps, each durable before the next begins: the
//! `initialising` marker; the ledger key; the administrator key; the
//! database; the genesis entry with its checkpoint and the last-checkpoint
//! file; the removal of the marker. The keys reach the disk before anything
//! is signed with them, so a genesis always has its key. A crash at any
//! point leaves the marker, and the next `init` (or `serve`, which
//! initialises a directory that is not) finishes the work with the keys
//! already written instead of refusing the directory.

use std::fs;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use daicho_core::checkpoint::Checkpoint;
use daicho_core::event::{EventId, Label};
use daicho_core::keys::NoteSigner;
use daicho_core::ledger::genesis_event;
use daicho_core::timestamp::OccurredAt;
use daicho_store::Store;
use rand::RngCore as _;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::commands::key::ADMIN_HOLDER;
use crate::keyfile;
use crate::last_checkpoint::LastCheckpointFile;
use crate::sequencer::{Sequencer, SequencerConfig};

/// The paths of one data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The data directory at `root` (not checked).
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }
    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `DIR/keys`.
    pub fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }
    /// The ledger's private checkpoint key.
    pub fn ledger_key(&self) -> PathBuf {
        self.keys_dir().join("ledger.key")
    }
    /// The previous ledger key, kept after a rotation for the overlap in
    /// which it cosigns checkpoints (FORMAT.md §8.5).
    pub fn previous_ledger_key(&self) -> PathBuf {
        self.keys_dir().join("ledger.previous.key")
    }
    /// The next ledger key, written before a rotation is recorded.
    pub fn next_ledger_key(&self) -> PathBuf {
        self.keys_dir().join("ledger.next.key")
    }
    /// The ledger keys besides `ledger.key` that this directory holds: the
    /// previous and the next, those of the two files that exist.
    pub fn other_ledger_keys(&self) -> anyhow::Result<Vec<NoteSigner>> {
        let mut keys = Vec::new();
        for path in [self.previous_ledger_key(), self.next_ledger_key()] {
            if path.exists() {
                keys.push(keyfile::read_private(&path)?);
            }
        }
        Ok(keys)
    }
    /// The verifier key of the ledger's genesis key: what auditors trust.
    pub fn ledger_vkey(&self) -> PathBuf {
        self.keys_dir().join("ledger.vkey")
    }
    /// The first administrator's private key.
    pub fn admin_key(&self) -> PathBuf {
        self.keys_dir().join("admin.key")
    }
    /// The last checkpoint this service signed, kept outside the database.
    pub fn last_checkpoint(&self) -> PathBuf {
        self.keys_dir().join(crate::last_checkpoint::FILE_NAME)
    }
    /// The default SQLite database file.
    pub fn sqlite_path(&self) -> PathBuf {
        self.root.join("daicho.db")
    }
    /// The database URL: the override if given, else the SQLite file.
    pub fn database_url(&self, database_url: Option<&str>) -> String {
        match database_url {
            Some(u) => u.to_owned(),
            None => format!("sqlite://{}", self.sqlite_path().display()),
        }
    }
    /// The marker that says `init` has begun here and not finished.
    pub fn init_marker(&self) -> PathBuf {
        self.root.join("initialising")
    }
    /// Whether `init` has finished here: the ledger key exists and the
    /// marker of an unfinished `init` does not.
    pub fn is_initialised(&self) -> bool {
        self.ledger_key().exists() && !self.init_marker().exists()
    }
}

/// What `init` created.
#[derive(Debug)]
pub struct Initialised {
    /// The ledger's signing key.
    pub ledger: NoteSigner,
    /// The first administrator's key.
    pub admin: NoteSigner,
    /// Whether this run finished an initialisation a crash had interrupted.
    pub resumed: bool,
}

/// The steps of [`initialise`], in order. Each is durable once reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitStep {
    /// The directories and the `initialising` marker exist.
    Marked,
    /// The ledger key and its verifier key are written.
    LedgerKey,
    /// The administrator key and its verifier key are written.
    AdminKey,
    /// The database exists and its migrations are applied.
    Database,
    /// The genesis entry, its checkpoint and the last-checkpoint file are
    /// written.
    Genesis,
}

/// Creates the data directory, its keys and the genesis entry, or finishes
/// an initialisation that a crash interrupted (see the module's
/// documentation). Refuses a directory that holds a ledger without the
/// marker, and a database that holds another ledger: initialising twice
/// would fork the ledger.
pub async fn initialise(
    dir: &DataDir,
    database_url: Option<&str>,
    origin: &str,
) -> anyhow::Result<Initialised> {
    initialise_with(dir, database_url, origin, &mut |_| Ok(())).await
}

/// [`initialise`], calling `after` once each step is durable; an error from
/// it stops the initialisation there, as a crash would. Tests use it to
/// interrupt every step.
pub async fn initialise_with(
    dir: &DataDir,
    database_url: Option<&str>,
    origin: &str,
    after: &mut (dyn FnMut(InitStep) -> anyhow::Result<()> + Send),
) -> anyhow::Result<Initialised> {
    let resumed = dir.init_marker().exists();
    if !resumed {
        refuse_an_existing_ledger(dir, database_url).await?;
    }

    // The database holds personal data and token hashes: only the
    // service's user may read the directory.
    for d in [dir.root().to_owned(), dir.keys_dir()] {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&d)
            .with_context(|| format!("creating {}", d.display()))?;
    }
    if !resumed {
        create_private_file(&dir.init_marker())?;
        keyfile::sync_dir(&dir.init_marker())?;
    }
    after(InitStep::Marked)?;

    let ledger = key_of(&dir.ledger_key(), &dir.ledger_vkey(), origin)?;
    after(InitStep::LedgerKey)?;
    let admin_key = dir.admin_key();
    let admin = key_of(&admin_key, &keyfile::public_path(&admin_key), "admin")?;
    after(InitStep::AdminKey)?;

    if database_url.is_none() && !dir.sqlite_path().exists() {
        // Created empty with mode 0600 before SQLite opens it, so that the
        // database is never readable by others, not even for a moment, and
        // SQLite gives its -wal and -shm files the same mode. (The
        // directory may have existed with a wider mode.)
        create_private_file(&dir.sqlite_path())?;
    }
    let url = dir.database_url(database_url);
    let store = Store::open(&url)
        .await
        .with_context(|| format!("opening the database {}", redact(&url)))?;
    let result = async {
        after(InitStep::Database)?;
        match store.latest_checkpoint().await? {
            None => write_genesis(&store, dir, &ledger, &admin).await?,
            Some(cp) => finish_genesis(dir, &ledger, &cp.note)?,
        }
        after(InitStep::Genesis)
    }
    .await;
    store.close().await;
    result?;

    fs::remove_file(dir.init_marker())
        .with_context(|| format!("removing {}", dir.init_marker().display()))?;
    keyfile::sync_dir(&dir.init_marker())?;
    Ok(Initialised {
        ledger,
        admin,
        resumed,
    })
}

/// Refuses to begin where a ledger already is: keys, the SQLite file, or a
/// database that is not empty.
async fn refuse_an_existing_ledger(
    dir: &DataDir,
    database_url: Option<&str>,
) -> anyhow::Result<()> {
    if dir.ledger_key().exists() || dir.admin_key().exists() {
        bail!(
            "{} already holds ledger keys; refusing to touch an existing ledger",
            dir.root().display()
        );
    }
    match database_url {
        None if dir.sqlite_path().exists() => bail!(
            "{} already exists; refusing to touch an existing ledger",
            dir.sqlite_path().display()
        ),
        None => Ok(()),
        Some(url) => {
            let store = Store::open(url)
                .await
                .with_context(|| format!("opening the database {}", redact(url)))?;
            let size = store.size().await;
            store.close().await;
            if size? != 0 {
                bail!(
                    "the database {} already holds a ledger; refusing to touch an existing ledger",
                    redact(url)
                );
            }
            Ok(())
        }
    }
}

/// Creates an empty file only the service's user may read.
fn create_private_file(path: &Path) -> anyhow::Result<()> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    Ok(())
}

/// The private key at `path`, or a new one named `name` written there, and
/// its verifier key at `public` unless that is already written.
fn key_of(path: &Path, public: &Path, name: &str) -> anyhow::Result<NoteSigner> {
    let key = if path.exists() {
        keyfile::read_private(path)?
    } else {
        let key =
            keyfile::generate(name).with_context(|| format!("{name:?} is not a valid key name"))?;
        keyfile::write_private(path, &key)?;
        key
    };
    if !public.exists() {
        keyfile::write_public(public, key.verifier())?;
    }
    Ok(key)
}

/// Finishes an initialisation whose genesis is in the database: the
/// database's checkpoint must be signed by this directory's ledger key (else
/// the database is another ledger's), and it becomes the last-checkpoint
/// file if a crash came before that was written.
fn finish_genesis(dir: &DataDir, ledger: &NoteSigner, note: &str) -> anyhow::Result<()> {
    Checkpoint::open(note, ledger.verifier()).with_context(|| {
        format!(
            "the database holds a ledger that {} did not sign; refusing to touch it",
            dir.ledger_key().display()
        )
    })?;
    let file = LastCheckpointFile::new(dir.last_checkpoint());
    if file.read(ledger.verifier())?.is_none() {
        file.write(note)?;
    }
    Ok(())
}

/// Writes the genesis entry, its checkpoint and the last-checkpoint file
/// through the sequencer, which refuses a database that holds a ledger.
async fn write_genesis(
    store: &Store,
    dir: &DataDir,
    ledger: &NoteSigner,
    admin: &NoteSigner,
) -> anyhow::Result<()> {
    let mut id = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let now = OffsetDateTime::now_utc();
    let genesis = genesis_event(
        ledger,
        admin.public_key(),
        Label::parse(ADMIN_HOLDER).expect("a valid label"),
        EventId::from_bytes(id),
        OccurredAt::parse(&now.format(&Rfc3339)?)?,
    );
    let cfg = SequencerConfig::new(dir.last_checkpoint(), false);
    Sequencer::initialise(store, ledger, genesis, &cfg).await?;
    Ok(())
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
