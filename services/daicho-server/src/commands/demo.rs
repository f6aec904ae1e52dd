//! `daicho demo`: a data directory holding a generated, realistic quarter
//! (`daicho-synth`), appended through the sequencer as a live ledger would
//! have recorded it, with remarks on some findings, so that a newcomer can
//! run `daicho report` (or `daicho serve`) on it at once.
//!
//! The ledger's clock follows the generated acts: each hour of acts is one
//! group commit recorded at the end of that hour. The demo's ledger and
//! administrator keys derive from a public seed: a demo directory is for
//! trying daicho, never for real records.

use std::io::IsTerminal as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use daicho_catalogue::Catalogue;
use daicho_compliance::{evaluate, FindingState, Period, Rulebook, State};
use daicho_core::event::{Actor, EventType, Label, SignedEvent, UnsignedEvent};
use daicho_core::keys::NoteSigner;
use daicho_core::registry::{KeyRegistration, KeyRole, KEY_REGISTERED};
use daicho_core::timestamp::{OccurredAt, RecordedAt};
use daicho_core::Digest;
use daicho_store::Store;
use daicho_synth::{generate, Config};

use crate::cli::DemoConfig;
use crate::data_dir::DataDir;
use crate::keyfile;
use crate::sequencer::{Sequencer, SequencerConfig};

/// The name of the key the demo registers for `report.issued`.
pub const REPORT_KEY_NAME: &str = "report-issuer";

/// Creates the demo data directory.
pub async fn demo(cfg: &DemoConfig) -> anyhow::Result<()> {
    let started = Instant::now();
    let dir = DataDir::new(&cfg.data_dir);
    if dir.ledger_key().exists() || dir.sqlite_path().exists() {
        bail!(
            "{} already holds a ledger; give --data-dir a new directory",
            dir.root().display()
        );
    }
    let catalogue = Catalogue::embedded();
    let config = Config {
        seed: cfg.seed,
        fiscal_year: cfg.fy,
        quarter: cfg.quarter,
        sections: cfg.sections.max(2),
        ..Config::default()
    };
    eprintln!(
        "generating {} for {} sections (seed {})",
        daicho_report::wareki::quarter_label_ja(cfg.fy, cfg.quarter),
        config.sections,
        cfg.seed
    );
    let generated = generate(&config, catalogue);

    for d in [dir.root().to_owned(), dir.keys_dir()] {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&d)
            .with_context(|| format!("creating {}", d.display()))?;
    }
    keyfile::write_private(&dir.ledger_key(), &generated.ledger_key)?;
    keyfile::write_public(&dir.ledger_vkey(), generated.ledger_key.verifier())?;
    keyfile::write_private(&dir.admin_key(), &generated.admin)?;
    keyfile::write_public(
        &keyfile::public_path(&dir.admin_key()),
        generated.admin.verifier(),
    )?;
    let report_key = NoteSigner::from_seed(
        REPORT_KEY_NAME,
        Digest::of(format!("daicho demo report key {}", cfg.seed).as_bytes()).0,
    )
    .expect("a valid key name");
    let report_key_path = dir.keys_dir().join("report.key");
    keyfile::write_private(&report_key_path, &report_key)?;
    keyfile::write_public(
        &keyfile::public_path(&report_key_path),
        report_key.verifier(),
    )?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dir.sqlite_path())
        .with_context(|| format!("creating {}", dir.sqlite_path().display()))?;
    let url = dir.database_url(None);
    let store = Store::open(&url).await?;

    // The clock the sequencer records with: set before each commit.
    let now = Arc::new(AtomicI64::new(0));
    let clock_now = now.clone();
    let clock: crate::sequencer::Clock = Arc::new(move || {
        RecordedAt::from_unix_micros(clock_now.load(Ordering::SeqCst))
            .expect("generated times are in range")
    });
    let at = |seconds: i64| now.store(seconds * 1_000_000, Ordering::SeqCst);
    let seq_cfg = SequencerConfig::new(dir.last_checkpoint(), false).with_clock(clock);
    let eve = generated
        .genesis
        .body
        .occurred_at
        .instant()
        .unix_timestamp();
    at(eve + 1);
    Sequencer::initialise(
        &store,
        &generated.ledger_key,
        generated.genesis.clone(),
        &seq_cfg,
    )
    .await?;
    let sequencer = Sequencer::start(store.clone(), generated.ledger_key.clone(), seq_cfg).await?;

    at(eve + 61);
    let mut registrations: Vec<SignedEvent> = generated
        .registrations
        .iter()
        .map(|r| r.clone().sign(&generated.admin))
        .collect();
    registrations.push(register_report_key(&generated, &report_key, eve + 60));
    let n = registrations.len();
    sequencer.append(registrations, vec![None; n]).await?;

    // The events were just signed with these keys, so the writer need not
    // verify them again; `daicho-verify` checks every signature of an
    // export.
    let keys: std::collections::HashMap<_, _> = generated
        .keys
        .iter()
        .map(|k| {
            let signer = k.signer();
            (signer.key_id(), signer.public_key())
        })
        .collect();
    let total = generated.events.len() as u64;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} appending [{bar:40}] {pos}/{len} events ({eta})",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar
    });
    let hour = |e: &SignedEvent| {
        e.body
            .occurred_at
            .instant()
            .unix_timestamp()
            .div_euclid(3600)
    };
    let mut events = generated.events.iter().peekable();
    let mut done = 0u64;
    while let Some(first) = events.next() {
        let h = hour(first);
        let mut batch = vec![first.clone()];
        while let Some(next) = events.next_if(|e| hour(e) == h) {
            batch.push(next.clone());
        }
        at((h + 1) * 3600);
        let n = batch.len();
        let signed_with = batch
            .iter()
            .map(|e| keys.get(&e.body.key_id).copied())
            .collect();
        sequencer.append(batch, signed_with).await?;
        done += n as u64;
        if let Some(bar) = &bar {
            bar.set_position(done);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    // Remarks by the secretariat and the committee on three findings, ten
    // days after the quarter: a remediation plan, an accepted risk and a
    // decision.
    let period = Period::fiscal_quarter(cfg.fy, cfg.quarter)?;
    let remark_at = period.end().unix_timestamp() + 10 * 86_400;
    let entries = store.entries(0, u32::MAX).await?;
    let state = State::fold(catalogue, &entries);
    let evaluation = evaluate(
        catalogue,
        Rulebook::embedded(),
        &state,
        period,
        Some((cfg.fy, cfg.quarter)),
    );
    let open: Vec<&daicho_compliance::Finding> = evaluation
        .findings
        .iter()
        .filter(|f| f.state == FindingState::Open)
        .collect();
    let remarker = generated
        .keys
        .iter()
        .find(|k| k.types.iter().any(|t| t == "finding.remarked"));
    let mut remarks = Vec::new();
    if let Some(key) = remarker {
        let signer = key.signer();
        let kinds = [
            serde_json::json!({"kind": "remediation_plan", "remarked_by": "secretariat",
                "text": "所管課に手順を再周知し、次の四半期末までに是正状況を確認する。",
                "due": daicho_compliance::calendar::format_date(
                    Period::fiscal_quarter(cfg.fy + i32::from(cfg.quarter == 4), cfg.quarter % 4 + 1)?.until)}),
            serde_json::json!({"kind": "accepted_risk", "remarked_by": "committee",
                "text": "代替手段がないため、機器の更新まで現行の運用を継続する。",
                "accepted_by": {"role": "cio", "staff_id": "K-00001"}}),
            serde_json::json!({"kind": "decision", "remarked_by": "committee",
                "text": "是正を確認したため、本件を終結とする。"}),
        ];
        for (i, (finding, body)) in open.iter().zip(kinds).enumerate() {
            let serde_json::Value::Object(mut payload) = body else {
                unreachable!("object literals")
            };
            payload.insert("finding_id".into(), finding.id.clone().into());
            let occurred = remark_at + i as i64 * 3600;
            let event = UnsignedEvent {
                event_id: daicho_core::event::EventId::time_ordered(
                    occurred as u64 * 1000,
                    Digest::of(finding.id.as_bytes()).0[..10]
                        .try_into()
                        .expect("ten bytes"),
                ),
                event_type: EventType::parse("finding.remarked").expect("a valid type"),
                schema_version: 1,
                occurred_at: OccurredAt::parse(&timestamp(occurred)?)?,
                actor: Actor {
                    id: Label::parse("K-00002").expect("a valid label"),
                    role: Label::parse("chief_info_manager").expect("a valid label"),
                },
                source: Label::parse(signer.verifier().name()).expect("source names are labels"),
                payload,
                key_id: signer.key_id(),
            }
            .sign(&signer);
            remarks.push((occurred, event));
        }
    }
    for (occurred, event) in remarks {
        at(occurred + 60);
        sequencer.append(vec![event], vec![None]).await?;
    }
    let size = sequencer.snapshot().size;
    sequencer.shutdown().await?;
    store.close().await;
    eprintln!(
        "created {} in {:.1} s: {size} entries, {} findings in {}",
        dir.root().display(),
        started.elapsed().as_secs_f64(),
        evaluation.findings.len(),
        evaluation.period.label_ja,
    );
    eprintln!(
        "next: daicho report --data-dir {} --fy {} --quarter {} --format pdf",
        dir.root().display(),
        cfg.fy,
        cfg.quarter
    );
    println!("{}", generated.ledger_key.verifier());
    Ok(())
}

fn timestamp(unix: i64) -> anyhow::Result<String> {
    Ok(time::OffsetDateTime::from_unix_timestamp(unix)?
        .to_offset(daicho_compliance::calendar::JST)
        .format(&time::format_description::well_known::Rfc3339)?)
}

/// The administrator's registration of the key that signs `report.issued`.
fn register_report_key(
    generated: &daicho_synth::Generated,
    key: &NoteSigner,
    at: i64,
) -> SignedEvent {
    let public = key.public_key();
    let registration = KeyRegistration {
        key_id: public.key_id(),
        public_key: public,
        source: Label::parse(REPORT_KEY_NAME).expect("a valid label"),
        role: KeyRole::Source,
        types: vec![EventType::parse("report.issued").expect("a valid type")],
    };
    let serde_json::Value::Object(payload) =
        serde_json::to_value(&registration).expect("registrations serialise")
    else {
        unreachable!("a registration is an object")
    };
    let template = &generated.registrations[0];
    UnsignedEvent {
        event_id: daicho_core::event::EventId::time_ordered(at as u64 * 1000, [7; 10]),
        event_type: EventType::parse(KEY_REGISTERED).expect("a valid type"),
        schema_version: 1,
        occurred_at: OccurredAt::parse(&timestamp(at).expect("in range")).expect("valid"),
        actor: template.actor.clone(),
        source: template.source.clone(),
        payload,
        key_id: generated.admin.key_id(),
    }
    .sign(&generated.admin)
}
