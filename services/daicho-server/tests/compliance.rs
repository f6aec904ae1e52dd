//! A generated quarter stored on each backend and evaluated by the
//! service's compliance view gives the golden evaluation byte for byte:
//! the same bytes as the pure fold of the same entries
//! (`daicho-compliance`'s `tests/generated.rs`).

use std::sync::Arc;

use daicho_catalogue::Catalogue;
use daicho_compliance::{Period, Rulebook};
use daicho_server::compliance::Compliance;
use daicho_synth::{generate, Config};
use daicho_testkit::{Backend, ScratchDb};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/golden/evaluation-R08-Q1.json"
);

async fn stored_quarter_matches_the_golden_evaluation(backend: Backend) {
    let catalogue = Catalogue::embedded();
    let config = Config {
        sections: 6,
        staff_per_section: 5,
        ..Config::default()
    };
    let entries = generate(&config, catalogue).into_ledger();
    let db = ScratchDb::new(backend);
    let store = db.open().await.unwrap();
    for chunk in entries.chunks(2_000) {
        let mut tx = store.begin_sequencing().await.unwrap();
        let size = chunk.last().unwrap().entry.seq + 1;
        tx.insert(chunk, Some((size, &format!("checkpoint {size}"))))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let view = Arc::new(Compliance::new(catalogue, Rulebook::embedded().clone()));
    let period = Period::fiscal_quarter(2026, 1).unwrap();
    // Judged after the quarter: the same as judging at its end.
    let later = time::macros::datetime!(2026-12-01 00:00 +09:00);
    let evaluation = view
        .evaluate(&store, period, Some((2026, 1)), None, later)
        .await
        .unwrap();
    assert_eq!(evaluation.tree_size, entries.len() as u64);
    let golden = std::fs::read(GOLDEN).expect("the golden evaluation exists");
    assert!(
        evaluation.canonical_bytes() == golden,
        "the evaluation through the {backend:?} store differs from {GOLDEN}"
    );
    // As of an earlier size, the view folds the store's first entries.
    let earlier = view
        .evaluate(&store, period, Some((2026, 1)), Some(1_000), later)
        .await
        .unwrap();
    assert_eq!(earlier.tree_size, 1_000);
    store.close().await;
}

daicho_testkit::on_both_backends!(stored_quarter_matches_the_golden_evaluation);
