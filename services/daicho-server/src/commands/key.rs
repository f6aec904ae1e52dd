//! `daicho key register` and `daicho key revoke`: registry events signed
//! with the administrator key and posted to a running service.

use anyhow::{bail, Context as _};
use daicho_core::event::{Actor, EventType, Label, UnsignedEvent};
use daicho_core::keys::{KeyId, NoteSigner};
use daicho_core::registry::{KeyRegistration, KeyRevocation, KeyRole, KEY_REGISTERED, KEY_REVOKED};
use daicho_core::timestamp::OccurredAt;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use crate::cli::{KeyRegisterConfig, KeyRevokeConfig};
use crate::client::Client;
use crate::keyfile;

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

/// Registers a source key.
pub async fn register(cfg: &KeyRegisterConfig) -> anyhow::Result<()> {
    let admin = keyfile::read_private(&cfg.admin_key)?;
    let public = keyfile::read_public(&cfg.public_key)?.public_key();
    let types = cfg
        .types
        .iter()
        .map(|t| EventType::parse(t.trim()).map_err(|e| anyhow::anyhow!("--types {t:?}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let registration = KeyRegistration {
        key_id: public.key_id(),
        public_key: public,
        source: Label::parse(&cfg.source).map_err(|e| anyhow::anyhow!("--source: {e}"))?,
        role: KeyRole::Source,
        types,
    };
    let body = registry_event(&admin, &cfg.actor, KEY_REGISTERED, &registration)?;
    post(&cfg.url, body)
        .await
        .with_context(|| format!("registering key {}", public.key_id()))
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
