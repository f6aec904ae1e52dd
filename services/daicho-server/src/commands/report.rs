//! `daicho report`: the quarterly report from a data directory or a running
//! service, and, with `--issue-with`, the `report.issued` event that
//! anchors it in the ledger.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use daicho_catalogue::Catalogue;
use daicho_compliance::calendar::tokyo_date;
use daicho_compliance::Rulebook;
use daicho_core::event::{Actor, EventType, Label, UnsignedEvent};
use daicho_core::timestamp::OccurredAt;
use daicho_store::Store;
use http_body_util::BodyExt as _;
use time::format_description::well_known::Rfc3339;

use crate::api::reports::{REPORT_SHA256_HEADER, REPORT_TREE_SIZE_HEADER};
use crate::cli::ReportConfig;
use crate::client::Client;
use crate::data_dir::{redact, DataDir};
use crate::keyfile;
use crate::reports::{self, ReportFormat};

/// What was written.
struct Written {
    sha256: String,
    tree_size: u64,
}

/// Writes the report to `--out` (via a temporary file, renamed when
/// complete), then records its issue when asked.
pub async fn report(cfg: &ReportConfig) -> anyhow::Result<()> {
    let out = cfg.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "daicho-{}.{}",
            daicho_report::wareki::quarter_code(cfg.fy, cfg.quarter),
            cfg.format.extension()
        ))
    });
    let (bytes, written) = match (&cfg.source.data_dir, &cfg.source.url) {
        (Some(dir), _) => from_data_dir(cfg, &DataDir::new(dir)).await?,
        (None, Some(url)) => from_service(cfg, url).await?,
        (None, None) => bail!("give --data-dir DIR or --url URL --token TOKEN"),
    };
    write_atomically(&out, &bytes)?;
    eprintln!(
        "wrote {} ({} bytes): {} at tree size {}, report JSON sha256 {}",
        out.display(),
        bytes.len(),
        daicho_report::wareki::quarter_label_ja(cfg.fy, cfg.quarter),
        written.tree_size,
        written.sha256
    );
    if let (Some(key), Some(url)) = (&cfg.issue_with, &cfg.source.url) {
        issue(cfg, key, url, &written).await?;
    }
    Ok(())
}

fn write_atomically(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = out.with_extension("partial");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out)
        .with_context(|| format!("renaming {} to {}", tmp.display(), out.display()))
}

fn progress_bar(total: u64) -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{bar:40}] {pos}/{len} entries ({eta})",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_message("folding the ledger");
        bar
    })
}

async fn from_data_dir(cfg: &ReportConfig, dir: &DataDir) -> anyhow::Result<(Vec<u8>, Written)> {
    let ledger_key = keyfile::read_public(&dir.ledger_vkey())?;
    let url = dir.database_url(cfg.source.database_url.as_deref());
    let store = Store::open(&url)
        .await
        .with_context(|| format!("opening {}", redact(&url)))?;
    let result = async {
        let today = tokyo_date(time::OffsetDateTime::now_utc());
        reports::check_quarter(&store, cfg.fy, cfg.quarter, today).await?;
        let registry = crate::sequencer::stored_registry(&store, &ledger_key).await?;
        let anchor = reports::anchor(&store, &registry, cfg.as_of).await?;
        let size = anchor.tree_size;
        let bar = progress_bar(size);
        let progress = |n: u64| {
            if let Some(bar) = &bar {
                bar.set_position(n);
            }
        };
        let catalogue = Catalogue::embedded();
        let state = crate::compliance::fold_prefix(&store, catalogue, size, &progress).await?;
        if let Some(bar) = &bar {
            bar.set_message("evaluating and rendering");
        }
        let (_, json) = reports::build_report(
            catalogue,
            Rulebook::embedded(),
            &state,
            cfg.fy,
            cfg.quarter,
            anchor,
        )?;
        let bytes = reports::render(&json, cfg.format, cfg.lang)?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        anyhow::Ok((
            bytes,
            Written {
                sha256: daicho_report::sha256_hex(&json),
                tree_size: size,
            },
        ))
    }
    .await;
    store.close().await;
    result
}

async fn from_service(cfg: &ReportConfig, url: &str) -> anyhow::Result<(Vec<u8>, Written)> {
    let client = Client::new(url)?;
    let mut path = format!(
        "/v1/reports/quarterly/{}/{}?format={}&lang={}",
        cfg.fy,
        cfg.quarter,
        cfg.format.name(),
        cfg.lang.code()
    );
    if let Some(n) = cfg.as_of {
        path.push_str(&format!("&as_of={n}"));
    }
    let res = client
        .send(
            hyper::Method::GET,
            &path,
            cfg.source.token.as_deref(),
            None,
            bytes::Bytes::new(),
        )
        .await?;
    let status = res.status();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (sha256, tree_size) = (
        header(REPORT_SHA256_HEADER),
        header(REPORT_TREE_SIZE_HEADER),
    );
    let body = res.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        bail!(
            "the service refused the report ({status}): {}",
            String::from_utf8_lossy(&body)
        );
    }
    let (Some(sha256), Some(tree_size)) = (sha256, tree_size.and_then(|t| t.parse().ok())) else {
        bail!("the service's answer lacks the {REPORT_SHA256_HEADER} or {REPORT_TREE_SIZE_HEADER} header");
    };
    if cfg.format == ReportFormat::Json && daicho_report::sha256_hex(&body) != sha256 {
        bail!("the report's JSON does not have the SHA-256 the service stated");
    }
    Ok((body.to_vec(), Written { sha256, tree_size }))
}

/// Appends `report.issued` for the report just written.
async fn issue(cfg: &ReportConfig, key: &Path, url: &str, written: &Written) -> anyhow::Result<()> {
    let signer = keyfile::read_private(key)?;
    let payload = serde_json::json!({
        "fy": cfg.fy,
        "quarter": cfg.quarter,
        "tree_size": written.tree_size,
        "sha256": written.sha256,
        "format_version": daicho_report::REPORT_FORMAT_VERSION,
    });
    let serde_json::Value::Object(payload) = payload else {
        unreachable!("a JSON object literal")
    };
    let now = time::OffsetDateTime::now_utc().format(&Rfc3339)?;
    let event = UnsignedEvent {
        event_id: super::fresh_event_id(),
        event_type: EventType::parse("report.issued").expect("a valid type"),
        schema_version: 1,
        occurred_at: OccurredAt::parse(&now)?,
        actor: Actor {
            id: Label::parse(&cfg.issued_by).map_err(|e| anyhow::anyhow!("--issued-by: {e}"))?,
            // The 情報統括管理者 reports the state of the measures to the CIO
            // and the committee (第83条第2項).
            role: Label::parse("chief_info_manager").expect("a valid label"),
        },
        source: Label::parse(signer.verifier().name())
            .map_err(|e| anyhow::anyhow!("the key's name is not a source name: {e}"))?,
        payload,
        key_id: signer.key_id(),
    }
    .sign(&signer);
    let client = Client::new(url)?;
    let res = client
        .post_json("/v1/events", event.canonical_bytes())
        .await?;
    if !res.status.is_success() {
        bail!(
            "the service refused report.issued ({}): {}",
            res.status,
            res.text()
        );
    }
    eprintln!("recorded report.issued: {}", res.text());
    Ok(())
}
