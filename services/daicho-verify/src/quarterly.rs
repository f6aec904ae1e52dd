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

/// Verifies the bundle `reader` reads and, if it verifies, checks that
/// the `report` file recomputes from its first entries.
///
/// The bundle is read and parsed once: the entries the report covers are
/// folded in as the bundle's check reads them, beside the signature
/// checks. Read a second time after the check, reading alone took 2.7 s of
/// 0.89 × 10⁶ entries; run as a second pass on a thread of its own, the
/// two passes took 2.84× the bundle alone (docs/PERFORMANCE.md).
pub fn verify_report<R: BufRead + Send>(
    reader: R,
    report: &[u8],
    options: &crate::Options<'_>,
    catalogue: &Catalogue,
    rulebook: &Rulebook,
) -> std::io::Result<ReportCheck> {
    // The report's tree size says which entries to gather.
    let mut gathering = Report::from_json(report)
        .map_err(Difference::NotAReport)
        .map(|stated| {
            let n = stated.anchor.tree_size;
            (
                stated,
                Prefix::new(catalogue, options.ledger_key.clone(), n),
            )
        });
    let bundle = crate::verify_reader_with(reader, options, &mut |e| {
        if let Ok((_, prefix)) = gathering.as_mut() {
            prefix.push(e);
        }
    })?;
    if !bundle.ok {
        return Ok(ReportCheck {
            bundle,
            recomputed: Err(Difference::BundleFails),
        });
    }
    let recomputed =
        gathering.and_then(|(stated, prefix)| prefix.check(report, &stated, rulebook).map(|_| ()));
    Ok(ReportCheck { bundle, recomputed })
}

/// Reads the first `n` entries of a bundle (which the caller has verified).
pub fn read_entries(reader: impl BufRead, n: u64) -> std::io::Result<Vec<Recorded>> {
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

/// What a report is recomputed from, gathered from a bundle's first entry
/// lines one at a time as they are read ([`Prefix::push`]): the state they
/// fold to, their Merkle leaves, the key registry as of the last of them,
/// and when it was recorded. The entries themselves are not kept.
pub struct Prefix<'c> {
    catalogue: &'c Catalogue,
    ledger_key: NoteVerifier,
    covers: u64,
    held: u64,
    state: State,
    leaves: Vec<daicho_core::Digest>,
    /// Built from the genesis and the registry events among the entries;
    /// the first error, if any.
    registry: Option<Result<Registry, Difference>>,
    last_recorded_at: Option<String>,
}

impl<'c> Prefix<'c> {
    /// Gathers the first `covers` entries, the report's tree size, for a
    /// ledger whose genesis key is `ledger_key`.
    pub fn new(catalogue: &'c Catalogue, ledger_key: NoteVerifier, covers: u64) -> Prefix<'c> {
        Prefix {
            catalogue,
            ledger_key,
            covers,
            held: 0,
            state: State::new(catalogue),
            leaves: Vec::with_capacity(usize::try_from(covers).unwrap_or(0).min(1 << 24)),
            registry: None,
            last_recorded_at: None,
        }
    }

    /// Takes the next entry line of the bundle; those beyond the report's
    /// tree size are ignored.
    pub fn push(&mut self, e: &Recorded) {
        if self.held >= self.covers {
            return;
        }
        self.held += 1;
        self.leaves.push(e.hash);
        if self.held == self.covers {
            self.last_recorded_at = Some(e.entry.recorded_at.to_string());
        }
        // The key that signs a checkpoint of size n is the trusted genesis
        // key or the last key the log rotated to before n (FORMAT.md
        // §8.5); the bundle's check already verified the registry events
        // read here.
        match &mut self.registry {
            None => {
                self.registry = Some(
                    Registry::from_genesis(&e.event, Some(&self.ledger_key))
                        .map_err(|err| Difference::Checkpoint(format!("the genesis: {err}"))),
                );
            }
            Some(Ok(registry)) if changes_registry(e.event.body.event_type.as_str()) => {
                if let Err(err) = registry.apply(e.entry.seq, &e.event) {
                    self.registry = Some(Err(Difference::Checkpoint(format!(
                        "entry {}: {err}",
                        e.entry.seq
                    ))));
                }
            }
            Some(_) => {}
        }
        self.state.apply(e);
    }

    /// Recomputes the report from what was gathered and compares it with
    /// `report`, the file's bytes, which parse to `stated`.
    pub fn check(
        self,
        report: &[u8],
        stated: &Report,
        rulebook: &Rulebook,
    ) -> Result<Report, Difference> {
        let n = stated.anchor.tree_size;
        if n == 0 || n > self.held {
            return Err(Difference::TooShort {
                covers: n,
                holds: self.held,
            });
        }
        let registry = self.registry.expect("a genesis was read")?;
        let checkpoint = registry
            .open_checkpoint(&stated.anchor.checkpoint)
            .map_err(|e| Difference::Checkpoint(format!("not signed by the ledger key: {e}")))?;
        let root = Tree::from_leaves(self.leaves.iter().copied()).root();
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
            last_recorded_at: self.last_recorded_at.expect("the last entry was read"),
            checkpoint: stated.anchor.checkpoint.clone(),
        };
        let recomputed = build(&Input {
            catalogue: self.catalogue,
            rulebook,
            state: &self.state,
            fiscal_year: stated.period.fiscal_year,
            quarter: stated.period.quarter,
            anchor,
        })
        .map_err(|e| Difference::Recompute(e.to_string()))?;
        if canonical_bytes(&recomputed) == report {
            return Ok(recomputed);
        }
        Err(first_difference(stated, &recomputed))
    }
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
    let mut prefix = Prefix::new(catalogue, ledger_key.clone(), stated.anchor.tree_size);
    for e in entries {
        prefix.push(e);
    }
    prefix.check(report, &stated, rulebook)
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
