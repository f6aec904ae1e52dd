//! `daicho token create`, `daicho token list` and `daicho token revoke`.
//!
//! A token is stored only as its SHA-256 digest. Its id is the first 16
//! hexadecimal digits of that digest: enough to tell tokens apart and to
//! revoke one, and useless to anyone who would use the token itself.

use std::path::Path;

use anyhow::{bail, Context as _};
use daicho_store::{Store, StoredToken};

use crate::auth;
use crate::cli::{TokenCreateConfig, TokenListConfig, TokenRevokeConfig};
use crate::data_dir::{redact, DataDir};

/// The hexadecimal digits of a digest shown as a token's id.
const ID_DIGITS: usize = 16;

/// The fewest digits `token revoke --id` takes, so that a slip of the
/// keyboard does not revoke the wrong token.
const MIN_ID_DIGITS: usize = 8;

/// The id of a token with this digest.
pub fn token_id(token_hash: &[u8; 32]) -> String {
    hex::encode(&token_hash[..ID_DIGITS / 2])
}

async fn open(data_dir: &Path, database_url: Option<&str>) -> anyhow::Result<Store> {
    let dir = DataDir::new(data_dir);
    anyhow::ensure!(
        dir.is_initialised(),
        "{} is not a daicho data directory (run daicho init)",
        dir.root().display()
    );
    let url = dir.database_url(database_url);
    Store::open(&url)
        .await
        .with_context(|| format!("opening {}", redact(&url)))
}

/// Creates a token, stores its hash, and prints the token once (its id
/// goes to standard error).
pub async fn create(cfg: &TokenCreateConfig) -> anyhow::Result<()> {
    let store = open(&cfg.data_dir, cfg.database_url.as_deref()).await?;
    let token = auth::new_token();
    let hash = auth::token_hash(&token);
    let result = store
        .insert_token(hash, cfg.role.as_str(), &cfg.label)
        .await;
    store.close().await;
    result?;
    println!("{token}");
    eprintln!(
        "token id {} (for daicho token revoke --id)",
        token_id(&hash)
    );
    Ok(())
}

/// Prints one line per stored token: id, role, creation time and label,
/// separated by tabs.
pub async fn list(cfg: &TokenListConfig) -> anyhow::Result<()> {
    let store = open(&cfg.data_dir, cfg.database_url.as_deref()).await?;
    let tokens = store.tokens().await;
    store.close().await;
    for t in tokens? {
        println!(
            "{}\t{}\t{}\t{}",
            token_id(&t.token_hash),
            t.role,
            t.created_at,
            t.label.replace(['\t', '\n', '\r'], " ")
        );
    }
    Ok(())
}

/// Deletes the one token whose id starts with `--id`. Every instance asks
/// the database for each request's token, so the token is refused from the
/// moment the deletion commits.
pub async fn revoke(cfg: &TokenRevokeConfig) -> anyhow::Result<()> {
    let id = cfg.id.trim().to_ascii_lowercase();
    if id.len() < MIN_ID_DIGITS || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("--id takes at least {MIN_ID_DIGITS} hexadecimal digits of a token id (see daicho token list)");
    }
    let store = open(&cfg.data_dir, cfg.database_url.as_deref()).await?;
    let result = revoke_in(&store, &id).await;
    store.close().await;
    let t = result?;
    eprintln!(
        "revoked token {} ({}, {:?}, created {})",
        token_id(&t.token_hash),
        t.role,
        t.label,
        t.created_at
    );
    Ok(())
}

async fn revoke_in(store: &Store, id: &str) -> anyhow::Result<StoredToken> {
    let mut matching: Vec<StoredToken> = store
        .tokens()
        .await?
        .into_iter()
        .filter(|t| hex::encode(t.token_hash).starts_with(id))
        .collect();
    let t = match matching.len() {
        0 => bail!("no token has an id starting with {id}"),
        1 => matching.remove(0),
        n => bail!("{n} tokens have an id starting with {id}; give more digits"),
    };
    if !store.revoke_token(t.token_hash).await? {
        bail!(
            "token {} was revoked by someone else meanwhile",
            token_id(&t.token_hash)
        );
    }
    Ok(t)
}
