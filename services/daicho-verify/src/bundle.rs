//! Verification of an export bundle (FORMAT.md §10), trusting only the
//! ledger's verifier key and, optionally, checkpoints the auditor saved
//! earlier.
//!
//! It is long because the sequential pass is one state machine over the
//! lines (chain, registry, tree, checkpoints) whose checks must run in
//! FORMAT.md §12's order; the per-line hashing and the signature batches
//! live in `event_bytes` and `signature`.
//!
//! The bundle is read in chunks of lines. Each chunk goes through three
//! phases: parsing and hashing every line in parallel; one sequential pass
//! that checks seq, the chain, timestamps and event ids, rebuilds the key
//! registry entry by entry, appends to the Merkle tree and decides which
//! key must have signed each event; and the verification of those
//! signatures in parallel batches. The third phase of one chunk runs while
//! the next chunk is parsed, passed over and read, so both cores stay busy.
//!
//! The parallel phase reads entry lines through the core's fast path
//! (`bundle::parse_line_with_spans`), takes both hashes straight from the
//! line's bytes and then rewrites the line's buffer into its signing
//! message, so a chunk's buffer lives until its signatures are checked and
//! no message is copied or allocated. The three chunk buffers in flight are
//! reused from chunk to chunk.
//!
//! Nothing stored in the bundle is trusted: every hash is recomputed from
//! the bytes, and a stored hash is only ever compared against a recomputed
//! one. After a break, the next comparison is made against the *stored*
//! previous entry, so that one deleted or altered line yields a handful of
//! findings rather than one per following entry.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead};

use daicho_core::bundle::{self, Header, Line, LineError, BUNDLE_FORMAT};
use daicho_core::checkpoint::{Checkpoint, CheckpointError, CheckpointKeys};
use daicho_core::cosignature::{self, WitnessVerifier};
use daicho_core::entry::Entry;
use daicho_core::event::EventId;
use daicho_core::keys::NoteVerifier;
use daicho_core::merkle::Tree;
use daicho_core::registry::{changes_registry, Registry, RegistryError};
use daicho_core::timestamp::RecordedAt;
use daicho_core::Digest;
use ed25519_dalek::VerifyingKey;
use rayon::prelude::*;

use crate::event_bytes::{self, Message};
use crate::report::{Check, Class, Finding, Report};
use crate::signature::{Mode, SignatureCheck, SignatureVerifier};

/// A checkpoint the auditor kept from an earlier look at the ledger; the
/// bundle must extend it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedCheckpoint {
    /// Where it came from (a file name), for the findings.
    pub name: String,
    /// The signed checkpoint note.
    pub note: String,
}

/// What to verify against and how.
pub struct Options<'a> {
    /// The ledger's verifier key: the one thing the auditor trusts.
    pub ledger_key: NoteVerifier,
    /// Checkpoints the bundle must extend.
    pub since: Vec<SavedCheckpoint>,
    /// How signatures are verified.
    pub mode: Mode,
    /// Lines per chunk; see the module documentation.
    pub chunk_lines: usize,
    /// Called after each chunk with the number of bytes read so far.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
    /// The entry hash of the genesis entry, if the auditor pinned it.
    pub genesis_hash: Option<Digest>,
    /// The witnesses the auditor trusts (FORMAT.md §7.3).
    pub witnesses: Vec<WitnessVerifier>,
    /// How many of them must have cosigned the newest checkpoint; 0 asks
    /// for no cosignature.
    pub quorum: usize,
}

impl std::fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("ledger_key", &self.ledger_key)
            .field("since", &self.since)
            .field("mode", &self.mode)
            .field("chunk_lines", &self.chunk_lines)
            .field("genesis_hash", &self.genesis_hash)
            .field("witnesses", &self.witnesses)
            .field("quorum", &self.quorum)
            .finish_non_exhaustive()
    }
}

/// Lines per chunk unless told otherwise: enough work for both cores
/// between two sequential passes, little memory.
pub const DEFAULT_CHUNK_LINES: usize = 16_384;

impl Options<'_> {
    /// Default options for a trusted key: batch verification, no saved
    /// checkpoints, no progress reporting.
    pub fn new(ledger_key: NoteVerifier) -> Options<'static> {
        Options {
            ledger_key,
            since: Vec::new(),
            mode: Mode::default(),
            chunk_lines: DEFAULT_CHUNK_LINES,
            progress: None,
            genesis_hash: None,
            witnesses: Vec::new(),
            quorum: 0,
        }
    }
}

/// Verifies a bundle held in memory.
pub fn verify_bundle(bytes: &[u8], options: &Options<'_>) -> Report {
    verify_reader(bytes, options).expect("reading from memory cannot fail")
}

/// Verifies a bundle read from `reader`. Only an I/O error of the reader is
/// an error; everything wrong with the bundle is a finding in the report.
pub fn verify_reader(reader: impl BufRead + Send, options: &Options<'_>) -> io::Result<Report> {
    verify_reader_with(reader, options, &mut |_| {})
}

/// [`verify_reader`], handing every entry line that parses to `entries`
/// as it is read, in the bundle's order, whether or not it verifies: what
/// `daicho-verify report` recomputes from, so that the bundle is read and
/// parsed once. `entries` runs beside the signature checks of the chunk
/// before; the caller uses what it gathered only if the report says the
/// bundle verifies.
pub fn verify_reader_with(
    mut reader: impl BufRead + Send,
    options: &Options<'_>,
    entries: &mut (dyn FnMut(&daicho_core::entry::Recorded) + Send),
) -> io::Result<Report> {
    let verifier = SignatureVerifier::new(options.mode);
    let max_lines = options.chunk_lines.max(1);
    let mut state = State::new(options.ledger_key.clone(), options.genesis_hash);
    // Three chunks are in flight: one whose signatures are checked, one
    // being parsed and passed over, one being read. Their buffers are
    // reused from chunk to chunk.
    let mut current = Chunk::default();
    current.read(&mut reader, max_lines)?;
    let mut checking: Option<Chunk> = None;
    let mut spare = Chunk::default();
    let mut bytes_read = 0u64;
    while !current.lines.is_empty() {
        bytes_read += current.data.len() as u64;
        let mut next = std::mem::take(&mut spare);
        // While the previous chunk's signatures are checked, this chunk is
        // parsed and passed over in order and the next one is read: none of
        // that needs the signatures, and the findings are sorted by line at
        // the end.
        let (signature_findings, read) = rayon::join(
            || checking.as_mut().map(|c| c.check_signatures(&verifier)),
            || {
                current.parse();
                state.sequential(&mut current);
                for p in &current.parsed {
                    if let Parsed::Entry(e) = p {
                        entries(&e.line);
                    }
                }
                next.read(&mut reader, max_lines)
            },
        );
        state
            .findings
            .extend(signature_findings.into_iter().flatten());
        read?;
        let parsed = std::mem::replace(&mut current, next);
        spare = checking.replace(parsed).unwrap_or_default();
        if let Some(progress) = options.progress {
            progress(bytes_read);
        }
    }
    if let Some(mut last) = checking {
        let findings = last.check_signatures(&verifier);
        state.findings.extend(findings);
    }
    Ok(state.finish(options))
}

/// A run of whole lines and what became of them: where each starts and
/// ends in `data`, the lines parsed, and the signature checks the
/// sequential pass decided on.
#[derive(Default)]
struct Chunk {
    data: Vec<u8>,
    /// Line bounds without the `\n`, and whether the `\n` was there.
    lines: Vec<(usize, usize, bool)>,
    parsed: Vec<Parsed>,
    jobs: Vec<Job>,
}

/// A signature the parallel phase must check.
struct Job {
    /// Index into the chunk's lines.
    index: usize,
    seq: u64,
    line: u64,
    key: VerifyingKey,
}

impl Chunk {
    /// Replaces the chunk's lines with up to `max_lines` next ones.
    fn read(&mut self, reader: &mut impl BufRead, max_lines: usize) -> io::Result<()> {
        self.data.clear();
        self.lines.clear();
        self.parsed.clear();
        self.jobs.clear();
        while self.lines.len() < max_lines {
            let start = self.data.len();
            let n = reader.read_until(b'\n', &mut self.data)?;
            if n == 0 {
                break;
            }
            let newline = self.data.last() == Some(&b'\n');
            let end = if newline {
                self.data.len() - 1
            } else {
                self.data.len()
            };
            self.lines.push((start, end, newline));
        }
        Ok(())
    }

    /// Parses every line in parallel. An entry line's bytes are rewritten
    /// into its signing message once its hashes are taken.
    fn parse(&mut self) {
        let Chunk {
            data,
            lines,
            parsed,
            ..
        } = self;
        let mut slices: Vec<&mut [u8]> = Vec::with_capacity(lines.len());
        let mut rest = data.as_mut_slice();
        let mut consumed = 0;
        for &(start, end, _) in lines.iter() {
            let (_, tail) = std::mem::take(&mut rest).split_at_mut(start - consumed);
            let (line, tail) = tail.split_at_mut(end - start);
            slices.push(line);
            rest = tail;
            consumed = end;
        }
        slices
            .into_par_iter()
            .map(Parsed::from_line)
            .collect_into_vec(parsed);
    }

    /// Checks the signatures the sequential pass decided on: a finding for
    /// each that does not verify. Frees the parsed lines.
    fn check_signatures(&mut self, verifier: &SignatureVerifier) -> Vec<Finding> {
        let checks: Vec<SignatureCheck<'_>> = self
            .jobs
            .iter()
            .map(|job| {
                let e = self.entry(job.index);
                SignatureCheck {
                    key: &job.key,
                    message: e.message.bytes(self.line(job.index)),
                    signature: e.line.event.signature.0,
                }
            })
            .collect();
        let findings = verifier
            .failures(&checks)
            .into_iter()
            .map(|failed| {
                let job = &self.jobs[failed];
                let key_id = self.entry(job.index).line.event.body.key_id.to_string();
                signature_finding(job.seq, job.line, &key_id)
            })
            .collect();
        drop(checks);
        self.parsed.clear();
        self.jobs.clear();
        findings
    }

    /// The bytes of line `index` as [`Chunk::parse`] left them.
    fn line(&self, index: usize) -> &[u8] {
        let (start, end, _) = self.lines[index];
        &self.data[start..end]
    }

    fn entry(&self, index: usize) -> &ParsedEntry {
        match &self.parsed[index] {
            Parsed::Entry(e) => e,
            _ => unreachable!("jobs point at entries"),
        }
    }
}

/// One line after the parallel phase.
enum Parsed {
    Empty,
    Error(LineError),
    Header(Header),
    Checkpoint(String),
    Entry(ParsedEntry),
}

/// An entry line with everything recomputed from its bytes.
struct ParsedEntry {
    line: Box<daicho_core::entry::Recorded>,
    /// SHA-256 of the event's canonical bytes, recomputed.
    event_hash: Digest,
    /// The entry hash of the entry as stored: the Merkle leaf.
    entry_hash: Digest,
    /// The exact bytes the event signature covers.
    message: Message,
}

impl Parsed {
    fn from_line(bytes: &mut [u8]) -> Parsed {
        if bytes.is_empty() {
            return Parsed::Empty;
        }
        match bundle::parse_line_with_spans(bytes) {
            Err(e) => Parsed::Error(e),
            Ok((Line::Header(h), _)) => Parsed::Header(h),
            Ok((Line::Checkpoint(c), _)) => Parsed::Checkpoint(c.checkpoint),
            Ok((Line::Entry(line), spans)) => {
                let (event_hash, entry_hash, message) =
                    event_bytes::recompute(bytes, &line, spans.as_ref());
                Parsed::Entry(ParsedEntry {
                    line,
                    event_hash,
                    entry_hash,
                    message,
                })
            }
        }
    }
}

/// The previous entry line as stored, for the comparisons that follow it.
struct Previous {
    seq: u64,
    hash: Digest,
    recorded_at: RecordedAt,
}

/// Everything the sequential pass carries from line to line.
struct State {
    trusted: NoteVerifier,
    /// The pinned entry hash of the genesis, if any.
    genesis_hash: Option<Digest>,
    findings: Vec<Finding>,
    line_no: u64,
    /// Entry lines seen: the position of the next entry line.
    entries: u64,
    previous: Option<Previous>,
    /// `None` before the first entry line, or after a genesis that failed.
    registry: Option<Registry>,
    genesis_failed: bool,
    tree: Tree,
    event_ids: HashMap<u128, u64>,
    checkpoints: Vec<(u64, String)>,
    checkpoint_lines: HashSet<String>,
    checkpoint_lines_read: u64,
    checkpoint_seen: bool,
    /// Whether the last line read lacked its `\n` (and how long it was).
    unterminated: Option<(u64, usize, bool)>,
}

impl State {
    fn new(trusted: NoteVerifier, genesis_hash: Option<Digest>) -> State {
        State {
            trusted,
            genesis_hash,
            findings: Vec::new(),
            line_no: 0,
            entries: 0,
            previous: None,
            registry: None,
            genesis_failed: false,
            tree: Tree::new(),
            event_ids: HashMap::new(),
            checkpoints: Vec::new(),
            checkpoint_lines: HashSet::new(),
            checkpoint_lines_read: 0,
            checkpoint_seen: false,
            unterminated: None,
        }
    }

    fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// The sequential pass over one parsed chunk; records in the chunk
    /// the signature checks it decided on.
    fn sequential(&mut self, chunk: &mut Chunk) {
        chunk.jobs.reserve(chunk.parsed.len());
        for (i, p) in chunk.parsed.iter().enumerate() {
            self.line_no += 1;
            let line = self.line_no;
            let (start, end, newline) = chunk.lines[i];
            if !newline {
                // Only the last line of a file can lack its `\n`.
                let parses = !matches!(p, Parsed::Error(_) | Parsed::Empty);
                self.unterminated = Some((line, end - start, parses));
                if !parses {
                    continue;
                }
            }
            if line == 1 && !matches!(p, Parsed::Header(_)) {
                self.push(
                    Finding::new(Class::Format, "line 1 is not the bundle header")
                        .at_line(1)
                        .values(
                            format!("a header line {{\"format\":\"{BUNDLE_FORMAT}\",...}}"),
                            describe(p),
                        ),
                );
            }
            match p {
                Parsed::Empty => self.push(
                    Finding::new(
                        Class::Format,
                        "empty line: every line of a bundle holds an object",
                    )
                    .at_line(line),
                ),
                Parsed::Error(e) => self.push(
                    Finding::new(
                        Class::Format,
                        format!("the line is not a valid bundle line: {e}"),
                    )
                    .at_line(line),
                ),
                Parsed::Header(h) => self.header(line, h),
                Parsed::Checkpoint(note) => {
                    self.checkpoint_seen = true;
                    self.checkpoint_lines_read += 1;
                    if !self.checkpoint_lines.insert(note.clone()) {
                        self.push(
                            Finding::new(Class::Format, "the same checkpoint line appears twice")
                                .at_line(line),
                        );
                    } else {
                        self.checkpoints.push((line, note.clone()));
                    }
                }
                Parsed::Entry(e) => {
                    if let Some(key) = self.entry(line, e) {
                        chunk.jobs.push(Job {
                            index: i,
                            seq: e.line.entry.seq,
                            line,
                            key,
                        });
                    }
                }
            }
        }
    }

    fn header(&mut self, line: u64, h: &Header) {
        if line != 1 {
            self.push(
                Finding::new(Class::Format, "a header line appears after line 1").at_line(line),
            );
            return;
        }
        if h.format != BUNDLE_FORMAT {
            self.push(
                Finding::new(Class::Format, "unknown bundle format")
                    .at_line(line)
                    .values(BUNDLE_FORMAT, &h.format),
            );
        }
        let trusted = self.trusted.to_string();
        if h.ledger_key != trusted {
            self.push(
                Finding::new(
                    Class::Format,
                    "the header names another ledger key than the one you trust",
                )
                .at_line(line)
                .values(trusted, &h.ledger_key),
            );
        }
        if h.origin != self.trusted.name() {
            let name = self.trusted.name().to_owned();
            self.push(
                Finding::new(
                    Class::Format,
                    "the header names another origin than the trusted key's name",
                )
                .at_line(line)
                .values(name, &h.origin),
            );
        }
    }

    /// Checks one entry line in the order of the bundle. Returns the key
    /// its signature must be checked against in the parallel phase, if
    /// that is still to do.
    fn entry(&mut self, line: u64, p: &ParsedEntry) -> Option<VerifyingKey> {
        let entry = &p.line.entry;
        let event = &p.line.event;
        let seq = entry.seq;
        let position = self.entries;
        self.entries += 1;
        if self.checkpoint_seen {
            self.push(
                Finding::new(Class::Format, "an entry line after the checkpoint lines")
                    .at_seq(seq)
                    .at_line(line),
            );
        }

        // Seq contiguity. A seq that matches neither the previous line's
        // successor nor the line's position is reported; one that matches
        // either is the chain resuming after a finding already reported.
        let expected = self.previous.as_ref().map_or(0, |prev| prev.seq + 1);
        if seq != expected && seq != position {
            let f = if seq > expected {
                let missing = if seq - expected == 1 {
                    format!("seq {expected} is missing")
                } else {
                    format!("seqs {expected} to {} are missing", seq - 1)
                };
                let after = match expected {
                    0 => "the first entry".to_owned(),
                    n => format!("the entry after seq {}", n - 1),
                };
                Finding::new(Class::Chain, format!("{missing}: {after} is seq {seq}"))
                    .at_seq(expected)
            } else {
                Finding::new(
                    Class::Chain,
                    format!(
                        "seq {seq} is out of order or repeated: it follows seq {}",
                        expected - 1
                    ),
                )
                .at_seq(seq)
            };
            self.push(f.at_line(line).values(expected, seq).by(Check::Seq));
        }

        // The event hash, recomputed from the event's bytes.
        if p.event_hash != entry.event_hash {
            self.push(
                Finding::new(
                    Class::Chain,
                    "event_hash is not the SHA-256 of the event the line holds",
                )
                .at_seq(seq)
                .at_line(line)
                .values(p.event_hash, entry.event_hash)
                .by(Check::EventHash),
            );
        }

        // The chain link, against the previous entry as stored.
        let expected_prev = self
            .previous
            .as_ref()
            .map_or(Digest::ZERO, |prev| prev.hash);
        if entry.prev_hash != expected_prev {
            let what = if self.previous.is_none() {
                "the first entry's prev_hash is not all zeros".to_owned()
            } else {
                "prev_hash is not the entry hash of the entry before it".to_owned()
            };
            self.push(
                Finding::new(Class::Chain, what)
                    .at_seq(seq)
                    .at_line(line)
                    .values(expected_prev, entry.prev_hash)
                    .by(Check::PrevHash),
            );
        }

        if let Some(prev) = &self.previous {
            if entry.recorded_at < prev.recorded_at {
                let prev_at = prev.recorded_at;
                self.push(
                    Finding::new(Class::Chain, "recorded_at goes backwards")
                        .at_seq(seq)
                        .at_line(line)
                        .values(format!("{prev_at} or later"), entry.recorded_at)
                        .by(Check::RecordedAt),
                );
            }
        }

        if let Some(first) = self
            .event_ids
            .insert(event_id_bits(&event.body.event_id), seq)
        {
            self.push(
                Finding::new(
                    Class::Chain,
                    format!("event_id {} is used twice", event.body.event_id),
                )
                .at_seq(seq)
                .at_line(line)
                .values(
                    "an event_id not used before",
                    format!("the event_id of seq {first}"),
                )
                .by(Check::EventId),
            );
        }

        // The genesis entry, against the hash the auditor pinned.
        if let (0, Some(pinned)) = (position, self.genesis_hash) {
            if p.entry_hash != pinned {
                self.push(
                    Finding::new(
                        Class::Chain,
                        "the genesis entry is not the one pinned with --genesis",
                    )
                    .at_seq(seq)
                    .at_line(line)
                    .values(pinned, p.entry_hash)
                    .by(Check::GenesisPin),
                );
            }
        }

        self.tree.push(p.entry_hash);
        self.previous = Some(Previous {
            seq,
            hash: p.entry_hash,
            recorded_at: entry.recorded_at,
        });

        self.registry_check(line, position, entry, event)
    }

    /// The registry as of this entry: the genesis builds it, key events
    /// change it (their signatures checked strictly first, since the
    /// registry depends on them), and every other event must be authorised
    /// by it; the signatures of those are left to the parallel phase.
    fn registry_check(
        &mut self,
        line: u64,
        position: u64,
        entry: &Entry,
        event: &daicho_core::event::SignedEvent,
    ) -> Option<VerifyingKey> {
        let seq = entry.seq;
        if position == 0 {
            match Registry::from_genesis(event, Some(&self.trusted)) {
                Ok(registry) => self.registry = Some(registry),
                Err(e) => {
                    self.genesis_failed = true;
                    let class = registry_class(&e);
                    self.push(
                        Finding::new(
                            class,
                            format!("the genesis entry is invalid: {e}; no later entry can be authorised without it"),
                        )
                        .at_seq(seq)
                        .at_line(line)
                        .by(check_of(&e)),
                    );
                }
            }
            return None;
        }
        let registry = self.registry.as_mut()?;
        let record = match registry.authorize(event) {
            Ok(record) => record,
            Err(e) => {
                let f = Finding::new(
                    registry_class(&e),
                    format!("the registry as of this entry does not authorise it: {e}"),
                )
                .at_seq(seq)
                .at_line(line)
                .by(Check::Authorisation);
                let f = match &e {
                    RegistryError::OutOfScope { event_type, .. } => f.values(
                        format!("a type the key {} may sign", event.body.key_id),
                        event_type,
                    ),
                    RegistryError::Revoked { revoked_at, .. } => f.values(
                        format!("a key not revoked (it was revoked at seq {revoked_at})"),
                        &event.body.key_id,
                    ),
                    RegistryError::UnknownKey(id) => f.values("a registered key", id),
                    _ => f,
                };
                self.push(f);
                return None;
            }
        };
        let key = record.public_key;
        if changes_registry(event.body.event_type.as_str()) {
            if event.verify_signature(&key).is_err() {
                self.push(signature_finding(seq, line, &event.body.key_id.to_string()));
                return None;
            }
            if let Err(e) = registry.apply(seq, event) {
                self.push(
                    Finding::new(
                        registry_class(&e),
                        format!("the key event cannot be applied: {e}"),
                    )
                    .at_seq(seq)
                    .at_line(line)
                    .by(Check::Authorisation),
                );
            }
            return None;
        }
        Some(key.0)
    }

    /// The checks that need the whole bundle: the last line, the header and
    /// checkpoints present, every checkpoint against the tree, and the
    /// saved checkpoints.
    fn finish(mut self, options: &Options<'_>) -> Report {
        let since = &options.since;
        if let Some((line, len, parses)) = self.unterminated {
            let f = if parses {
                Finding::new(Class::Format, "the last line has no final newline")
            } else {
                Finding::new(
                    Class::Format,
                    format!("{len} trailing bytes after the last newline are not a bundle line"),
                )
            };
            self.push(f.at_line(line));
        }
        if self.line_no == 0 {
            self.push(Finding::new(Class::Format, "the bundle is empty"));
        }
        if self.checkpoints.is_empty() {
            self.push(Finding::new(
                Class::Format,
                "the bundle has no checkpoint, so nothing signed by the ledger key covers its entries",
            ));
        }
        let size = self.tree.size();
        let mut largest = 0;
        let checkpoints = std::mem::take(&mut self.checkpoints);
        let mut previous_size: Option<u64> = None;
        // The opened checkpoint line of the largest size: the one the
        // witness quorum applies to (FORMAT.md §12.3).
        let mut newest: Option<(u64, u64, &str)> = None;
        for (line, note) in &checkpoints {
            match self.open(note) {
                Err(e) => self.push(
                    Finding::new(
                        Class::Checkpoint,
                        format!(
                            "the checkpoint does not open under the ledger key for its size: {e}"
                        ),
                    )
                    .at_line(*line),
                ),
                Ok(cp) => {
                    // FORMAT.md §10: checkpoint lines come in increasing size.
                    if let Some(prev) = previous_size.filter(|p| cp.size <= *p) {
                        self.push(
                            Finding::new(
                                Class::Format,
                                "checkpoint lines must come in increasing size",
                            )
                            .at_line(*line)
                            .values(format!("a size above {prev}"), cp.size),
                        );
                    }
                    previous_size = Some(cp.size);
                    if newest.is_none_or(|(s, _, _)| cp.size > s) {
                        newest = Some((cp.size, *line, note));
                    }
                    largest = largest.max(cp.size.min(size));
                    if let Some(f) = self.compare(&cp, "the checkpoint") {
                        self.push(f.at_line(*line));
                    }
                }
            }
        }
        if !checkpoints.is_empty() && largest < size {
            self.push(
                Finding::new(
                    Class::Checkpoint,
                    format!(
                        "entries {largest} to {} are covered by no checkpoint",
                        size - 1
                    ),
                )
                .at_seq(largest)
                .values(
                    format!("a checkpoint of size {size}"),
                    format!("largest size {largest}"),
                ),
            );
        }
        for saved in since {
            match self.open(&saved.note) {
                Err(e) => self.push(Finding::new(
                    Class::Checkpoint,
                    format!(
                        "the saved checkpoint {} does not open under the ledger key for its size: {e}",
                        saved.name
                    ),
                )),
                Ok(cp) => {
                    let what = format!("the saved checkpoint {}", saved.name);
                    if let Some(f) = self.compare(&cp, &what) {
                        self.push(f);
                    }
                }
            }
        }
        if options.quorum > 0 {
            if let Some((cp_size, line, note)) = newest {
                if let Some(f) = witness_finding(note, cp_size, options) {
                    self.push(f.at_line(line));
                }
            }
        }
        // Findings about lines in line order and, within a line, in the
        // order of its checks (FORMAT.md §12.2); those about the whole
        // bundle last, in the order they were made. The sort is stable.
        self.findings
            .sort_by_key(|f| (f.line.unwrap_or(u64::MAX), f.check));
        Report {
            ok: self.findings.is_empty(),
            entries: self.entries,
            checkpoints: self.checkpoint_lines_read,
            findings: self.findings,
        }
    }

    /// Opens a checkpoint under the key that must sign its size (FORMAT.md
    /// §8.5): the trusted genesis key, or a key the log rotated to. Without
    /// a registry (no valid genesis), under the trusted key.
    fn open(&self, note: &str) -> Result<Checkpoint, CheckpointError> {
        match &self.registry {
            Some(registry) => registry.open_checkpoint(note),
            None => Checkpoint::open(note, &self.trusted),
        }
    }

    /// A checkpoint's claim against the tree of the bundle's entries.
    fn compare(&self, cp: &Checkpoint, what: &str) -> Option<Finding> {
        let size = self.tree.size();
        if cp.size > size {
            return Some(
                Finding::new(
                    Class::Checkpoint,
                    format!(
                        "{what} covers {} entries but the bundle holds {size}: entries {size} to {} are missing",
                        cp.size,
                        cp.size - 1
                    ),
                )
                .at_seq(size)
                .values(format!("at most {size} entries"), cp.size),
            );
        }
        let root = self.tree.root_at(cp.size).expect("size checked");
        (root != cp.root).then(|| {
            Finding::new(
                Class::Merkle,
                format!(
                    "the Merkle root of the bundle's first {} entries is not the root {what} signs",
                    cp.size
                ),
            )
            .values(cp.root.to_base64(), root.to_base64())
        })
    }
}

/// The finding when the newest checkpoint lacks the witness quorum, or a
/// trusted witness's line on it does not verify.
fn witness_finding(note: &str, size: u64, options: &Options<'_>) -> Option<Finding> {
    match cosignature::cosignatures(note, &options.witnesses) {
        Err(e) => Some(Finding::new(
            Class::Checkpoint,
            format!("the newest checkpoint (size {size}) carries a bad cosignature: {e}"),
        )),
        Ok(found) if found.len() < options.quorum => {
            let names: Vec<&str> = found.iter().map(|c| c.witness.as_str()).collect();
            Some(
                Finding::new(
                    Class::Checkpoint,
                    format!(
                        "the newest checkpoint (size {size}) is cosigned by {} of the trusted witnesses, fewer than the {} required",
                        found.len(),
                        options.quorum
                    ),
                )
                .values(
                    format!("{} cosignatures", options.quorum),
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    },
                ),
            )
        }
        Ok(_) => None,
    }
}

fn signature_finding(seq: u64, line: u64, key_id: &str) -> Finding {
    Finding::new(
        Class::Signature,
        format!(
            "the event signature does not verify under key {key_id}, the key the registry names"
        ),
    )
    .at_seq(seq)
    .at_line(line)
    .by(Check::Signature)
}

/// The check a genesis or registry error belongs to.
fn check_of(e: &RegistryError) -> Check {
    match e {
        RegistryError::BadSignature(_) => Check::Signature,
        _ => Check::Authorisation,
    }
}

/// Signature failures in the registry are signature findings; everything
/// else the registry refuses is a registry finding.
fn registry_class(e: &RegistryError) -> Class {
    match e {
        RegistryError::BadSignature(_) => Class::Signature,
        _ => Class::Registry,
    }
}

/// The 128 bits of a UUID, a compact key for the uniqueness check.
fn event_id_bits(id: &EventId) -> u128 {
    id.as_str()
        .chars()
        .filter_map(|c| c.to_digit(16))
        .fold(0, |bits, digit| bits << 4 | u128::from(digit))
}

fn describe(p: &Parsed) -> &'static str {
    match p {
        Parsed::Empty => "an empty line",
        Parsed::Error(_) => "a line that does not parse",
        Parsed::Header(_) => "a header",
        Parsed::Checkpoint(_) => "a checkpoint line",
        Parsed::Entry(_) => "an entry line",
    }
}
