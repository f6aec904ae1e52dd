//! Findings and the report that collects them.
//!
//! A finding is one thing that does not hold, located by the entry's seq
//! where there is one and by the 1-based line number of the bundle where
//! there is one, with what was expected and what was found. The report is
//! printed in words for people and as JSON for machines; both carry the
//! same fields.

use std::fmt;

use serde::Serialize;

/// What kind of check a finding comes from. The classes are the ones an
/// auditor reasons in, not the modules of this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// An event signature does not verify under the key the registry names.
    Signature,
    /// The entries do not form one chain: seq not contiguous, a `prev_hash`
    /// that is not the hash of the entry before, an `event_hash` that is not
    /// the hash of the event, `recorded_at` going backwards, an `event_id`
    /// used twice.
    Chain,
    /// A Merkle root recomputed from the entries differs from the root a
    /// signed checkpoint states.
    Merkle,
    /// The key registry rebuilt from the log does not authorise an entry,
    /// or a genesis or key event is invalid.
    Registry,
    /// A checkpoint does not open under the trusted ledger key, or covers
    /// entries the bundle does not hold, or leaves entries uncovered.
    Checkpoint,
    /// A line or byte of the file is not where or what the bundle format
    /// requires.
    Format,
}

impl Class {
    /// The lowercase name used in both outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Signature => "signature",
            Class::Chain => "chain",
            Class::Merkle => "merkle",
            Class::Registry => "registry",
            Class::Checkpoint => "checkpoint",
            Class::Format => "format",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The checks made on one line, in the order FORMAT.md §12.2 applies them.
/// Findings about the same line are reported in this order, so the first
/// finding of a report is predictable from the text alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// The line itself: its bytes, its kind, its place among the lines, and
    /// every check of a header or checkpoint line.
    #[default]
    Line,
    /// The entry's seq against the previous entry line's.
    Seq,
    /// The genesis (entry 0) or the key registry's authorisation of the event.
    Authorisation,
    /// The event signature under the key the registry names.
    Signature,
    /// The stored `event_hash` against the one recomputed from the event.
    EventHash,
    /// The stored `prev_hash` against the previous entry line's entry hash.
    PrevHash,
    /// `recorded_at` against the previous entry line's.
    RecordedAt,
    /// The event id against every earlier one.
    EventId,
    /// Entry 0's entry hash against the hash pinned with `--genesis`.
    GenesisPin,
}

/// One thing that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The seq of the entry concerned, when an entry is concerned.
    pub seq: Option<u64>,
    /// The 1-based line of the bundle, when a line is concerned.
    pub line: Option<u64>,
    /// The kind of check.
    pub class: Class,
    /// What is wrong, in words.
    pub message: String,
    /// What the check expected, when there is a value to show.
    pub expected: Option<String>,
    /// What the bundle holds instead.
    pub found: Option<String>,
    /// Which check of its line reported it; orders the findings of one line.
    #[serde(skip)]
    pub check: Check,
}

impl Finding {
    /// A finding with only a class and a message; locate it with
    /// [`Finding::at_seq`] and [`Finding::at_line`].
    pub fn new(class: Class, message: impl Into<String>) -> Finding {
        Finding {
            seq: None,
            line: None,
            class,
            message: message.into(),
            expected: None,
            found: None,
            check: Check::Line,
        }
    }
    /// Names the check of its line that reported the finding.
    pub fn by(mut self, check: Check) -> Finding {
        self.check = check;
        self
    }
    /// Locates the finding at an entry.
    pub fn at_seq(mut self, seq: u64) -> Finding {
        self.seq = Some(seq);
        self
    }
    /// Locates the finding at a line of the bundle.
    pub fn at_line(mut self, line: u64) -> Finding {
        self.line = Some(line);
        self
    }
    /// Adds the expected and the found value.
    pub fn values(mut self, expected: impl fmt::Display, found: impl fmt::Display) -> Finding {
        self.expected = Some(expected.to_string());
        self.found = Some(found.to_string());
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.seq, self.line) {
            (Some(seq), Some(line)) => write!(f, "seq {seq} (line {line})")?,
            (Some(seq), None) => write!(f, "seq {seq}")?,
            (None, Some(line)) => write!(f, "line {line}")?,
            (None, None) => f.write_str("bundle")?,
        }
        write!(f, ": [{}] {}", self.class, self.message)?;
        if let Some(e) = &self.expected {
            write!(f, "\n    expected: {e}")?;
        }
        if let Some(x) = &self.found {
            write!(f, "\n    found:    {x}")?;
        }
        Ok(())
    }
}

/// The outcome of verifying a bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// True exactly when there is no finding.
    pub ok: bool,
    /// Number of entry lines read.
    pub entries: u64,
    /// Number of checkpoint lines read.
    pub checkpoints: u64,
    /// Every finding, in the order of the bundle's lines and, within a
    /// line, in the order of its checks ([`Check`]); findings about the
    /// bundle as a whole and about `--since` checkpoints come last, in the
    /// order FORMAT.md §12 lists their checks.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether some finding has this class and exactly this seq (`None`:
    /// a finding about no particular entry).
    pub fn has(&self, class: Class, seq: Option<u64>) -> bool {
        self.findings
            .iter()
            .any(|f| f.class == class && f.seq == seq)
    }

    /// Whether some finding has this class.
    pub fn has_class(&self, class: Class) -> bool {
        self.findings.iter().any(|f| f.class == class)
    }

    /// The report as one JSON document.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serialises")
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ok {
            return writeln!(
                f,
                "OK: {} entries and {} checkpoints; every check holds.",
                self.entries, self.checkpoints
            );
        }
        writeln!(
            f,
            "FAILED: {} finding{} in {} entries and {} checkpoints.",
            self.findings.len(),
            if self.findings.len() == 1 { "" } else { "s" },
            self.entries,
            self.checkpoints
        )?;
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        Ok(())
    }
}
