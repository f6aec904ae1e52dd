//! The witness service: `daicho witness serve`.
//!
//! It knows the logs it witnesses by their verifier keys (the key's name is
//! the log's origin) and keeps, per origin, the last checkpoint note it
//! cosigned, in a file of its data directory written before the
//! cosignature leaves. It cosigns a new checkpoint only when the request's
//! old size is that checkpoint's size and the consistency proof from it
//! holds: a forked history fails the proof, and a rolled-back one is
//! smaller than what the witness has. Either is refused, logged, and a
//! forked one is kept as evidence under `forks/`.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use daicho_core::checkpoint::{Checkpoint, CheckpointError, CheckpointKeys};
use daicho_core::cosignature::{note_body, WitnessSigner};
use daicho_core::keys::NoteVerifier;
use daicho_core::merkle::verify_consistency;
use daicho_core::Digest;
use tokio::sync::Mutex;

use super::protocol::{AddCheckpoint, ADD_CHECKPOINT, SIZE_MEDIA_TYPE};

/// The private key file in a witness's data directory.
pub const KEY_FILE: &str = "witness.key";
/// The public key file beside it, for the ledgers' operators and auditors.
pub const VKEY_FILE: &str = "witness.vkey";

/// A running witness's state.
pub struct Witness {
    signer: WitnessSigner,
    logs: Vec<NoteVerifier>,
    dir: PathBuf,
    /// One add-checkpoint at a time: each reads and replaces a state file.
    lock: Mutex<()>,
    clock: fn() -> u64,
}

/// The system clock in whole seconds since the Unix epoch.
fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Witness {
    /// A witness with its key, the logs it witnesses and its data directory.
    pub fn new(signer: WitnessSigner, logs: Vec<NoteVerifier>, dir: &Path) -> Witness {
        Witness {
            signer,
            logs,
            dir: dir.to_owned(),
            lock: Mutex::new(()),
            clock: unix_seconds,
        }
    }

    /// The file holding the last checkpoint cosigned for `origin`: named
    /// by the SHA-256 of the origin, which may hold any character.
    fn state_file(&self, origin: &str) -> PathBuf {
        self.dir.join("logs").join(format!(
            "{}.checkpoint",
            Digest::of(origin.as_bytes()).to_hex()
        ))
    }

    /// The size and root of the last checkpoint cosigned for the log.
    fn saved(&self, log: &LogKeys<'_>) -> anyhow::Result<Option<Checkpoint>> {
        let path = self.state_file(log.origin());
        match fs::read_to_string(&path) {
            Ok(note) => log
                .open_checkpoint(&note)
                .map(Some)
                .with_context(|| format!("the saved checkpoint {} does not open", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Replaces the saved checkpoint durably: a new file, synced, renamed
    /// over the old one, and the directory synced.
    fn save(&self, log: &LogKeys<'_>, note: &str) -> anyhow::Result<()> {
        let path = self.state_file(log.origin());
        let dir = path.parent().expect("a file in logs/");
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = path.with_extension("tmp");
        let mut f = fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(note.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))?;
        fs::File::open(dir)?.sync_all()?;
        Ok(())
    }

    /// Keeps the two notes that disagree, for whoever investigates.
    fn keep_fork_evidence(&self, saved: &str, offered: &AddCheckpoint) -> anyhow::Result<PathBuf> {
        let dir = self.dir.join("forks");
        fs::create_dir_all(&dir)?;
        let path = dir.join(format!(
            "{}-{}.txt",
            (self.clock)(),
            Digest::of(offered.note.as_bytes()).to_hex()
        ));
        fs::write(
            &path,
            format!(
                "The checkpoint this witness cosigned last:\n\n{saved}\nThe checkpoint offered, with its consistency proof from size {}:\n\n{}",
                offered.old_size,
                offered.to_body()
            ),
        )?;
        Ok(path)
    }
}

/// The keys a witness knows for one log (one origin): usually one; two
/// while the log rotates its key (FORMAT.md §8.5), when the operator lists
/// both with `--log-key`. A note opens when it carries a line of one of
/// them, and no line of any of them fails (§7.2).
struct LogKeys<'a>(Vec<&'a NoteVerifier>);

impl LogKeys<'_> {
    fn origin(&self) -> &str {
        self.0[0].name()
    }
}

impl CheckpointKeys for LogKeys<'_> {
    fn open_checkpoint(&self, note: &str) -> Result<Checkpoint, CheckpointError> {
        let mut opened = None;
        let mut unsigned = None;
        for key in &self.0 {
            match Checkpoint::open(note, key) {
                Ok(cp) => opened = Some(cp),
                Err(e @ CheckpointError::NotSignedByKey(_)) => unsigned = Some(e),
                Err(e) => return Err(e),
            }
        }
        opened.ok_or_else(|| unsigned.expect("at least one key"))
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

/// `POST /add-checkpoint` (C2SP tlog-witness).
async fn add_checkpoint(State(w): State<Arc<Witness>>, body: String) -> Response {
    let req = match AddCheckpoint::parse(&body) {
        Ok(r) => r,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let origin = req.note.split('\n').next().unwrap_or_default();
    let log = LogKeys(w.logs.iter().filter(|l| l.name() == origin).collect());
    if log.0.is_empty() {
        return text(StatusCode::NOT_FOUND, format!("unknown log {origin:?}\n"));
    }
    let cp = match log.open_checkpoint(&req.note) {
        Ok(cp) => cp,
        Err(e @ (CheckpointError::NotSignedByKey(_) | CheckpointError::BadSignature(_))) => {
            return text(StatusCode::FORBIDDEN, format!("{e}\n"))
        }
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let _guard = w.lock.lock().await;
    let saved = match w.saved(&log) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(
                error = format!("{e:#}"),
                origin,
                "cannot read the witness state"
            );
            return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n");
        }
    };
    let saved_size = saved.as_ref().map_or(0, |c| c.size);
    if req.old_size != saved_size {
        return (
            StatusCode::CONFLICT,
            [(CONTENT_TYPE, SIZE_MEDIA_TYPE)],
            format!("{saved_size}\n"),
        )
            .into_response();
    }
    if cp.size < req.old_size {
        tracing::warn!(
            origin,
            offered = cp.size,
            cosigned = saved_size,
            "a checkpoint smaller than one already cosigned: the log rolled back"
        );
        return text(
            StatusCode::BAD_REQUEST,
            format!(
                "the checkpoint's size {} is below the size {saved_size} this witness cosigned\n",
                cp.size
            ),
        );
    }
    let consistent = match &saved {
        None => req.proof.is_empty(),
        Some(s) => verify_consistency(s.size, cp.size, &s.root, &cp.root, &req.proof).is_ok(),
    };
    if !consistent {
        let saved_note = fs::read_to_string(w.state_file(origin)).unwrap_or_default();
        let evidence = w.keep_fork_evidence(&saved_note, &req);
        tracing::error!(
            origin,
            cosigned_size = saved_size,
            offered_size = cp.size,
            offered_root = %cp.root.to_base64(),
            evidence = ?evidence.as_ref().map(|p| p.display().to_string()),
            "FORK: the offered checkpoint is not consistent with the one this witness cosigned"
        );
        return text(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the consistency proof from size {saved_size} does not hold: the checkpoint is not an extension of the one this witness cosigned\n"),
        );
    }
    if let Err(e) = w.save(&log, &req.note) {
        tracing::error!(
            error = format!("{e:#}"),
            origin,
            "cannot save the witness state"
        );
        return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n");
    }
    let body = note_body(&req.note).expect("the note opened");
    let line = w.signer.cosignature_line(body, (w.clock)());
    tracing::info!(origin, size = cp.size, "cosigned");
    text(StatusCode::OK, format!("{line}\n"))
}

/// The witness's routes: `POST /add-checkpoint` and `GET /healthz`.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route(ADD_CHECKPOINT, post(add_checkpoint))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(witness)
}

/// Creates a witness key in `dir` (0600) and its verifier key beside it;
/// refuses to replace an existing key.
pub fn keygen(dir: &Path, name: &str) -> anyhow::Result<WitnessSigner> {
    use rand::RngCore as _;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let signer = WitnessSigner::from_seed(name, seed)
        .with_context(|| format!("{name:?} is not a key name (non-empty, no spaces, no '+')"))?;
    let path = dir.join(KEY_FILE);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(f, "{}", signer.to_secret_string())?;
    f.sync_all()?;
    let vpath = dir.join(VKEY_FILE);
    fs::write(&vpath, format!("{}\n", signer.verifier()))
        .with_context(|| format!("writing {}", vpath.display()))?;
    Ok(signer)
}

/// Reads the witness key of `dir`, refusing a file that group or others can read.
pub fn read_key(dir: &Path) -> anyhow::Result<WitnessSigner> {
    let path = dir.join(KEY_FILE);
    let mode = fs::metadata(&path)
        .with_context(|| format!("reading {}", path.display()))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "{} is readable by others (mode {mode:o}); chmod 600 it",
            path.display()
        );
    }
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    WitnessSigner::parse(&text)
        .with_context(|| format!("{} does not hold a witness key", path.display()))
}
