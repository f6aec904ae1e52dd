//! A generated quarter of a municipality's acts, evaluated: every violation
//! the generator planted is found, on its ref and resting on the planted
//! entry; the evaluation is golden (byte-identical JSON, regenerated with
//! `DAICHO_UPDATE_GOLDEN=1 cargo test -p daicho-compliance --test generated`).

use std::collections::HashMap;

use daicho_catalogue::Catalogue;
use daicho_compliance::{evaluate, Period, Rulebook, State};
use daicho_synth::{generate, Config};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/golden/evaluation-R08-Q1.json"
);

fn quarter() -> (Vec<daicho_core::entry::Recorded>, daicho_synth::Generated) {
    let catalogue = Catalogue::embedded();
    let config = Config {
        sections: 6,
        staff_per_section: 5,
        ..Config::default()
    };
    let generated = generate(&config, catalogue);
    (generated.clone().into_ledger(), generated)
}

#[test]
fn every_planted_violation_is_found_on_its_ref() {
    let catalogue = Catalogue::embedded();
    let (entries, generated) = quarter();
    assert!(
        !generated.violations.is_empty(),
        "the generator planted violations"
    );
    let seq_of: HashMap<String, u64> = entries
        .iter()
        .map(|e| (e.event.body.event_id.to_string(), e.entry.seq))
        .collect();
    let state = State::fold(catalogue, &entries);
    // An obligation that falls due after the quarter (an audit finding's
    // ageing) is found in the next one.
    let findings: Vec<daicho_compliance::Finding> = [1, 2]
        .into_iter()
        .flat_map(|q| {
            let period = Period::fiscal_quarter(2026, q).unwrap();
            evaluate(
                catalogue,
                Rulebook::embedded(),
                &state,
                period,
                Some((2026, q)),
            )
            .findings
        })
        .collect();
    let mut missed = Vec::new();
    for v in &generated.violations {
        let seq = seq_of[&v.event_id.to_string()];
        let found = findings.iter().any(|f| {
            (f.reference == v.reference || f.reference.starts_with(&format!("{}-", v.reference)))
                && f.seqs.contains(&seq)
        });
        if !found {
            missed.push(format!(
                "{:?} on {} (seq {seq}, {})",
                v.kind, v.reference, v.event_type
            ));
        }
    }
    assert!(
        missed.is_empty(),
        "planted violations not found:\n{}",
        missed.join("\n")
    );
}

#[test]
fn the_evaluation_of_a_generated_quarter_is_golden() {
    let catalogue = Catalogue::embedded();
    let (entries, _) = quarter();
    let state = State::fold(catalogue, &entries);
    let period = Period::fiscal_quarter(2026, 1).unwrap();
    let bytes = evaluate(
        catalogue,
        Rulebook::embedded(),
        &state,
        period,
        Some((2026, 1)),
    )
    .canonical_bytes();
    if std::env::var_os("DAICHO_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(std::path::Path::new(GOLDEN).parent().unwrap()).unwrap();
        std::fs::write(GOLDEN, &bytes).unwrap();
    }
    let golden =
        std::fs::read(GOLDEN).expect("the golden file exists; see the module documentation");
    assert!(
        golden == bytes,
        "the evaluation differs from {GOLDEN}; review and regenerate"
    );
}
