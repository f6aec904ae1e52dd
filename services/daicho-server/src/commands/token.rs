//! `daicho token create`.

use anyhow::Context as _;
use daicho_store::Store;

use crate::auth;
use crate::cli::TokenCreateConfig;
use crate::data_dir::{redact, DataDir};

/// Creates a token, stores its hash, and prints the token once.
pub async fn create(cfg: &TokenCreateConfig) -> anyhow::Result<()> {
    let dir = DataDir::new(&cfg.data_dir);
    anyhow::ensure!(
        dir.is_initialised(),
        "{} is not a daicho data directory (run daicho init)",
        dir.root().display()
    );
    let url = dir.database_url(cfg.database_url.as_deref());
    let store = Store::open(&url)
        .await
        .with_context(|| format!("opening {}", redact(&url)))?;
    let token = auth::new_token();
    store
        .insert_token(auth::token_hash(&token), cfg.role.as_str(), &cfg.label)
        .await?;
    store.close().await;
    println!("{token}");
    Ok(())
}
