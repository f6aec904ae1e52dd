//! Checking a quarterly report against a ledger export: the report's
//! checkpoint is signed by the ledger key and is the bundle's own, and the
//! report recomputed from the bundle's first `tree_size` entries is the
//! report, byte for byte.
//!
//! The bundle itself is verified first by [`crate::verify_reader`]; this
//! module trusts nothing the report states about the ledger: the anchor is
//! rebuilt from the bundle (its root, the time its last covered entry was
//! recorded) and only the signed checkpoint note is taken from the report,
//! after it opens under the ledger key.

use std::io::BufRead;

use daicho_catalogue::Catalogue;
use daicho_compliance::{Rulebook, State};
use daicho_core::bundle::{parse_line, Line};
use daicho_core::checkpoint::CheckpointKeys as _;
use daicho_core::entry::Recorded;
use daicho_core::keys::NoteVerifier;
use daicho_core::merkle::Tree;
use daicho_core::registry::{changes_registry, Registry};
use daicho_report::model::Anchor;
use daicho_report::{build, canonical_bytes, Input, Report};
use serde_json::Value;

/// Why a report does not verify against a bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Difference {
    /// The bundle does not verify, so nothing is recomputed from it.
    #[error("the bundle does not verify, so the report cannot be checked against it")]
    BundleFails,
    /// The file is not a report.
    #[error("not a daicho report: {0}")]
    NotAReport(String),
    /// The report's checkpoint does not open under the ledger key, or is
    /// not the bundle's.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The bundle holds fewer entries than the report covers.
    #[error("the report covers {covers} entries but the bundle holds {holds}")]
    TooShort {
        /// The report's tree size.
        covers: u64,
        /// The bundle's entries.
        holds: u64,
    },
    /// The report cannot be recomputed from the bundle.
    #[error("cannot recompute the report: {0}")]
    Recompute(String),
    /// An article's row differs.
    #[error("article {article} (第{article}条): {member} is {stated} in the report but {recomputed} recomputed from the ledger")]
    Article {
        /// The article.
        article: u32,
        /// The member that differs.
        member: String,
        /// What the report states.
        stated: String,
        /// What the ledger gives.
        recomputed: String,
    },
    /// A finding the ledger gives is not in the report.
    #[error(
        "finding {id} ({reference}) is recomputed from the ledger but missing from the report"
    )]
    FindingMissing {
        /// The finding's id.
        id: String,
        /// Its `ref_ja`.
        reference: String,
    },
    /// The report lists a finding the ledger does not give.
    #[error("finding {id} ({reference}) is in the report but not recomputed from the ledger")]
    FindingExtra {
        /// The finding's id.
        id: String,
        /// Its `ref_ja`.
        reference: String,
    },
    /// A finding differs.
    #[error("finding {id}: {member} is {stated} in the report but {recomputed} recomputed from the ledger")]
    Finding {
        /// The finding's id.
        id: String,
        /// The member that differs.
        member: String,
        /// What the report states.
        stated: String,
        /// What the ledger gives.
        recomputed: String,
    },
    /// Another member differs.
    #[error("{pointer}: {stated} in the report but {recomputed} recomputed from the ledger")]
    Member {
        /// An RFC 6901 pointer to it.
        pointer: String,
        /// What the report states.
        stated: String,
        /// What the ledger gives.
        recomputed: String,
    },
    /// The same content, but not in RFC 8785 canonical form: the bytes
    /// whose SHA-256 `report.issued` anchors are not these.
    #[error("the report's content is right but its bytes are not the canonical (RFC 8785) JSON the ledger anchors")]
    NotCanonical,
}

/// What `daicho-verify report` found.
#[derive(Debug)]
pub struct ReportCheck {
    /// The bundle's own verification.
    pub bundle: crate::Report,
    /// Whether the report recomputes from the bundle's first entries byte
    /// for byte; not tried when the bundle does not verify.
    pub recomputed: Result<(), Difference>,
}

impl ReportCheck {
    /// Whether the bundle verifies and the report is the one it yields.
    pub fn ok(&self) -> bool {
        self.bundle.ok && self.recomputed.is_ok()
    }
}

/// Verifies the bundle `open` reads, then, if it verifies, recomputes the
/// `report` file from its first entries (reading it a second time).
///
/// The two parts run one after the other. Run at once on two threads they
/// took longer than in turn on two cores (32.8 s against 11.6 + 9.2 s at
/// 0.89 × 10⁶ entries, docs/PERFORMANCE.md): both want every core, the
/// bundle's signatures and the evaluation's rules.
pub fn verify_report<R: BufRead + Send>(
    open: impl Fn() -> std::io::Result<R>,
    report: &[u8],
    options: &crate::Options<'_>,
    catalogue: &Catalogue,
    rulebook: &Rulebook,
) -> std::io::Result<ReportCheck> {
    let bundle = crate::verify_reader(open()?, options)?;
    if !bundle.ok {
        return Ok(ReportCheck {
            bundle,
            recomputed: Err(Difference::BundleFails),
        });
    }
    let recomputed = match stated_size(report) {
        Ok(n) => {
            let entries = read_entries(open()?, n)?;
            check_report(report, &entries, &options.ledger_key, catalogue, rulebook).map(|_| ())
        }
        Err(e) => Err(e),
    };
    Ok(ReportCheck { bundle, recomputed })
}

/// Reads the first `n` entries of a bundle (which the caller has verified).
pub fn read_entries(reader: impl BufRead, n: u64) -> std::io::Result<Vec<Recorded>> {
    // One line after the other: parsed in batches on both cores, reading
    // took 8.47 s instead of 2.70 s for 0.89 × 10⁶ entries
    // (docs/PERFORMANCE.md), the batches' copies and the parsers'
    // allocations contending.
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(1 << 24));
    for line in reader.split(b'\n') {
        if out.len() as u64 >= n {
            break;
        }
        if let Ok(Line::Entry(e)) = parse_line(&line?) {
            out.push(*e);
        }
    }
    Ok(out)
}

/// The tree size and quarter a report file states, read before the bundle
/// so that only the entries it covers are kept.
pub fn stated_size(report: &[u8]) -> Result<u64, Difference> {
    Report::from_json(report)
        .map(|r| r.anchor.tree_size)
        .map_err(Difference::NotAReport)
}

/// Checks `report` (the file's bytes) against the bundle's `entries`
/// (at least the report's tree size of them).
pub fn check_report(
    report: &[u8],
    entries: &[Recorded],
    ledger_key: &NoteVerifier,
    catalogue: &Catalogue,
    rulebook: &Rulebook,
) -> Result<Report, Difference> {
    let stated = Report::from_json(report).map_err(Difference::NotAReport)?;
    let n = stated.anchor.tree_size;
    let holds = entries.len() as u64;
    if n == 0 || n > holds {
        return Err(Difference::TooShort { covers: n, holds });
    }
    let covered = &entries[..n as usize];
    // The key that signs a checkpoint of size n is the trusted genesis key
    // or the last key the log rotated to before n (FORMAT.md §8.5); the
    // bundle's check already verified the registry events read here.
    let mut registry = Registry::from_genesis(&covered[0].event, Some(ledger_key))
        .map_err(|e| Difference::Checkpoint(format!("the genesis: {e}")))?;
    for e in &covered[1..] {
        if changes_registry(e.event.body.event_type.as_str()) {
            registry
                .apply(e.entry.seq, &e.event)
                .map_err(|err| Difference::Checkpoint(format!("entry {}: {err}", e.entry.seq)))?;
        }
    }
    let checkpoint = registry
        .open_checkpoint(&stated.anchor.checkpoint)
        .map_err(|e| Difference::Checkpoint(format!("not signed by the ledger key: {e}")))?;
    let root = Tree::from_leaves(covered.iter().map(|e| e.hash)).root();
    if checkpoint.size != n {
        return Err(Difference::Checkpoint(format!(
            "the checkpoint is of size {}, the report of {n}",
            checkpoint.size
        )));
    }
    if checkpoint.root != root {
        return Err(Difference::Checkpoint(format!(
            "the checkpoint's root {} is not the root {} of the bundle's first {n} entries",
            checkpoint.root.to_base64(),
            root.to_base64()
        )));
    }
    let anchor = Anchor {
        origin: checkpoint.origin,
        tree_size: n,
        root: root.to_base64(),
        last_recorded_at: covered[covered.len() - 1].entry.recorded_at.to_string(),
        checkpoint: stated.anchor.checkpoint.clone(),
    };
    let state = State::fold(catalogue, covered);
    let recomputed = build(&Input {
        catalogue,
        rulebook,
        state: &state,
        fiscal_year: stated.period.fiscal_year,
        quarter: stated.period.quarter,
        anchor,
    })
    .map_err(|e| Difference::Recompute(e.to_string()))?;
    if canonical_bytes(&recomputed) == report {
        return Ok(recomputed);
    }
    Err(first_difference(&stated, &recomputed))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The first difference, article by article, then finding by finding,
/// then member by member.
fn first_difference(stated: &Report, recomputed: &Report) -> Difference {
    let value = |r: &Report| serde_json::to_value(r).expect("reports serialise");
    let (s, r) = (value(stated), value(recomputed));
    let rows = |v: &Value, key: &str| v[key].as_array().cloned().unwrap_or_default();
    for (a, b) in rows(&s, "articles").iter().zip(rows(&r, "articles").iter()) {
        if let Some((member, x, y)) = first_member(a, b) {
            return Difference::Article {
                article: b["number"].as_u64().unwrap_or(0) as u32,
                member,
                stated: x,
                recomputed: y,
            };
        }
    }
    let (sf, rf) = (rows(&s, "findings"), rows(&r, "findings"));
    let id = |f: &Value| text(&f["id"]);
    for f in &rf {
        if !sf.iter().any(|g| id(g) == id(f)) {
            return Difference::FindingMissing {
                id: id(f),
                reference: text(&f["ref_ja"]),
            };
        }
    }
    for f in &sf {
        match rf.iter().find(|g| id(g) == id(f)) {
            None => {
                return Difference::FindingExtra {
                    id: id(f),
                    reference: text(&f["ref_ja"]),
                }
            }
            Some(g) => {
                if let Some((member, x, y)) = first_member(f, g) {
                    return Difference::Finding {
                        id: id(f),
                        member,
                        stated: x,
                        recomputed: y,
                    };
                }
            }
        }
    }
    match first_pointer(&s, &r, String::new()) {
        Some((pointer, x, y)) => Difference::Member {
            pointer,
            stated: x,
            recomputed: y,
        },
        None => Difference::NotCanonical,
    }
}

/// The first member of two objects that differs.
fn first_member(a: &Value, b: &Value) -> Option<(String, String, String)> {
    if a == b {
        return None;
    }
    match (a.as_object(), b.as_object()) {
        (Some(x), Some(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let (p, q) = (x.get(k), y.get(k));
                (p != q).then(|| {
                    (
                        k.clone(),
                        p.map_or("absent".to_owned(), text),
                        q.map_or("absent".to_owned(), text),
                    )
                })
            })
        }
        _ => Some((String::new(), text(a), text(b))),
    }
}

/// The pointer to the first difference between two values.
fn first_pointer(a: &Value, b: &Value, at: String) -> Option<(String, String, String)> {
    if a == b {
        return None;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => first_pointer(p, q, here),
                    (p, q) => Some((
                        here,
                        p.map_or("absent".to_owned(), text),
                        q.map_or("absent".to_owned(), text),
                    )),
                }
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_pointer(p, q, format!("{at}/{i}"))),
        _ => Some((at, text(a), text(b))),
    }
}
