//! `daicho witness keygen` and `daicho witness serve`: a witness that
//! cosigns other ledgers' checkpoints (C2SP tlog-witness).

use std::sync::Arc;

use anyhow::Context as _;
use daicho_core::keys::NoteVerifier;

use crate::cli::{WitnessKeygenConfig, WitnessServeConfig};
use crate::witness::service::{self, Witness, VKEY_FILE};

/// Creates the witness key and prints its verifier key.
pub fn keygen(cfg: &WitnessKeygenConfig) -> anyhow::Result<()> {
    let signer = service::keygen(&cfg.data_dir, &cfg.name)?;
    println!("{}", signer.verifier());
    eprintln!(
        "wrote {} and {}; give the verifier key above to the ledgers you witness and to their auditors",
        cfg.data_dir.join(service::KEY_FILE).display(),
        cfg.data_dir.join(VKEY_FILE).display()
    );
    Ok(())
}

/// A ledger's verifier key given inline or as a file.
fn log_key(arg: &str) -> anyhow::Result<NoteVerifier> {
    match NoteVerifier::parse(arg) {
        Ok(k) => Ok(k),
        Err(_) => {
            let text = std::fs::read_to_string(arg).with_context(|| {
                format!("--log-key {arg} is neither a verifier key nor a readable file")
            })?;
            NoteVerifier::parse(&text)
                .with_context(|| format!("{arg} does not hold a verifier key"))
        }
    }
}

/// Runs the witness until SIGTERM or Ctrl-C.
pub async fn serve(cfg: &WitnessServeConfig) -> anyhow::Result<()> {
    crate::app::init_logging(cfg.log_format);
    let signer = service::read_key(&cfg.data_dir)?;
    let logs = cfg
        .log_keys
        .iter()
        .map(|k| log_key(k))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("binding {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, witness = %signer.verifier(), logs = logs.len(), "witness listening");
    let app = service::router(Arc::new(Witness::new(signer, logs, &cfg.data_dir)));
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::app::shutdown_signal())
        .await
        .context("serving")
}
