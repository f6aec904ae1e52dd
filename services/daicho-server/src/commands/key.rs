//! `daicho key register` and `daicho key revoke`: registry events signed
//! with the administrator key and posted to a running service; and
//! `daicho key rotate-ledger`, run on the ledger's host with the service
//! stopped.

use anyhow::{bail, Context as _};
use daicho_core::event::{Actor, EventType, Label, UnsignedEvent};
use daicho_core::keys::{KeyId, NoteSigner};
use daicho_core::registry::{KeyRegistration, KeyRevocation, KeyRole, KEY_REGISTERED, KEY_REVOKED};
use daicho_core::timestamp::OccurredAt;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use crate::cli::{KeyRegisterConfig, KeyRevokeConfig, RegisterRole, RotateLedgerConfig};
use crate::client::Client;
use crate::data_dir::DataDir;
use crate::keyfile;
use crate::sequencer::{Sequencer, SequencerConfig};

/// The holder `daicho init` registers the first administrator key to; the
/// registry requires an administrator's events to carry it as `source`.
pub const ADMIN_HOLDER: &str = "administrator";

fn registry_event<P: Serialize>(
    admin: &NoteSigner,
    actor: &str,
    event_type: &str,
    payload: &P,
) -> anyhow::Result<Vec<u8>> {
    let serde_json::Value::Object(payload) = serde_json::to_value(payload)? else {
        bail!("a registry payload is an object");
    };
    let now = time::OffsetDateTime::now_utc().format(&Rfc3339)?;
    let event = UnsignedEvent {
        event_id: super::fresh_event_id(),
        event_type: EventType::parse(event_type).map_err(anyhow::Error::msg)?,
        schema_version: 1,
        occurred_at: OccurredAt::parse(&now)?,
        actor: Actor {
            id: Label::parse(actor).map_err(anyhow::Error::msg)?,
            role: Label::parse("admin").expect("a valid label"),
        },
        source: Label::parse(ADMIN_HOLDER).expect("a valid label"),
        payload,
        key_id: admin.key_id(),
    }
    .sign(admin);
    Ok(event.canonical_bytes())
}

async fn post(url: &str, body: Vec<u8>) -> anyhow::Result<()> {
    let client = Client::new(url)?;
    let res = client.post_json("/v1/events", body).await?;
    if !res.status.is_success() {
        bail!(
            "the service refused the event ({}): {}",
            res.status,
            res.text()
        );
    }
    println!("{}", res.text());
    Ok(())
}

/// Registers a source key, or an administrator key.
pub async fn register(cfg: &KeyRegisterConfig) -> anyhow::Result<()> {
    let admin = keyfile::read_private(&cfg.admin_key)?;
    let public = keyfile::read_public(&cfg.public_key)?.public_key();
    let types = cfg
        .types
        .iter()
        .map(|t| EventType::parse(t.trim()).map_err(|e| anyhow::anyhow!("--types {t:?}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (role, source) = match cfg.role {
        RegisterRole::Source => {
            let Some(source) = cfg.source.as_deref() else {
                bail!("--source is required for a source key");
            };
            (KeyRole::Source, source)
        }
        RegisterRole::Admin => {
            if !types.is_empty() {
                bail!("--types: an administrator key signs key registrations and revocations only; give no types");
            }
            if cfg.source.as_deref().is_some_and(|s| s != ADMIN_HOLDER) {
                bail!("--source: an administrator key's holder is {ADMIN_HOLDER:?}, the source every administrator's events carry");
            }
            (KeyRole::Admin, ADMIN_HOLDER)
        }
    };
    let registration = KeyRegistration {
        key_id: public.key_id(),
        public_key: public,
        source: Label::parse(source).map_err(|e| anyhow::anyhow!("--source: {e}"))?,
        role,
        types,
    };
    let body = registry_event(&admin, &cfg.actor, KEY_REGISTERED, &registration)?;
    post(&cfg.url, body)
        .await
        .with_context(|| format!("registering key {}", public.key_id()))
}

/// Rotates the ledger key (FORMAT.md §8.5, docs/OPERATIONS.md "Rotating
/// the ledger key"). Each step is durable before the next, and a run that
/// a crash interrupted is finished by running the command again:
///
/// 1. the next key is generated into `keys/ledger.next.key`;
/// 2. the current key appends `daicho.ledger.key_rotated` naming it, and
///    the checkpoint that covers it is signed by both keys;
/// 3. the current key is copied to `keys/ledger.previous.key` and the next
///    key renamed over `keys/ledger.key`.
///
/// The service then signs every checkpoint with the new key, and with the
/// previous one for as long as `keys/ledger.previous.key` exists.
pub async fn rotate_ledger(cfg: &RotateLedgerConfig) -> anyhow::Result<()> {
    let dir = DataDir::new(&cfg.data_dir);
    if !dir.is_initialised() {
        bail!(
            "{} is not an initialised data directory",
            dir.root().display()
        );
    }
    let resuming = dir.next_ledger_key().exists();
    if dir.previous_ledger_key().exists() && !resuming {
        bail!(
            "{} exists: the overlap of the last rotation has not ended. End it first (remove \
             that file as docs/OPERATIONS.md, \"Rotating the ledger key\", says), then rotate \
             again",
            dir.previous_ledger_key().display()
        );
    }
    let current = keyfile::read_private(&dir.ledger_key())?;
    // 1. The next key, on disk before anything names it.
    let next = if resuming {
        keyfile::read_private(&dir.next_ledger_key())?
    } else {
        let next = keyfile::generate(current.verifier().name())?;
        keyfile::write_private(&dir.next_ledger_key(), &next)?;
        next
    };
    // 2. The rotation, appended by the sequencer as any entry is.
    let url = dir.database_url(cfg.database_url.as_deref());
    let store = daicho_store::Store::open(&url)
        .await
        .with_context(|| format!("opening the database {}", crate::data_dir::redact(&url)))?;
    let sequencer = Sequencer::start(
        store.clone(),
        current.clone(),
        SequencerConfig::new(dir.last_checkpoint(), false).with_extra_keys(vec![next.clone()]),
    )
    .await
    .context("opening the ledger")?;
    let registry = sequencer.snapshot().registry.clone();
    let appended = if registry.ledger_key() == next.verifier() {
        // A run that a crash interrupted recorded it already.
        Ok(None)
    } else if registry.ledger_key() != current.verifier() {
        Err(anyhow::anyhow!(
            "the ledger's current key is {}, not the key in {}",
            registry.ledger_key(),
            dir.ledger_key().display()
        ))
    } else {
        let now = time::OffsetDateTime::now_utc().format(&Rfc3339)?;
        let event = daicho_core::ledger::key_rotation_event(
            &current,
            next.verifier(),
            &cfg.reason,
            super::fresh_event_id(),
            OccurredAt::parse(&now)?,
        );
        sequencer
            .append(vec![event], vec![None])
            .await
            .map(|r| Some(r.receipts[0].entry.seq))
            .map_err(anyhow::Error::from)
    };
    let stopped = sequencer.shutdown().await;
    store.close().await;
    let seq = appended.context("recording the rotation")?;
    stopped.context("stopping the sequencer")?;
    // 3. The keys in their places: the previous first, so that the
    //    current key is never only in a file about to be replaced.
    if dir.previous_ledger_key().exists() {
        let previous = keyfile::read_private(&dir.previous_ledger_key())?;
        if previous.verifier() != current.verifier() {
            bail!(
                "{} holds another key than {}; resolve by hand (docs/OPERATIONS.md)",
                dir.previous_ledger_key().display(),
                dir.ledger_key().display()
            );
        }
    } else {
        keyfile::write_private(&dir.previous_ledger_key(), &current)?;
    }
    std::fs::rename(dir.next_ledger_key(), dir.ledger_key()).with_context(|| {
        format!(
            "renaming {} to {}",
            dir.next_ledger_key().display(),
            dir.ledger_key().display()
        )
    })?;
    keyfile::sync_dir(&dir.ledger_key())?;
    match seq {
        Some(seq) => println!("the ledger key is rotated at seq {seq}"),
        None => println!("the rotation was already recorded; its key files are now in place"),
    }
    println!("new ledger key:      {}", next.verifier());
    println!("previous ledger key: {}", current.verifier());
    println!(
        "Checkpoints are signed by both keys until {} is removed; give the new key to the \
         witnesses before then (docs/OPERATIONS.md, \"Rotating the ledger key\").",
        dir.previous_ledger_key().display()
    );
    Ok(())
}

/// Revokes a key.
pub async fn revoke(cfg: &KeyRevokeConfig) -> anyhow::Result<()> {
    let admin = keyfile::read_private(&cfg.admin_key)?;
    let revocation = KeyRevocation {
        key_id: KeyId::parse(&cfg.key_id).context("--key-id")?,
        reason: cfg.reason.clone(),
    };
    let body = registry_event(&admin, &cfg.actor, KEY_REVOKED, &revocation)?;
    post(&cfg.url, body)
        .await
        .with_context(|| format!("revoking key {}", cfg.key_id))
}
