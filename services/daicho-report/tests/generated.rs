//! The report of a generated quarter: golden bytes (regenerated with
//! `DAICHO_UPDATE_GOLDEN=1 cargo test -p daicho-report --test generated`),
//! the same bytes on every build, every article and every finding of the
//! evaluation present, and the JSON read back unchanged.

use daicho_catalogue::Catalogue;
use daicho_compliance::{Rulebook, State};
use daicho_core::entry::Recorded;
use daicho_report::{anchor_of, build, canonical_bytes, Input, Report};
use daicho_synth::{generate, Config, Generated};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/golden/report-R08-Q1.json"
);

fn quarter() -> (Vec<Recorded>, Generated) {
    let config = Config {
        sections: 6,
        staff_per_section: 5,
        ..Config::default()
    };
    let generated = generate(&config, Catalogue::embedded());
    (generated.clone().into_ledger(), generated)
}

fn report(entries: &[Recorded], generated: &Generated, quarter: u8) -> Report {
    let catalogue = Catalogue::embedded();
    let state = State::fold(catalogue, entries);
    build(&Input {
        catalogue,
        rulebook: Rulebook::embedded(),
        state: &state,
        fiscal_year: 2026,
        quarter,
        anchor: anchor_of(entries, &generated.ledger_key).unwrap(),
    })
    .unwrap()
}

#[test]
fn the_report_of_a_generated_quarter_is_golden() {
    let (entries, generated) = quarter();
    let bytes = canonical_bytes(&report(&entries, &generated, 1));
    if std::env::var_os("DAICHO_UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &bytes).unwrap();
    }
    let golden = std::fs::read(GOLDEN).expect("the golden report exists");
    assert!(
        bytes == golden,
        "the report differs from {GOLDEN}; if the change is intended, regenerate it"
    );
}

#[test]
fn the_report_holds_every_article_finding_and_register() {
    let (entries, generated) = quarter();
    let report = report(&entries, &generated, 1);
    assert_eq!(report.articles.len(), 87);
    assert_eq!(report.period.label_ja, "令和8年度 第1四半期");
    assert_eq!(report.anchor.tree_size, entries.len() as u64);
    assert!(report
        .anchor
        .checkpoint
        .contains(&format!("\n{}\n", entries.len())));
    assert!(!report.findings.is_empty());
    let listed: u64 = report.articles.iter().map(|a| a.findings).sum();
    assert_eq!(listed, report.findings.len() as u64);
    assert_eq!(report.summary.findings, report.findings.len() as u64);
    let by_status: u64 = report.summary.by_status.iter().map(|s| s.count).sum();
    assert_eq!(by_status, 87);
    let chapters: u64 = report
        .chapters
        .iter()
        .flat_map(|c| &c.by_status)
        .map(|s| s.count)
        .sum();
    assert_eq!(chapters, 87);
    for id in [
        "exceptions",
        "incidents",
        "usb_approvals",
        "carry_outs",
        "ic_cards",
        "audits",
        "audit_findings",
        "self_inspections",
    ] {
        let register = report.registers.iter().find(|r| r.id == id).unwrap();
        assert!(!register.rows.is_empty(), "the {id} register has rows");
        for row in &register.rows {
            assert_eq!(row.len(), register.columns.len());
        }
    }
    // The first quarter of a ledger has nothing before it to compare.
    assert!(!report.changes.comparable);
    // The JSON is the original: it reads back into the same report.
    let back: Report = serde_json::from_slice(&canonical_bytes(&report)).unwrap();
    assert_eq!(back, report);
}

#[test]
fn the_next_quarter_compares_with_this_one_and_carries_its_open_findings() {
    let (entries, generated) = quarter();
    let q2 = report(&entries, &generated, 2);
    assert!(q2.changes.comparable);
    assert_eq!(q2.changes.previous_label_ja, "令和8年度 第1四半期");
    assert!(q2
        .findings
        .iter()
        .all(|f| f.carried_over || f.detected_on >= q2.period.from));
    assert!(q2.summary.carried_over > 0);
}

#[test]
fn a_prefix_gives_a_report_of_its_own_and_the_same_prefix_the_same_bytes() {
    let (entries, generated) = quarter();
    let half = &entries[..entries.len() / 2];
    let a = canonical_bytes(&report(half, &generated, 1));
    let b = canonical_bytes(&report(half, &generated, 1));
    assert_eq!(a, b);
    assert_ne!(a, canonical_bytes(&report(&entries, &generated, 1)));
}

/// A remark recorded on a finding reaches the report beside it; a remark
/// naming no listed finding does not.
#[test]
fn remarks_on_listed_findings_are_carried_into_the_report() {
    use daicho_core::ledger::Ledger;
    use daicho_core::timestamp::RecordedAt;
    use daicho_testkit::EventBuilder;

    let (entries, generated) = quarter();
    let before = report(&entries, &generated, 1);
    let finding = before.findings[0].id.clone();
    let key = generated
        .keys
        .iter()
        .find(|k| k.types.iter().any(|t| t == "finding.remarked"))
        .expect("a source may remark on findings");
    let signer = key.signer();
    let remark = |finding_id: &str, minute: u32| {
        EventBuilder::new(&signer, "finding.remarked", signer.verifier().name())
            .occurred_at(&format!("2026-07-10T10:{minute:02}:00+09:00"))
            .actor("K-00002", "chief_info_manager")
            .payload(serde_json::json!({
                "finding_id": finding_id,
                "kind": "accepted_risk",
                "text": "更新まで現行の運用を継続する。",
                "remarked_by": "committee",
                "accepted_by": {"role": "cio", "staff_id": "K-00001"}
            }))
            .sign()
    };
    let mut ledger = Ledger::replay(entries.clone(), Some(&generated.ledger_verifier())).unwrap();
    let mut batch = ledger.begin(RecordedAt::parse("2026-07-10T02:00:00.000000Z").unwrap());
    batch.append(remark(&finding, 0), None).unwrap();
    batch.append(remark("not-a-finding", 1), None).unwrap();
    let staged = batch.finish();
    let mut all = entries;
    all.extend(ledger.commit(staged));

    let after = report(&all, &generated, 1);
    assert_eq!(after.remarks.len(), 1, "{:?}", after.remarks);
    let r = &after.remarks[0];
    assert_eq!(r.finding_id, finding);
    assert_eq!(r.kind_ja, "リスク受容");
    assert_eq!(r.accepted_by.as_deref(), Some("cio K-00001"));
    assert_eq!(r.remarked_by_ja.as_deref(), Some("情報化推進委員会"));
    assert_eq!(r.seq, all.len() as u64 - 2);
}
