//! The data directory: where the keys, the last signed checkpoint and (by
//! default) the SQLite database live, and its creation by `daicho init`.
//!
//! ```text
//! DIR                      the directory itself (0700 when init creates it)
//! DIR/daicho.db            the SQLite database, unless --database-url (0600)
//! DIR/keys/ledger.key      the ledger's checkpoint key (0600)
//! DIR/keys/ledger.vkey     its C2SP verifier key, for auditors
//! DIR/keys/admin.key       the first administrator key (0600)
//! DIR/keys/admin.key.pub   its verifier key
//! DIR/keys/last-checkpoint the last checkpoint this service signed
//! ```

use std::fs;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
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
    /// The ledger's verifier key.
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
    /// Whether `init` has run here (the ledger key exists).
    pub fn is_initialised(&self) -> bool {
        self.ledger_key().exists()
    }
}

/// What `init` created.
#[derive(Debug)]
pub struct Initialised {
    /// The ledger's signing key.
    pub ledger: NoteSigner,
    /// The first administrator's key.
    pub admin: NoteSigner,
}

/// Creates the data directory, its keys and the genesis entry. Refuses if
/// a ledger key, the SQLite file, or a non-empty database is already there:
/// initialising twice would fork the ledger.
pub async fn initialise(
    dir: &DataDir,
    database_url: Option<&str>,
    origin: &str,
) -> anyhow::Result<Initialised> {
    if dir.ledger_key().exists() || dir.admin_key().exists() {
        bail!(
            "{} already holds ledger keys; refusing to touch an existing ledger",
            dir.root().display()
        );
    }
    if database_url.is_none() && dir.sqlite_path().exists() {
        bail!(
            "{} already exists; refusing to touch an existing ledger",
            dir.sqlite_path().display()
        );
    }
    let ledger = keyfile::generate(origin).context("the origin is not a valid key name")?;
    let admin = keyfile::generate("admin")?;

    // The database holds personal data and token hashes: only the
    // service's user may read the directory.
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir.root())
        .with_context(|| format!("creating {}", dir.root().display()))?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir.keys_dir())
        .with_context(|| format!("creating {}", dir.keys_dir().display()))?;

    if database_url.is_none() {
        // Created empty with mode 0600 before SQLite opens it, so that the
        // database is never readable by others, not even for a moment, and
        // SQLite gives its -wal and -shm files the same mode. (The
        // directory may have existed with a wider mode.)
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dir.sqlite_path())
            .with_context(|| format!("creating {}", dir.sqlite_path().display()))?;
    }
    let url = dir.database_url(database_url);
    let store = Store::open(&url)
        .await
        .with_context(|| format!("opening the database {}", redact(&url)))?;
    let result = write_genesis(&store, dir, &ledger, &admin).await;
    store.close().await;
    result?;

    keyfile::write_private(&dir.ledger_key(), &ledger)?;
    keyfile::write_public(&dir.ledger_vkey(), ledger.verifier())?;
    keyfile::write_private(&dir.admin_key(), &admin)?;
    keyfile::write_public(&keyfile::public_path(&dir.admin_key()), admin.verifier())?;
    Ok(Initialised { ledger, admin })
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
