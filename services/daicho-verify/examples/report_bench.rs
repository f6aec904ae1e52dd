//! The report benchmark of docs/PERFORMANCE.md: a generated ledger of about
//! `SCALE` × 24,000 entries, then the time to build the quarterly report's
//! JSON with the projections warm (what the service does for a request),
//! the time to fold the ledger and build it cold, and `daicho-verify
//! report` (the bundle verified, the report recomputed from the entries
//! as they are read) against the bundle verification alone, in alternate
//! rounds.
//!
//! `cargo run --release -p daicho-verify --example report_bench -- 42 [REPORT.json]`

use std::time::Instant;

use daicho_catalogue::Catalogue;
use daicho_compliance::{Rulebook, State};
use daicho_core::bundle;
use daicho_report::{anchor_of, build, canonical_bytes, Input};
use daicho_synth::{generate, Config};
use daicho_verify::quarterly::verify_report;
use daicho_verify::{verify_reader, Options};

fn main() {
    let scale: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let catalogue = Catalogue::embedded();
    let rulebook = Rulebook::embedded();
    let started = Instant::now();
    let generated = generate(
        &Config {
            scale,
            ..Config::default()
        },
        catalogue,
    );
    let signer = generated.ledger_key.clone();
    let entries = generated.into_ledger();
    let n = entries.len();
    println!(
        "generated {n} entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let anchor = anchor_of(&entries, &signer).expect("a ledger has entries");

    let started = Instant::now();
    let state = State::fold(catalogue, &entries);
    let fold = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let report = build(&Input {
        catalogue,
        rulebook,
        state: &state,
        fiscal_year: 2026,
        quarter: 1,
        anchor: anchor.clone(),
    })
    .expect("the report builds");
    let json = canonical_bytes(&report);
    let warm = started.elapsed().as_secs_f64();
    println!(
        "report JSON, projections warm: {warm:.2} s ({} bytes, {} findings)",
        json.len(),
        report.findings.len()
    );
    println!(
        "report JSON, cold (fold {fold:.2} s + build): {:.2} s",
        fold + warm
    );
    // A second argument keeps the report's JSON, for timing the renderers
    // on it (`daicho-report-pdf`'s `render_pdf` example).
    if let Some(path) = std::env::args().nth(2) {
        std::fs::write(&path, &json).expect("the report is written");
        println!("report JSON written to {path}");
    }
    drop(state);

    let mut bytes = bundle::header_line(&daicho_core::bundle::Header {
        format: daicho_core::bundle::BUNDLE_FORMAT.to_owned(),
        origin: signer.verifier().name().to_owned(),
        ledger_key: signer.verifier().to_string(),
    });
    for e in &entries {
        bytes.extend_from_slice(&bundle::entry_line(&e.entry, &e.event));
    }
    bytes.extend_from_slice(&bundle::checkpoint_line(&anchor.checkpoint));
    drop(entries);
    let options = Options::new(signer.verifier().clone());
    // Alternate rounds, so that a disturbance of the machine shows in the
    // spread of the ratios rather than in one of the two figures.
    let mut ratios = Vec::new();
    for round in 1..=ROUNDS {
        let started = Instant::now();
        let verified = verify_reader(&bytes[..], &options).expect("reading memory");
        let bundle_alone = started.elapsed().as_secs_f64();
        assert!(verified.ok, "{verified}");
        let started = Instant::now();
        let checked = verify_report(&bytes[..], &json, &options, catalogue, rulebook)
            .expect("reading memory");
        let whole = started.elapsed().as_secs_f64();
        assert!(checked.ok(), "{:?}", checked.recomputed);
        ratios.push(whole / bundle_alone);
        println!(
            "round {round}: bundle alone {bundle_alone:.2} s; daicho-verify report {whole:.2} s ({:.2}× the bundle alone)",
            whole / bundle_alone
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "daicho-verify report against the bundle alone: {} rounds, from {:.2}× to {:.2}×",
        ratios.len(),
        ratios[0],
        ratios[ratios.len() - 1]
    );
}

/// Rounds of the bundle alone and `daicho-verify report`.
const ROUNDS: usize = 3;
