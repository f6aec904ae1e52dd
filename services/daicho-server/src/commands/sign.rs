//! `daicho keygen` and `daicho sign`: the source system's side, no service needed.

use std::io::{Read as _, Write as _};

use anyhow::{bail, Context as _};
use daicho_core::event::UnsignedEvent;
use daicho_core::jcs;
use serde_json::Value;

use crate::cli::{KeygenConfig, SignConfig};
use crate::keyfile;

/// Writes a new key pair and prints the public key and its key id.
pub fn keygen(cfg: &KeygenConfig) -> anyhow::Result<()> {
    let name = match &cfg.name {
        Some(n) => n.clone(),
        None => cfg
            .out
            .file_stem()
            .and_then(|s| s.to_str())
            .map(|s| s.replace(|c: char| c.is_whitespace() || c == '+', "-"))
            .filter(|s| !s.is_empty())
            .context("cannot derive a key name from --out; give --name")?,
    };
    let signer = keyfile::generate(&name)?;
    let public = keyfile::public_path(&cfg.out);
    keyfile::write_private(&cfg.out, &signer)?;
    keyfile::write_public(&public, signer.verifier())?;
    println!("{}", signer.verifier());
    eprintln!(
        "wrote {} (private, 0600) and {}; key_id {}",
        cfg.out.display(),
        public.display(),
        signer.key_id()
    );
    Ok(())
}

/// Fills in what a source system may leave out, then signs.
///
/// `event_id` gets a fresh time-ordered UUID (version 7), `key_id` the signing key's id,
/// `source` the configured source, and `schema_version` the newest version
/// the embedded catalogue knows for the type. Anything the caller did give
/// is kept and signed as given, except a `key_id` or `source` that
/// contradicts the key and flag, which is an error.
pub fn sign_envelope(
    input: &[u8],
    signer: &daicho_core::keys::NoteSigner,
    source: &str,
) -> anyhow::Result<Vec<u8>> {
    let value = jcs::parse(input).context("stdin is not strict JSON")?;
    let Value::Object(mut map) = value else {
        bail!("stdin must hold one JSON object: the unsigned envelope");
    };
    if map.contains_key("signature") {
        bail!("the envelope is already signed");
    }
    let key_id = signer.key_id().to_string();
    match map.get("key_id") {
        None => {
            map.insert("key_id".into(), Value::String(key_id));
        }
        Some(Value::String(k)) if *k == key_id => {}
        Some(other) => bail!("key_id {other} is not the id of --key ({key_id})"),
    }
    match map.get("source") {
        None => {
            map.insert("source".into(), Value::String(source.to_owned()));
        }
        Some(Value::String(s)) if s == source => {}
        Some(other) => bail!("source {other} differs from --source {source:?}"),
    }
    if !map.contains_key("event_id") {
        map.insert(
            "event_id".into(),
            Value::String(super::fresh_event_id().to_string()),
        );
    }
    if !map.contains_key("schema_version") {
        let version = map
            .get("type")
            .and_then(Value::as_str)
            .and_then(|t| daicho_catalogue::Catalogue::embedded().event_type(t))
            .and_then(|d| d.versions.last())
            .map_or(1, |v| v.version);
        map.insert("schema_version".into(), Value::from(version));
    }
    let unsigned: UnsignedEvent = serde_json::from_value(Value::Object(map))
        .context("the envelope is not a valid unsigned event")?;
    let signed = unsigned.sign(signer);
    let mut out = signed.canonical_bytes();
    out.push(b'\n');
    Ok(out)
}

/// `daicho sign`: stdin → stdout.
pub fn sign(cfg: &SignConfig) -> anyhow::Result<()> {
    let signer = keyfile::read_private(&cfg.key)?;
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .context("reading stdin")?;
    let out = sign_envelope(&input, &signer, &cfg.source)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out)?;
    stdout.flush()?;
    Ok(())
}
