//! `daicho init`.

use crate::cli::InitConfig;
use crate::data_dir::{self, DataDir};

/// Creates the data directory and prints the ledger's verifier key.
pub async fn init(cfg: &InitConfig) -> anyhow::Result<()> {
    let dir = DataDir::new(&cfg.data_dir);
    let created = data_dir::initialise(&dir, cfg.database_url.as_deref(), &cfg.origin).await?;
    println!("{}", created.ledger.verifier());
    eprintln!(
        "initialised {}: ledger key {}, administrator key {} (key_id {})",
        dir.root().display(),
        dir.ledger_vkey().display(),
        dir.admin_key().display(),
        created.admin.key_id()
    );
    Ok(())
}
