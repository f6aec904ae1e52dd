//! The report's JSON Schema: committed at
//! `schemas/report/daicho-report-v1.schema.json`, generated from the
//! report's types (regenerate with
//! `DAICHO_UPDATE_GOLDEN=1 cargo test -p daicho-report --test schema`),
//! and the golden report is valid under it.

use daicho_report::model::json_schema;

const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../schemas/report/daicho-report-v1.schema.json"
);
const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/golden/report-R08-Q1.json"
);

#[test]
fn the_committed_schema_is_the_one_the_types_give() {
    let generated = serde_json::to_string_pretty(&json_schema()).unwrap() + "\n";
    if std::env::var_os("DAICHO_UPDATE_GOLDEN").is_some() {
        std::fs::write(SCHEMA, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(SCHEMA).expect("the schema is committed");
    assert!(
        committed == generated,
        "{SCHEMA} is not the schema of the report's types; regenerate it"
    );
}

#[test]
fn the_golden_report_is_valid_and_a_broken_one_is_not() {
    let schema = json_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(GOLDEN).unwrap()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let mut broken = report.clone();
    broken["articles"][0]["number"] = "one".into();
    assert!(!validator.is_valid(&broken));
    let mut extra = report;
    extra["unknown"] = 1.into();
    assert!(!validator.is_valid(&extra));
}
