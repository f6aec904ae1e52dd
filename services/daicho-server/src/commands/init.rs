//! `daicho init`.

use crate::cli::InitConfig;
use crate::data_dir::{self, DataDir};

/// Creates the data directory (or finishes one whose `init` was
/// interrupted) and prints the ledger's verifier key.
pub async fn init(cfg: &InitConfig) -> anyhow::Result<()> {
    let dir = DataDir::new(&cfg.data_dir);
    let created = data_dir::initialise(&dir, cfg.database_url.as_deref(), &cfg.origin).await?;
    println!("{}", created.ledger.verifier());
    if created.resumed {
        eprintln!(
            "finished an initialisation of {} that had been interrupted",
            dir.root().display()
        );
    }
    eprintln!(
        "initialised {}: ledger key {}, administrator key {} (key_id {})",
        dir.root().display(),
        dir.ledger_vkey().display(),
        dir.admin_key().display(),
        created.admin.key_id()
    );
    Ok(())
}
