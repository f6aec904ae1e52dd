//! `daicho export`: the bundle from a data directory or a running service.

use std::io::Write as _;

use anyhow::{bail, Context as _};
use daicho_store::Store;
use futures_util::TryStreamExt as _;
use http_body_util::BodyExt as _;

use crate::bundle::bundle_stream;
use crate::cli::ExportConfig;
use crate::client::Client;
use crate::data_dir::{redact, DataDir};
use crate::keyfile;

/// Writes the bundle to `--out` (via a temporary file, renamed when complete,
/// so that a failed export never leaves a truncated bundle behind).
pub async fn export(cfg: &ExportConfig) -> anyhow::Result<()> {
    let tmp = cfg.out.with_extension("partial");
    let result = write(cfg, &tmp).await;
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

async fn write(cfg: &ExportConfig, tmp: &std::path::Path) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(tmp).with_context(|| format!("creating {}", tmp.display()))?,
    );
    match (&cfg.source.data_dir, &cfg.source.url) {
        (Some(dir), _) => {
            let dir = DataDir::new(dir);
            let ledger_key = keyfile::read_public(&dir.ledger_vkey())?;
            let url = dir.database_url(cfg.source.database_url.as_deref());
            let store = Store::open(&url)
                .await
                .with_context(|| format!("opening {}", redact(&url)))?;
            let Some(latest) = store.latest_checkpoint().await? else {
                bail!("the ledger has no checkpoint yet");
            };
            let mut stream = Box::pin(bundle_stream(store.clone(), &ledger_key, latest.size));
            while let Some(chunk) = stream.try_next().await? {
                file.write_all(&chunk)?;
            }
            store.close().await;
        }
        (None, Some(url)) => {
            let client = Client::new(url)?;
            let res = client
                .send(
                    hyper::Method::GET,
                    "/v1/export",
                    cfg.source.token.as_deref(),
                    None,
                    bytes::Bytes::new(),
                )
                .await?;
            if !res.status().is_success() {
                let status = res.status();
                let body = res.into_body().collect().await?.to_bytes();
                bail!(
                    "the service refused the export ({status}): {}",
                    String::from_utf8_lossy(&body)
                );
            }
            let mut body = res.into_body();
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame?.into_data() {
                    file.write_all(&data)?;
                }
            }
        }
        (None, None) => bail!("give --data-dir DIR or --url URL --token TOKEN"),
    }
    let file = file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(tmp, &cfg.out)
        .with_context(|| format!("renaming {} to {}", tmp.display(), cfg.out.display()))?;
    Ok(())
}
