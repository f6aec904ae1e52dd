//! The catalogue's integration tests: the embedded catalogue against the
//! regulation text, validation at the door, and the loader's refusals.

mod support;

use support::articles_file::{self, REGENERATE};
use support::{dependency_tree, regulation_text, shared_material};

/// The committed articles.json and chapters.json say what the regulation
/// text says. With `DAICHO_REGENERATE_ARTICLES=1` the test rewrites their
/// structural fields from the text instead (keeping the authored ones) —
/// review the diff before committing.
#[test]
fn articles_and_chapters_match_the_regulation_text() {
    let parsed = regulation_text::parse(&regulation_text::read_regulation_text());
    let committed_articles = articles_file::read_committed("articles.json");
    let committed_chapters = articles_file::read_committed("chapters.json");
    let articles = articles_file::expected_articles(&parsed, &committed_articles);
    let chapters = articles_file::expected_chapters(&parsed, &committed_chapters);
    if std::env::var_os(REGENERATE).is_some() {
        articles_file::write_articles(&articles);
        articles_file::write_chapters(&chapters);
        return;
    }
    let hint = format!("run `{REGENERATE}=1 cargo test -p daicho-catalogue --test catalogue articles_and_chapters` and review the diff");
    let committed: Vec<daicho_catalogue::Article> =
        serde_json::from_value(committed_articles["articles"].clone())
            .unwrap_or_else(|error| panic!("schemas/articles.json does not parse: {error}"));
    assert_eq!(
        committed.len(),
        articles.len(),
        "schemas/articles.json has the wrong number of articles; {hint}"
    );
    for (committed, expected) in committed.iter().zip(&articles) {
        assert_eq!(
            committed, expected,
            "第{}条 in schemas/articles.json differs from the regulation text; {hint}",
            expected.number
        );
    }
    let committed: Vec<daicho_catalogue::Chapter> =
        serde_json::from_value(committed_chapters["chapters"].clone())
            .unwrap_or_else(|error| panic!("schemas/chapters.json does not parse: {error}"));
    assert_eq!(
        committed, chapters,
        "schemas/chapters.json differs from the regulation text; {hint}"
    );
}

/// The tests read the repository's copy of the regulation; this one fails
/// when the copy no longer matches the original beside the repository.
#[test]
fn the_regulation_copy_matches_the_shared_original() {
    shared_material::assert_copy_matches_original(
        regulation_text::REGULATION_COPY,
        regulation_text::REGULATION_ORIGINAL,
    );
}

use std::collections::BTreeMap;

use daicho_catalogue::{
    definable_event_type, Catalogue, CatalogueError, Evaluation, EventTypeRuleError, FormKind,
    IssueKind, ValidationError, ValidityEnd, Violation,
};
use daicho_core::registry::{GENESIS, KEY_REGISTERED, KEY_REVOKED};
use serde_json::{json, Value};

fn catalogue() -> &'static Catalogue {
    Catalogue::embedded()
}

// ---- the catalogue against the regulation ---------------------------------------------

#[test]
fn the_catalogue_has_all_87_articles_in_order_with_the_regulations_titles() {
    let parsed = regulation_text::parse(&regulation_text::read_regulation_text());
    let articles = catalogue().articles();
    assert_eq!(articles.len(), 87);
    assert_eq!(
        parsed.articles.len(),
        87,
        "the parser must find all 87 articles in the text"
    );
    for (index, (article, text)) in articles.iter().zip(&parsed.articles).enumerate() {
        assert_eq!(article.number as usize, index + 1, "articles are in order");
        assert_eq!(
            article.title_ja, text.title_ja,
            "第{}条's title differs from the regulation text",
            article.number
        );
        assert!(
            !article.title_en.is_empty(),
            "第{}条 needs an English title",
            article.number
        );
    }
    // The table of contents (目次) names the same titles as the body.
    assert_eq!(parsed.contents_titles.len(), 87);
    for (number, title) in &parsed.contents_titles {
        assert_eq!(
            &catalogue().article(*number).unwrap().title_ja,
            title,
            "目次 and body disagree on 第{number}条"
        );
    }
    assert_eq!(
        catalogue().article(37).unwrap().title_ja,
        "USBメモリの取扱い"
    );
    assert_eq!(
        catalogue().article(86).unwrap().title_ja,
        "情報セキュリティ対策基準の見直し"
    );
    assert!(catalogue().article(0).is_none());
    assert!(catalogue().article(88).is_none());
}

#[test]
fn articles_carry_paragraphs_and_items_as_numbered_references() {
    let article = catalogue().article(37).unwrap();
    assert_eq!(article.chapter.number, 4);
    assert_eq!(article.chapter.title_ja, "物理的セキュリティ");
    assert_eq!(
        article.section.as_ref().unwrap().title_ja,
        "記録媒体の取扱い及び管理"
    );
    assert_eq!(article.paragraphs.len(), 6);
    let third = &article.paragraphs[2];
    assert_eq!(
        (third.reference.as_str(), third.ref_ja.as_str()),
        ("37-3", "第37条第3項")
    );
    assert_eq!(third.items.len(), 3);
    assert_eq!(third.items[1].reference, "37-3-2");
    assert_eq!(
        third.items[1].text_ja,
        "国、地方公共団体及び外部委託事業者等との情報の交換が必要な場合"
    );
    assert!(article.paragraphs[0]
        .text_ja
        .contains("承認する期間は、当該年度内とする。"));
    // Chapters 1 and 9 have no sections.
    assert!(catalogue().article(1).unwrap().section.is_none());
    assert!(catalogue().article(87).unwrap().section.is_none());
}

#[test]
fn transcription_corrections_are_recorded_in_the_regulation_identity() {
    let notes = &catalogue().regulation().transcription_notes;
    let recorded: Vec<(u32, u32, &str, &str, &str)> = notes
        .iter()
        .map(|note| {
            (
                note.article,
                note.paragraph,
                note.original.as_str(),
                note.corrected.as_str(),
                note.reason_en.as_str(),
            )
        })
        .collect();
    assert_eq!(recorded, regulation_text::CORRECTIONS.to_vec());
}

#[test]
fn the_regulation_identity_says_only_what_the_text_gives() {
    let regulation = catalogue().regulation();
    assert_eq!(regulation.name_ja, "亀岡市情報セキュリティ対策基準規程");
    assert_eq!(regulation.dated, "2015-04");
    assert_eq!(regulation.version, 1);
    // The text prints no 訓令 number and no effective date, so none is invented.
    assert_eq!(regulation.instrument_number, None);
    assert_eq!(regulation.effective_date, None);
    let text = regulation_text::read_regulation_text();
    assert!(text.contains(&regulation.name_ja));
    assert!(text.contains("平成27年(2015年) 4月"));
}

#[test]
fn every_articles_event_types_exist_and_evaluated_articles_have_some() {
    for article in catalogue().articles() {
        for event_type in &article.event_types {
            let detail = catalogue().event_type(event_type).unwrap_or_else(|| {
                panic!(
                    "第{}条 lists {event_type}, which has no schema",
                    article.number
                )
            });
            assert!(
                detail
                    .versions
                    .iter()
                    .any(|version| version.articles.contains(&article.number)),
                "{event_type} does not name 第{}条",
                article.number
            );
        }
        if article.evaluation != Evaluation::Declarative {
            assert!(
                !article.event_types.is_empty(),
                "第{}条 is {:?} without event types",
                article.number,
                article.evaluation
            );
        }
    }
    let declarative: Vec<u32> = catalogue()
        .articles()
        .iter()
        .filter(|a| a.evaluation == Evaluation::Declarative)
        .map(|a| a.number)
        .collect();
    assert_eq!(declarative, vec![1, 2, 3, 57, 74, 87]);
}

#[test]
fn every_event_type_serves_at_least_one_existing_article() {
    for summary in catalogue().event_types() {
        assert!(
            !summary.articles.is_empty(),
            "{} serves no article",
            summary.name
        );
        for number in &summary.articles {
            let article = catalogue()
                .article(*number)
                .unwrap_or_else(|| panic!("{} names missing 第{number}条", summary.name));
            assert!(article
                .event_types
                .iter()
                .any(|t| t == summary.name.as_str()));
        }
        assert!(!summary.title_en.is_empty() && !summary.title_ja.is_empty());
        assert!(!summary.description_en.is_empty() && !summary.description_ja.is_empty());
    }
}

#[test]
fn every_schema_compiles_and_every_example_validates() {
    // Loading compiles every schema and checks every example; this test
    // additionally runs each example through the public door.
    let mut examples = 0;
    for summary in catalogue().event_types() {
        let detail = catalogue().event_type(summary.name.as_str()).unwrap();
        for version in &detail.versions {
            assert!(
                !version.examples.is_empty(),
                "{} v{} has no example",
                summary.name,
                version.version
            );
            for example in &version.examples {
                catalogue()
                    .validate(summary.name.as_str(), version.version, "staff", example)
                    .unwrap_or_else(|error| {
                        panic!(
                            "{} v{}: example refused: {error}",
                            summary.name, version.version
                        )
                    });
                examples += 1;
            }
        }
    }
    assert!(examples >= catalogue().event_types().len());
}

#[test]
fn every_schema_refers_only_to_the_one_shared_definitions_file() {
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if key == "examples" {
                        continue;
                    }
                    if key == "$ref" {
                        out.push(child.as_str().expect("$ref is a string"));
                    } else {
                        refs(child, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
            _ => {}
        }
    }
    let defs = catalogue().shared_definitions()["$defs"]
        .as_object()
        .unwrap();
    for summary in catalogue().event_types() {
        for version in &catalogue()
            .event_type(summary.name.as_str())
            .unwrap()
            .versions
        {
            let schema = &version.schema;
            assert_eq!(
                schema["$schema"],
                "https://json-schema.org/draft/2020-12/schema"
            );
            assert_eq!(schema["additionalProperties"], false);
            let mut found = Vec::new();
            refs(schema, &mut found);
            assert!(
                !found.is_empty(),
                "{} uses no shared definition",
                summary.name
            );
            for reference in found {
                let name = reference
                    .strip_prefix("../common.json#/$defs/")
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: $ref {reference} does not point into events/common.json",
                            summary.name
                        )
                    });
                assert!(
                    defs.contains_key(name),
                    "{}: $ref to missing definition {name}",
                    summary.name
                );
            }
        }
    }
}

#[test]
fn the_acts_of_the_domain_map_have_event_types() {
    let mut required: Vec<String> = Vec::new();
    // The approval lifecycle of every application form (1, 2, 3, 7, 10, 12).
    for object in [
        "data_use",
        "data_view",
        "data_output",
        "pc_change",
        "terminal_overtime",
        "usb",
    ] {
        for state in ["requested", "granted", "denied", "withdrawn", "expired"] {
            required.push(format!("{object}.approval.{state}"));
        }
    }
    for object in ["data_use", "data_view", "data_output"] {
        required.push(format!("{object}.consent.given"));
        required.push(format!("{object}.consent.refused"));
    }
    required.extend(
        [
            "asset.registered",
            "asset.classified",
            "asset.provided",
            "information.transmitted",
            "data.used",
            "data.viewed",
            "data.output",
            "printout.carried_out",
            "processing_plan.submitted",
            "operation_plan.submitted",
            "asset.taken_out",
            "asset.returned",
            "staff.hired",
            "staff.consent.signed",
            "staff.departed",
            "password.exposure.reported",
            "ic_card.issued",
            "ic_card.loss.reported",
            "ic_card.invalidated",
            "software.installed",
            "configuration.changed",
            "software.licence.registered",
            "malware.detected",
            "malware.reported",
            "incident.discovered",
            "incident.reported",
            "incident.report.submitted",
            "incident.escalated",
            "incident.recovery.instructed",
            "incident.cause.recorded",
            "incident.prevention.reported",
            "incident.closed",
            "training.held",
            "training.attended",
            "terminal.session.started",
            "terminal.session.ended",
            "managed_area.entered",
            "managed_area.exited",
            "equipment.carried_in",
            "equipment.carried_out",
            "equipment.installed",
            "equipment.maintained",
            "equipment.repaired",
            "external_hosting.approval.granted",
            "equipment.disposed",
            "mfp.decommissioned",
            "media.registered",
            "media.transported",
            "media.disposed",
            "usb.registered",
            "usb.taken_out",
            "usb.erased",
            "usb.erasure.reported",
            "usb.lost",
            "access_log.reviewed",
            "backup.performed",
            "external_connection.approval.granted",
            "external_connection.cut",
            "wireless_lan.approval.granted",
            "mail.misdirection.reported",
            "privileged_access.granted",
            "privileged_access.revoked",
            "maintenance_account.created",
            "maintenance_account.deleted",
            "patch.applied",
            "change.recorded",
            "outsourcing.contract.signed",
            "vendor.assessed",
            "sns_account.approval.granted",
            "violation.reported",
            "violation.confirmed",
            "usage_rights.suspended",
            "emergency_plan.adopted",
            "emergency_plan.reviewed",
            "exception.requested",
            "exception.granted",
            "exception.invoked",
            "exception.reported",
            "exception.reviewed",
            "exception.expired",
            "audit.ordered",
            "audit.auditor.assigned",
            "audit.plan.reported",
            "audit.conducted",
            "audit.report.submitted",
            "audit.finding.raised",
            "audit.finding.instructed",
            "audit.finding.remediated",
            "audit.finding.closed",
            "self_inspection.conducted",
            "self_inspection.reported",
            "improvement.implemented",
            "standard.revised",
            "procedure.adopted",
            "department.established",
            "section.established",
            "section.abolished",
            "staff.transferred",
            "asset.assigned",
            "asset.unassigned",
            "system.registered",
            "vulnerability.identified",
            "self_inspection.forwarded",
            "finding.remarked",
            "report.issued",
        ]
        .map(str::to_owned),
    );
    let missing: Vec<&String> = required
        .iter()
        .filter(|name| catalogue().event_type(name).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "acts without an event type: {missing:?}"
    );
    for summary in catalogue().event_types() {
        assert!(
            !summary.name.is_ledger_type(),
            "{} is reserved for the core",
            summary.name
        );
        assert_eq!(
            definable_event_type(summary.name.as_str()).as_ref(),
            Ok(&summary.name)
        );
    }
}

#[test]
fn the_thirteen_forms_name_their_article_and_roles() {
    let forms = catalogue().forms();
    assert_eq!(forms.len(), 13);
    let usb = catalogue().form(12).unwrap();
    assert_eq!(usb.name_ja, "USBメモリ等使用申請書");
    assert_eq!(usb.kind, FormKind::Application);
    assert_eq!(
        (usb.provisions[0].article, usb.provisions[0].paragraph),
        (37, Some(1))
    );
    assert_eq!(usb.submitted_by, ["info_manager"]);
    assert_eq!(usb.approved_by, ["network_admin"]);
    assert_eq!(usb.validity.unwrap().until, ValidityEnd::FiscalYearEnd);
    let data_use = catalogue().form(1).unwrap();
    assert_eq!(
        (
            data_use.approved_by.as_slice(),
            data_use.consented_by.as_slice()
        ),
        (
            &["business_section".to_owned()][..],
            &["network_admin".to_owned()][..]
        )
    );
    let pc = catalogue().form(7).unwrap();
    assert_eq!(
        pc.provisions
            .iter()
            .map(|p| (p.article, p.paragraph))
            .collect::<Vec<_>>(),
        [(18, Some(3)), (19, Some(3))]
    );
    assert_eq!(
        catalogue().form(4).unwrap().confirmed_by,
        ["computer_room_staff"]
    );
    let text = regulation_text::read_regulation_text();
    for form in forms {
        // Each form's name appears in the text with its number: 名称(別記第N号様式).
        assert!(
            text.contains(&format!("{}(別記第{}号様式)", form.name_ja, form.number)),
            "form {} is not named so in the text",
            form.number
        );
        for event_type in &form.event_types {
            assert!(catalogue().event_type(event_type).is_some());
        }
    }
}

#[test]
fn roles_include_those_of_article_4_and_the_domain_map() {
    for id in [
        "cio",
        "chief_info_manager",
        "info_officer",
        "info_manager",
        "network_admin",
        "system_admin",
        "business_section",
        "staff",
        "contractor",
        "auditor",
        "committee",
        "computer_room_staff",
    ] {
        let role = catalogue()
            .role(id)
            .unwrap_or_else(|| panic!("role {id} is missing"));
        assert!(role.is_actor_role());
        let text = regulation_text::read_regulation_text();
        assert!(
            text.contains(role.name_ja.split('・').next().unwrap()),
            "{} is not in the text",
            role.name_ja
        );
    }
    let group = catalogue().role("info_asset_manager").unwrap();
    assert_eq!(
        group.members,
        ["network_admin", "info_manager", "system_admin"]
    );
    assert!(!group.is_actor_role());
    assert_eq!(catalogue().role("cio").unwrap().defined_in[0].item, Some(1));
}

#[test]
fn the_read_accessors_serialise_to_json() {
    let articles = serde_json::to_value(catalogue().articles()).unwrap();
    assert_eq!(articles[36]["paragraphs"][2]["items"][0]["ref"], "37-3-1");
    assert_eq!(articles[36]["evaluation"], "evaluated");
    let forms = serde_json::to_value(catalogue().forms()).unwrap();
    assert_eq!(forms[11]["validity"], json!({"until": "fiscal_year_end"}));
    assert_eq!(
        forms[4]["deadline"],
        json!({"due": {"day_of_month": 20}, "covers": "next_month"})
    );
    let summaries = serde_json::to_value(catalogue().event_types()).unwrap();
    let usb = summaries
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "usb.approval.granted")
        .unwrap();
    assert_eq!(usb["versions"], json!([1]));
    assert_eq!(usb["articles"], json!([37]));
    assert_eq!(usb["forms"], json!([12]));
    let detail =
        serde_json::to_value(catalogue().event_type("usb.approval.granted").unwrap()).unwrap();
    assert_eq!(
        detail["versions"][0]["schema"]["$id"],
        "https://kameoka.daicho.invalid/catalogue/v1/events/usb.approval.granted/1.json"
    );
    assert!(serde_json::to_value(catalogue().roles()).is_ok());
    assert!(serde_json::to_value(catalogue().regulation()).is_ok());
    assert!(serde_json::to_value(catalogue().chapters()).is_ok());
}

#[test]
fn the_catalogue_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Catalogue>();
}

#[test]
fn the_crate_stays_pure_and_offline() {
    // The crate must not gain an I/O, async or network dependency, whether
    // directly or through another crate, by the same check as the core's.
    let dependencies = dependency_tree::normal_dependencies("daicho-catalogue");
    assert!(
        dependencies.contains_key("jsonschema"),
        "the tree was read: {dependencies:?}"
    );
    dependency_tree::assert_pure(
        "daicho-catalogue",
        &dependencies,
        &[(
            "getrandom",
            "the JSON Schema library's hash maps take their seed from it; the catalogue reads \
             no clock and no file through it, and sorts the violations it returns, so the seed \
             changes no result",
        )],
    );
    // The JSON Schema library must stay without its resolvers, so that a
    // `$ref` can never reach a file or the network.
    let resolvers: Vec<&String> = dependencies["jsonschema"]
        .iter()
        .filter(|feature| feature.starts_with("resolve-"))
        .collect();
    assert!(
        resolvers.is_empty(),
        "jsonschema must be built without its resolvers, but has {resolvers:?}"
    );
}

// ---- validation at the door -------------------------------------------------------------

fn example(event_type: &str) -> Value {
    catalogue().event_type(event_type).unwrap().versions[0].examples[0].clone()
}

fn violations(event_type: &str, payload: &Value) -> Vec<Violation> {
    match catalogue().validate(event_type, 1, "info_manager", payload) {
        Err(ValidationError::InvalidPayload(violations)) => violations,
        other => panic!("{event_type}: expected InvalidPayload for {payload}, got {other:?}"),
    }
}

fn pointers(violations: &[Violation]) -> Vec<&str> {
    violations
        .iter()
        .map(|violation| violation.pointer.as_str())
        .collect()
}

#[test]
fn invalid_payloads_are_refused_with_the_exact_pointers() {
    type Mutation = fn(&mut Value);
    // (case, event type, mutation, expected pointer, words the message must contain)
    let cases: Vec<(&str, &str, Mutation, &str, &str)> = vec![
        (
            "missing field",
            "usb.taken_out",
            |p| {
                p.as_object_mut().unwrap().remove("reason");
            },
            "/reason",
            "required property \"reason\" is missing",
        ),
        (
            "missing nested field",
            "usb.taken_out",
            |p| {
                p["device"].as_object_mut().unwrap().remove("asset_id");
            },
            "/device/asset_id",
            "required property \"asset_id\" is missing",
        ),
        (
            "wrong type",
            "usb.taken_out",
            |p| p["device"]["serial"] = json!(42),
            "/device/serial",
            "must be of type string, but is integer 42",
        ),
        (
            "wrong type of a form number",
            "usb.taken_out",
            |p| p["ledger_entry"]["form"] = json!("13"),
            "/ledger_entry/form",
            "must be of type integer, but is string \"13\"",
        ),
        (
            "unknown field",
            "usb.taken_out",
            |p| p["colour"] = json!("red"),
            "/colour",
            "property \"colour\" is not defined by this event type's schema",
        ),
        (
            "unknown nested field",
            "usb.taken_out",
            |p| p["carrier"]["age"] = json!(40),
            "/carrier/age",
            "property \"age\" is not defined",
        ),
        (
            "bad enum",
            "usb.taken_out",
            |p| p["reason"] = json!("because"),
            "/reason",
            "must be one of [\"outside_own_section\"",
        ),
        (
            "bad nested enum",
            "usb.taken_out",
            |p| p["device"]["kind"] = json!("floppy"),
            "/device/kind",
            "but is \"floppy\"",
        ),
        (
            "bad classification",
            "asset.classified",
            |p| p["classification"] = json!("Ⅰ"),
            "/classification",
            "must be one of [\"I\",\"II\",\"III\"]",
        ),
        (
            "date-time without offset",
            "usb.lost",
            |p| p["noticed_at"] = json!("2026-08-03T11:20:00"),
            "/noticed_at",
            "explicit UTC offset",
        ),
        (
            "date-time that is a date",
            "usb.lost",
            |p| p["noticed_at"] = json!("2026-08-03"),
            "/noticed_at",
            "RFC 3339 date-time",
        ),
        (
            "bad date",
            "usb.approval.granted",
            |p| p["valid_until"] = json!("2027-02-30"),
            "/valid_until",
            "RFC 3339 full date",
        ),
        (
            "bad array item",
            "password.exposure.reported",
            |p| p["reported_to"][1] = json!("janitor"),
            "/reported_to/1",
            "must be one of",
        ),
        (
            "empty string",
            "usb.approval.denied",
            |p| p["reason"] = json!(""),
            "/reason",
            "shorter than 1 character",
        ),
        (
            "bad event id",
            "ic_card.invalidated",
            |p| p["loss_report_event_id"] = json!("not-a-uuid"),
            "/loss_report_event_id",
            "must be a UUID",
        ),
        (
            "fiscal year out of range",
            "training.held",
            |p| p["fiscal_year"] = json!(26),
            "/fiscal_year",
            "26 is less than the minimum of 1989",
        ),
    ];
    for (case, event_type, mutate, pointer, words) in cases {
        let mut payload = example(event_type);
        mutate(&mut payload);
        let found = violations(event_type, &payload);
        assert_eq!(pointers(&found), [pointer], "{case}: {found:?}");
        assert!(
            found[0].message.contains(words),
            "{case}: message {:?} lacks {words:?}",
            found[0].message
        );
    }
}

/// An audit ledger records what happened, including what was done wrong: a
/// record that omits what an obligation asks for (an erasure, an approval, an
/// encryption flag, the roles a report went to) is well formed, passes the door
/// and is left to a rule to report.
#[test]
fn a_record_that_breaks_an_obligation_passes_the_door() {
    // (event type, the obligations removed from its first example)
    let cases: [(&str, &[&str]); 13] = [
        ("media.disposed", &["erasure", "performed_by"]),
        ("equipment.disposed", &["erasure"]),
        ("mfp.decommissioned", &["erasure"]),
        ("usb.erased", &["erasure"]),
        ("usb.taken_out", &["ledger_entry"]),
        ("usb.returned", &["ledger_entry"]),
        ("information.transmitted", &["protection"]),
        (
            "usb.registered",
            &["hardware_encryption", "password_authentication"],
        ),
        ("data.used", &["approval"]),
        ("data.output", &["approval"]),
        ("audit.auditor.assigned", &["independent", "qualifications"]),
        ("ic_card.loss.reported", &["reported_to"]),
        ("exception.requested", &["reason", "minor"]),
    ];
    for (event_type, obligations) in cases {
        let mut payload = example(event_type);
        for field in obligations {
            assert!(
                payload.as_object_mut().unwrap().remove(*field).is_some(),
                "{event_type}: the first example should carry {field}"
            );
        }
        assert_eq!(
            catalogue().validate(event_type, 1, "info_manager", &payload),
            Ok(()),
            "{event_type} without {obligations:?}"
        );
    }
    // An obligation that is present is still checked for its shape.
    let mut payload = example("media.disposed");
    payload["erasure"]
        .as_object_mut()
        .unwrap()
        .remove("irrecoverable");
    assert_eq!(
        pointers(&violations("media.disposed", &payload)),
        ["/erasure/irrecoverable"]
    );
    // What identifies the act and its subject stays required.
    let mut payload = example("media.disposed");
    payload.as_object_mut().unwrap().remove("media");
    assert_eq!(
        pointers(&violations("media.disposed", &payload)),
        ["/media"]
    );
}

/// The master data and the links the rules read are recorded at the pointers
/// the rules name.
#[test]
fn the_facts_the_rules_read_are_at_their_pointers() {
    let cases = [
        ("department.established", "/department/code"),
        ("section.established", "/section/code"),
        ("section.established", "/department/code"),
        ("section.abolished", "/section/code"),
        ("staff.hired", "/staff/staff_id"),
        ("staff.hired", "/section/code"),
        ("staff.hired", "/department/code"),
        ("staff.transferred", "/staff/staff_id"),
        ("staff.transferred", "/from_section/code"),
        ("staff.transferred", "/to_section/code"),
        ("staff.transferred", "/effective_date"),
        ("asset.assigned", "/device/asset_id"),
        ("asset.assigned", "/holder/staff_id"),
        ("asset.unassigned", "/device/asset_id"),
        ("asset.unassigned", "/holder/staff_id"),
        ("system.registered", "/owner_section/code"),
        ("system.registered", "/procedure_id"),
        ("audit.auditor.assigned", "/auditor_section/code"),
        ("audit.auditor.assigned", "/auditor_department/code"),
        ("audit.ordered", "/audited_sections/0/code"),
        ("vulnerability.identified", "/systems/0/system_id"),
        ("patch.applied", "/advisory_id"),
        ("patch.applied", "/system/system_id"),
        ("self_inspection.forwarded", "/recipient"),
        ("exception.requested", "/refs/0"),
        ("finding.remarked", "/finding_id"),
        ("report.issued", "/sha256"),
    ];
    for (event_type, pointer) in cases {
        assert!(
            example(event_type).pointer(pointer).is_some(),
            "{event_type} has nothing at {pointer}"
        );
    }
    let second = |event_type: &str| -> Value {
        catalogue().event_type(event_type).unwrap().versions[0].examples[1].clone()
    };
    assert!(second("asset.assigned").pointer("/card_id").is_some());
    assert!(second("finding.remarked")
        .pointer("/accepted_by/role")
        .is_some());
    assert_eq!(
        second("self_inspection.forwarded").pointer("/recipient"),
        Some(&json!("committee"))
    );
}

#[test]
fn the_new_fields_refuse_what_is_malformed() {
    type Mutation = fn(&mut Value);
    // (event type, mutation of its first example, the one pointer refused)
    let cases: [(&str, Mutation, &str); 5] = [
        (
            "exception.requested",
            |p| p["refs"] = json!(["24-5", "第46条"]),
            "/refs/1",
        ),
        // The subject of an assignment is required in one of its forms.
        (
            "asset.assigned",
            |p| {
                p.as_object_mut().unwrap().remove("device");
            },
            "",
        ),
        ("report.issued", |p| p["sha256"] = json!("3B7E"), "/sha256"),
        // One recipient per forwarding: the list of recipients is gone.
        (
            "self_inspection.forwarded",
            |p| p["reported_to"] = json!(["cio", "committee"]),
            "/reported_to",
        ),
        (
            "finding.remarked",
            |p| p["kind"] = json!("complaint"),
            "/kind",
        ),
    ];
    for (event_type, mutate, pointer) in cases {
        let mut payload = example(event_type);
        mutate(&mut payload);
        assert_eq!(
            pointers(&violations(event_type, &payload)),
            [pointer],
            "{event_type}"
        );
    }
}

#[test]
fn every_violation_is_listed_at_once_in_pointer_order() {
    let mut payload = example("usb.taken_out");
    payload.as_object_mut().unwrap().remove("carrier");
    payload["device"]["kind"] = json!("floppy");
    payload["extra"] = json!(true);
    payload["ledger_entry"]["form"] = json!(0);
    let found = violations("usb.taken_out", &payload);
    assert_eq!(
        pointers(&found),
        ["/carrier", "/device/kind", "/extra", "/ledger_entry/form"]
    );
    let error = catalogue()
        .validate("usb.taken_out", 1, "info_manager", &payload)
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("the payload does not match its schema: /carrier: required property"),
        "{message}"
    );
}

#[test]
fn a_payload_that_is_not_an_object_is_refused_at_the_root() {
    let found = violations("usb.lost", &json!(["device"]));
    assert_eq!(pointers(&found), [""]);
    assert!(found[0]
        .message
        .contains("must be of type object, but is array"));
}

#[test]
fn unknown_types_versions_and_roles_are_refused() {
    let payload = example("usb.lost");
    assert_eq!(
        catalogue().validate("usb.vanished", 1, "info_manager", &payload),
        Err(ValidationError::UnknownType {
            event_type: "usb.vanished".to_owned()
        })
    );
    assert_eq!(
        catalogue().validate("usb.lost", 2, "info_manager", &payload),
        Err(ValidationError::UnknownVersion {
            event_type: "usb.lost".to_owned(),
            version: 2,
            known: vec![1]
        })
    );
    let Err(ValidationError::UnknownRole { role, known }) =
        catalogue().validate("usb.lost", 1, "mayor", &payload)
    else {
        panic!("an unknown role must be refused");
    };
    assert_eq!(role, "mayor");
    assert!(known.contains(&"network_admin".to_owned()));
    // A collective term is not a role anyone acts in.
    assert!(matches!(
        catalogue().validate("usb.lost", 1, "info_asset_manager", &payload),
        Err(ValidationError::UnknownRole { .. })
    ));
    // The reserved core types are not the catalogue's to validate.
    assert!(matches!(
        catalogue().validate("daicho.genesis", 1, "cio", &json!({})),
        Err(ValidationError::UnknownType { .. })
    ));
}

#[test]
fn an_act_by_a_role_the_regulation_does_not_empower_is_accepted() {
    // 第37条第1項 gives USB approval to the network administrator; a grant
    // signed by plain staff happened all the same and is recorded, for the
    // rule engine to flag.
    let payload = example("usb.approval.granted");
    assert_eq!(
        catalogue().validate("usb.approval.granted", 1, "staff", &payload),
        Ok(())
    );
    assert_eq!(
        catalogue().validate("usb.approval.granted", 1, "network_admin", &payload),
        Ok(())
    );
}

// ---- the loader's refusals ---------------------------------------------------------------

type Files = BTreeMap<String, Vec<u8>>;

fn read(files: &Files, path: &str) -> Value {
    serde_json::from_slice(&files[path]).unwrap()
}

fn write(files: &mut Files, path: &str, value: &Value) {
    files.insert(path.to_owned(), serde_json::to_vec_pretty(value).unwrap());
}

fn edit(files: &mut Files, path: &str, change: impl FnOnce(&mut Value)) {
    let mut value = read(files, path);
    change(&mut value);
    write(files, path, &value);
}

/// Adds usb.lost's version 1 schema as `version` of `event_type`, with the
/// `$id` its new place gives it.
fn copy_usb_lost_to(files: &mut Files, event_type: &str, version: u32) {
    let mut schema = read(files, "events/usb.lost/1.json");
    schema["$id"] = json!(format!(
        "https://kameoka.daicho.invalid/catalogue/v1/events/{event_type}/{version}.json"
    ));
    write(
        files,
        &format!("events/{event_type}/{version}.json"),
        &schema,
    );
}

fn refused(files: Files) -> CatalogueError {
    Catalogue::from_files(files).expect_err("the altered catalogue must be refused")
}

/// Asserts that the refusal consists of exactly these problems, as displayed.
fn assert_problems(error: &CatalogueError, expected: &[&str]) {
    let found: Vec<String> = error.issues().iter().map(ToString::to_string).collect();
    assert_eq!(found, expected, "full message:\n{error}");
    for line in expected {
        assert!(error.to_string().contains(line));
    }
}

#[test]
fn the_embedded_files_load_as_another_municipalitys_catalogue_would() {
    let catalogue = Catalogue::from_files(Catalogue::embedded_files()).unwrap();
    assert_eq!(catalogue.articles().len(), 87);
    assert_eq!(
        catalogue.event_types().len(),
        Catalogue::embedded().event_types().len()
    );
    // Documentation files have no effect on loading.
    let mut files = Catalogue::embedded_files();
    files.insert("README.md".to_owned(), b"# docs".to_vec());
    files.insert("events/usb.lost/NOTES.md".to_owned(), b"notes".to_vec());
    assert!(Catalogue::from_files(files).is_ok());
}

#[test]
fn a_dangling_article_reference_is_refused() {
    let mut files = Catalogue::embedded_files();
    edit(&mut files, "events/usb.lost/1.json", |schema| {
        schema["x-articles"] = json!([37, 99])
    });
    assert_problems(
        &refused(files),
        &["events/usb.lost/1.json#/x-articles/1: article 99 does not exist in articles.json"],
    );
}

#[test]
fn an_articles_missing_event_type_is_refused() {
    let mut files = Catalogue::embedded_files();
    files.remove("events/usb.lost/1.json");
    let index = catalogue()
        .article(37)
        .unwrap()
        .event_types
        .iter()
        .position(|t| t == "usb.lost")
        .unwrap();
    assert_problems(
        &refused(files),
        &[&format!(
            "articles.json#/articles/36/event_types/{index}: event type \"usb.lost\" is not defined: there is no events/usb.lost/<version>.json"
        )],
    );
}

#[test]
fn an_article_and_a_schema_that_disagree_are_refused() {
    let mut files = Catalogue::embedded_files();
    edit(&mut files, "events/usb.lost/1.json", |schema| {
        schema["x-articles"] = json!([37, 36])
    });
    assert_problems(
        &refused(files),
        &["events/usb.lost/1.json#/x-articles/1: names article 36, but articles.json does not list usb.lost under article 36"],
    );
}

#[test]
fn a_schema_that_does_not_compile_is_refused() {
    let mut files = Catalogue::embedded_files();
    edit(&mut files, "events/usb.lost/1.json", |schema| {
        schema["properties"]["circumstances"] = json!({"type": "strin"})
    });
    let error = refused(files);
    assert_eq!(error.issues().len(), 1, "{error}");
    let issue = &error.issues()[0];
    assert_eq!(
        (issue.file.as_str(), issue.pointer.as_str()),
        ("events/usb.lost/1.json", "")
    );
    assert!(matches!(issue.kind, IssueKind::SchemaCompile(_)));
    assert!(
        error
            .to_string()
            .contains("events/usb.lost/1.json: the schema does not compile: "),
        "{error}"
    );
    assert!(error.to_string().contains("strin"), "{error}");
}

#[test]
fn a_ref_to_a_missing_shared_definition_is_refused() {
    let mut files = Catalogue::embedded_files();
    edit(&mut files, "events/usb.lost/1.json", |schema| {
        schema["properties"]["device"] = json!({"$ref": "../common.json#/$defs/gadget"});
    });
    let error = refused(files);
    assert_eq!(error.issues().len(), 1, "{error}");
    assert!(
        error
            .to_string()
            .contains("events/usb.lost/1.json: the schema does not compile: "),
        "{error}"
    );
    assert!(error.to_string().contains("gadget"), "{error}");
}

#[test]
fn a_ref_outside_the_catalogue_is_refused_without_fetching_it() {
    let mut files = Catalogue::embedded_files();
    edit(&mut files, "events/usb.lost/1.json", |schema| {
        schema["properties"]["device"] = json!({"$ref": "https://schemas.example.org/device.json"});
    });
    let error = refused(files);
    assert_eq!(error.issues().len(), 1, "{error}");
    assert!(
        error
            .to_string()
            .contains("https://schemas.example.org/device.json is not a file of this catalogue"),
        "{error}"
    );
}

#[test]
fn an_example_that_fails_its_schema_is_refused() {
    let mut files = Catalogue::embedded_files();
    edit(&mut files, "events/usb.lost/1.json", |schema| {
        schema["examples"][0]["kind"] = json!("misplaced");
        schema["examples"][0]
            .as_object_mut()
            .unwrap()
            .remove("noticed_at");
    });
    assert_problems(
        &refused(files),
        &["events/usb.lost/1.json#/examples/0: the example does not validate: /kind: must be one of [\"lost\",\"stolen\"], but is \"misplaced\"; /noticed_at: required property \"noticed_at\" is missing"],
    );
}

#[test]
fn a_reserved_event_type_is_refused() {
    for reserved in [GENESIS, KEY_REGISTERED, KEY_REVOKED] {
        let mut files = Catalogue::embedded_files();
        copy_usb_lost_to(&mut files, reserved, 1);
        assert_problems(
            &refused(files),
            &[&format!(
                "events/{reserved}/1.json: event type \"{reserved}\" is reserved for the ledger core and cannot be defined by a catalogue"
            )],
        );
    }
}

#[test]
fn any_daicho_event_type_is_refused_not_only_the_ones_the_ledger_uses() {
    // The door leaves every `daicho.*` event to the ledger and the key
    // registry lets no source sign one, so a catalogue schema for such a
    // type could never apply; the loader refuses it by the same rule.
    let mut files = Catalogue::embedded_files();
    copy_usb_lost_to(&mut files, "daicho.x.y", 1);
    let error = refused(files);
    assert_problems(
        &error,
        &["events/daicho.x.y/1.json: event type \"daicho.x.y\" is reserved for the ledger core and cannot be defined by a catalogue"],
    );
    assert_eq!(
        error.issues()[0].kind,
        IssueKind::EventTypeRule(EventTypeRuleError::Reserved("daicho.x.y".to_owned()))
    );
    assert_eq!(
        definable_event_type("daicho.x.y"),
        Err(EventTypeRuleError::Reserved("daicho.x.y".to_owned()))
    );
}

#[test]
fn broken_layout_and_shape_are_refused_with_their_place() {
    let mut files = Catalogue::embedded_files();
    files.remove("forms.json");
    files.insert("events/Usb.Lost/1.json".to_owned(), b"{}".to_vec());
    files.insert("events/usb.lost/v2.json".to_owned(), b"{}".to_vec());
    files.insert("events/usb.lost/3.json".to_owned(), b"{ not json".to_vec());
    files.insert("notes.txt".to_owned(), b"".to_vec());
    edit(&mut files, "roles.json", |roles| {
        roles["roles"][3]["name_jp"] = json!("情報管理者")
    });
    let error = refused(files);
    let text = error.to_string();
    for expected in [
        "forms.json: the file is missing; every catalogue has it",
        "events/Usb.Lost/1.json: event type \"Usb.Lost\": segment \"Usb\" must match [a-z][a-z0-9_]*",
        "events/usb.lost/v2.json: the file name \"v2.json\" must be a version",
        "notes.txt: this file has no place in a catalogue",
        "roles.json#/roles/3/name_jp: unexpected shape: unknown field `name_jp`",
        "events/usb.lost/3.json: not valid JSON: key must be a string at line 1 column 3",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn dangling_roles_forms_and_provisions_are_refused() {
    let mut files = Catalogue::embedded_files();
    edit(&mut files, "articles.json", |articles| {
        articles["articles"][36]["roles"][0] = json!("usb_officer")
    });
    edit(&mut files, "forms.json", |forms| {
        forms["forms"][11]["provisions"][0] = json!({"article": 37, "paragraph": 9})
    });
    edit(&mut files, "events/usb.lost/1.json", |schema| {
        schema["x-forms"] = json!([14])
    });
    edit(&mut files, "events/common.json", |common| {
        common["$defs"]["role"]["enum"]
            .as_array_mut()
            .unwrap()
            .pop();
    });
    assert_problems(
        &refused(files),
        &[
            "articles.json#/articles/36/roles/0: role \"usb_officer\" is not defined in roles.json",
            "forms.json#/forms/11/provisions/0: provision 第37条第9項 does not exist in articles.json",
            "events/common.json#/$defs/role/enum: must list exactly the role ids of roles.json; missing [\"visitor\"], not in roles.json []",
            "events/usb.lost/1.json#/x-forms/0: form 14 is not defined in forms.json",
        ],
    );
}

#[test]
fn schemas_that_break_the_catalogues_rules_are_refused() {
    let mut files = Catalogue::embedded_files();
    edit(&mut files, "events/usb.lost/1.json", |schema| {
        let object = schema.as_object_mut().unwrap();
        object.remove("x-description-ja");
        object.insert("x-articles".to_owned(), json!([]));
        object.insert(
            "$id".to_owned(),
            json!("https://kameoka.daicho.invalid/catalogue/v1/events/usb.lost/2.json"),
        );
        object["properties"]["device"] =
            json!({"type": "object", "properties": {"asset_id": {"type": "string"}}});
    });
    assert_problems(
        &refused(files),
        &[
            "events/usb.lost/1.json#/$id: must be \"https://kameoka.daicho.invalid/catalogue/v1/events/usb.lost/1.json\" (schema_base of regulation.json + the file's path)",
            "events/usb.lost/1.json#/x-description-ja: must be a non-empty string: the Japanese description",
            "events/usb.lost/1.json#/properties/device: an object schema with \"properties\" must set \"additionalProperties\": false, so that unknown properties are refused",
            "events/usb.lost/1.json#/x-articles: must be a non-empty array of distinct positive integers: every event type serves at least one article",
        ],
    );
}

#[test]
fn articles_out_of_order_are_refused() {
    let mut files = Catalogue::embedded_files();
    edit(&mut files, "articles.json", |articles| {
        articles["articles"].as_array_mut().unwrap().swap(9, 10)
    });
    let text = refused(files).to_string();
    assert!(
        text.contains("articles.json#/articles/9/number: expected number 10, found 11"),
        "{text}"
    );
    assert!(
        text.contains("articles.json#/articles/10/number: expected number 11, found 10"),
        "{text}"
    );
}

#[test]
fn a_version_gap_is_refused() {
    let mut files = Catalogue::embedded_files();
    copy_usb_lost_to(&mut files, "usb.lost", 3);
    assert_problems(&refused(files), &["events/usb.lost: the versions of usb.lost must run 1, 2, 3… without gaps, but are [1, 3]"]);
}

// ---- schema evolution --------------------------------------------------------------------

#[test]
fn a_new_version_keeps_old_events_valid_under_their_own_version() {
    // Version 2 of usb.lost adds a required police report field. Events
    // recorded under version 1 still validate under version 1; version 2
    // events must carry the new field.
    let mut files = Catalogue::embedded_files();
    let v1 = read(&files, "events/usb.lost/1.json");
    let mut v2 = v1.clone();
    v2["$id"] = json!("https://kameoka.daicho.invalid/catalogue/v1/events/usb.lost/2.json");
    v2["properties"]["police_report_id"] = json!({"$ref": "../common.json#/$defs/id", "description": "The police lost-property report number."});
    v2["required"]
        .as_array_mut()
        .unwrap()
        .push(json!("police_report_id"));
    let mut v2_example = v1["examples"][0].clone();
    v2_example["police_report_id"] = json!("KPD-2026-00871");
    v2["examples"] = json!([v2_example.clone()]);
    write(&mut files, "events/usb.lost/2.json", &v2);
    let catalogue = Catalogue::from_files(files).unwrap();

    let v1_event = v1["examples"][0].clone();
    assert_eq!(
        catalogue.validate("usb.lost", 1, "info_manager", &v1_event),
        Ok(())
    );
    assert_eq!(
        catalogue.validate("usb.lost", 2, "info_manager", &v2_example),
        Ok(())
    );
    let Err(ValidationError::InvalidPayload(found)) =
        catalogue.validate("usb.lost", 2, "info_manager", &v1_event)
    else {
        panic!("a version 1 payload lacks version 2's required field");
    };
    assert_eq!(pointers(&found), ["/police_report_id"]);
    // Version 1 does not know the new field, so it stays exactly as it was.
    assert!(catalogue
        .validate("usb.lost", 1, "info_manager", &v2_example)
        .is_err());

    let summary = catalogue
        .event_types()
        .iter()
        .find(|s| s.name.as_str() == "usb.lost")
        .unwrap();
    assert_eq!(
        (summary.versions.as_slice(), summary.latest_version),
        (&[1, 2][..], 2)
    );
    let detail = catalogue.event_type("usb.lost").unwrap();
    assert_eq!(
        detail
            .versions
            .iter()
            .map(|v| v.version)
            .collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        catalogue.validate("usb.lost", 3, "info_manager", &v1_event),
        Err(ValidationError::UnknownVersion {
            event_type: "usb.lost".to_owned(),
            version: 3,
            known: vec![1, 2]
        })
    );
}
