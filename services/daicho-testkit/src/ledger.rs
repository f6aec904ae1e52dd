//! Sample and tampered ledgers from fixed seeds, for the verifier's tests
//! and benchmark and for the test-vector generator.
//!
//! [`sample_ledger`] builds a small ledger with the core's own ledger
//! builder (`ledger::genesis_event`, `Ledger::create`, `begin`, `append`,
//! `finish`, `commit`), the code the service appends with. [`assemble`]
//! chains and checkpoints any list of events *without* consulting the key
//! registry: it is what a dishonest operator holding the ledger key could
//! produce, and the tamper tests use it to build bundles whose only defect
//! is one the registry must catch. [`large_ledger`] builds the benchmark's
//! bundle.
//!
//! Nothing here is secret: every key comes from a published seed.

use daicho_core::bundle::{self, Header, BUNDLE_FORMAT};
use daicho_core::checkpoint::Checkpoint;
use daicho_core::entry::Entry;
use daicho_core::event::{EventId, EventType, SignedEvent};
use daicho_core::keys::{NoteSigner, NoteVerifier};
use daicho_core::ledger::{genesis_event, key_rotation_event, Ledger};
use daicho_core::merkle::Tree;
use daicho_core::registry::{KeyRegistration, KeyRevocation, KeyRole, KEY_REGISTERED, KEY_REVOKED};
use daicho_core::timestamp::{OccurredAt, RecordedAt};
use daicho_core::Digest;
use rayon::prelude::*;
use serde_json::{json, Value};

use crate::event::{label, EventBuilder, OCCURRED_AT};
use crate::keys::{seed_of, Keys, FINANCE, FINANCE_TYPES, PERSONNEL, PERSONNEL_TYPE};

/// A ledger's events and its bundle.
#[derive(Debug, Clone)]
pub struct SampleLedger {
    /// The bundle's lines, each ending in `\n`: the header, one line per
    /// entry (`lines[1 + seq]`), then the checkpoints.
    pub lines: Vec<Vec<u8>>,
    /// Every event with the time it was recorded, in seq order.
    pub events: Vec<(RecordedAt, SignedEvent)>,
    /// The size of each checkpoint line, in order.
    pub checkpoint_sizes: Vec<u64>,
    /// The signed checkpoint notes, in order.
    pub checkpoints: Vec<String>,
    /// The keys.
    pub keys: Keys,
    /// The seq at which the personnel key was revoked.
    pub revoked_at: u64,
}

impl SampleLedger {
    /// The ledger's verifier key, the one thing an auditor trusts.
    pub fn ledger_key(&self) -> NoteVerifier {
        self.keys.ledger.verifier().clone()
    }
    /// The whole bundle.
    pub fn bytes(&self) -> Vec<u8> {
        self.lines.concat()
    }
    /// Number of entries.
    pub fn entries(&self) -> u64 {
        self.events.len() as u64
    }
}

/// A fixed instant plus `n` seconds, as the ledger's clock.
pub fn recorded_at(n: u64) -> RecordedAt {
    // 2026-04-01T00:00:00Z.
    const START: i64 = 1_775_001_600_000_000;
    RecordedAt::from_unix_micros(START + n as i64 * 1_000_000).expect("in range")
}

fn event_id(seed: u64, n: u64) -> EventId {
    let mut data = seed.to_le_bytes().to_vec();
    data.extend_from_slice(&n.to_le_bytes());
    let d = Digest::of(&data);
    EventId::from_bytes(d.0[..16].try_into().expect("16 bytes"))
}

/// An event of type `event_type` signed by `signer` for `source`, with a
/// payload that varies with `n`; `id` makes the event id unique.
pub fn source_event(
    signer: &NoteSigner,
    source: &str,
    event_type: &str,
    n: u64,
    id: (u64, u64),
) -> SignedEvent {
    EventBuilder::new(signer, event_type, source)
        .id(event_id(id.0, id.1))
        .actor(&format!("staff-{:04}", n % 97), "clerk")
        .payload(json!({
            "document": format!("KM-2026-{n:06}"),
            "amount": n * 1000 % 9_999_991,
            "note": "亀岡市 情報セキュリティ 監査記録",
        }))
        .sign()
}

fn registration(
    admin: &NoteSigner,
    key: &NoteSigner,
    types: &[&str],
    id: (u64, u64),
) -> SignedEvent {
    let payload = KeyRegistration {
        key_id: key.key_id(),
        public_key: key.public_key(),
        source: label(key.verifier().name()),
        role: KeyRole::Source,
        types: types
            .iter()
            .map(|t| EventType::parse(t).expect("valid"))
            .collect(),
    };
    admin_event(
        admin,
        KEY_REGISTERED,
        serde_json::to_value(payload).expect("serialises"),
        id,
    )
}

fn revocation(admin: &NoteSigner, key: &NoteSigner, id: (u64, u64)) -> SignedEvent {
    let payload = KeyRevocation {
        key_id: key.key_id(),
        reason: "the personnel system was replaced".into(),
    };
    admin_event(
        admin,
        KEY_REVOKED,
        serde_json::to_value(payload).expect("serialises"),
        id,
    )
}

fn admin_event(
    admin: &NoteSigner,
    event_type: &str,
    payload: Value,
    id: (u64, u64),
) -> SignedEvent {
    EventBuilder::new(admin, event_type, "admin")
        .id(event_id(id.0, id.1))
        .actor("admin-01", "administrator")
        .payload(payload)
        .sign()
}

/// The header line's object for a ledger key.
pub fn header(ledger: &NoteVerifier) -> Header {
    Header {
        format: BUNDLE_FORMAT.to_owned(),
        origin: ledger.name().to_owned(),
        ledger_key: ledger.to_string(),
    }
}

/// The sample ledger of the tamper tests, built with the core's ledger
/// builder from `seed`:
///
/// | seq | event |
/// |---|---|
/// | 0 | genesis (ledger key; administrator `admin`) |
/// | 1 | admin registers the finance key for two types |
/// | 2 | admin registers the personnel key for one type |
/// | 3..=14 | finance and personnel events, alternating |
/// | 15 | admin revokes the personnel key |
/// | 16..=23 | finance events |
///
/// with checkpoints at sizes 3, 10, 16 and 24.
pub fn sample_ledger(seed: u64) -> SampleLedger {
    build_sample(seed, false)
}

/// The sample ledger with its ledger key rotated (FORMAT.md §8.5): seq 16
/// is `daicho.ledger.key_rotated` from the ledger key to
/// [`Keys::next_ledger`], and the finance events follow at 17..=24.
/// Checkpoints at sizes 3, 10 and 16 carry the first key's signature; at
/// 17, the overlap's two (the next key's first); at 25, the next key's
/// alone.
pub fn rotated_sample_ledger(seed: u64) -> SampleLedger {
    build_sample(seed, true)
}

fn build_sample(seed: u64, rotate: bool) -> SampleLedger {
    let keys = Keys::new(seed);
    let genesis = genesis_event(
        &keys.ledger,
        keys.admin.public_key(),
        label("admin"),
        event_id(seed, 0),
        OccurredAt::parse(OCCURRED_AT).expect("valid"),
    );
    let mut script: Vec<SignedEvent> = vec![
        registration(&keys.admin, &keys.finance, &FINANCE_TYPES, (seed, 1)),
        registration(&keys.admin, &keys.personnel, &[PERSONNEL_TYPE], (seed, 2)),
    ];
    for n in 3..=14u64 {
        script.push(if n % 2 == 1 {
            source_event(
                &keys.finance,
                FINANCE,
                FINANCE_TYPES[(n as usize / 2) % 2],
                n,
                (seed, n),
            )
        } else {
            source_event(&keys.personnel, PERSONNEL, PERSONNEL_TYPE, n, (seed, n))
        });
    }
    let revoked_at = 15;
    script.push(revocation(&keys.admin, &keys.personnel, (seed, 15)));
    if rotate {
        script.push(key_rotation_event(
            &keys.ledger,
            keys.next_ledger.verifier(),
            "the yearly rotation of the ledger key",
            event_id(seed, 24),
            OccurredAt::parse(OCCURRED_AT).expect("valid"),
        ));
    }
    for n in 16..=23u64 {
        script.push(source_event(
            &keys.finance,
            FINANCE,
            FINANCE_TYPES[0],
            n,
            (seed, n),
        ));
    }
    let checkpoint_sizes = if rotate {
        vec![3, 10, 16, 17, 25]
    } else {
        vec![3, 10, 16, 24]
    };

    let (mut ledger, first) = Ledger::create(genesis, recorded_at(0)).expect("a valid genesis");
    let mut events = vec![(first.entry.recorded_at, first.event)];
    let mut entry_lines = vec![bundle::entry_line(&first.entry, &events[0].1)];
    let mut checkpoints = Vec::new();
    // Appended one event per batch, with a checkpoint whenever the ledger
    // reaches a checkpoint size.
    for (i, event) in script.into_iter().enumerate() {
        let mut batch = ledger.begin(recorded_at(i as u64 + 1));
        let appended = batch
            .append(event, None)
            .expect("the script is valid")
            .clone();
        let staged = batch.finish();
        ledger.commit(staged);
        entry_lines.push(bundle::entry_line(&appended.entry, &appended.event));
        events.push((appended.entry.recorded_at, appended.event));
        let size = ledger.size();
        if checkpoint_sizes.contains(&size) {
            let cp = ledger.checkpoint();
            checkpoints.push(match (rotate, size) {
                (true, 17) => cp.sign_all(&[&keys.next_ledger, &keys.ledger]),
                (true, 25) => cp.sign(&keys.next_ledger),
                _ => cp.sign(&keys.ledger),
            });
        }
    }
    let mut lines = vec![bundle::header_line(&header(keys.ledger.verifier()))];
    lines.extend(entry_lines);
    lines.extend(checkpoints.iter().map(|c| bundle::checkpoint_line(c)));
    SampleLedger {
        lines,
        events,
        checkpoint_sizes,
        checkpoints,
        keys,
        revoked_at,
    }
}

/// Chains `events` into entries and signs a checkpoint for each size in
/// `checkpoint_sizes` with `ledger`, consulting no registry: a bundle as a
/// dishonest holder of the ledger key could write it. Returns the lines and
/// the signed checkpoint notes.
pub fn assemble(
    ledger: &NoteSigner,
    events: &[(RecordedAt, SignedEvent)],
    checkpoint_sizes: &[u64],
) -> (Vec<Vec<u8>>, Vec<String>) {
    let event_hashes: Vec<Digest> = events.par_iter().map(|(_, e)| e.hash()).collect();
    let mut tree = Tree::new();
    let mut prev_hash = Digest::ZERO;
    let mut entries = Vec::with_capacity(events.len());
    for (seq, ((at, _), event_hash)) in events.iter().zip(event_hashes).enumerate() {
        let entry = Entry {
            seq: seq as u64,
            recorded_at: *at,
            event_hash,
            prev_hash,
        };
        prev_hash = entry.hash();
        tree.push(prev_hash);
        entries.push(entry);
    }
    let notes: Vec<String> = checkpoint_sizes
        .iter()
        .map(|&size| {
            Checkpoint {
                origin: ledger.verifier().name().to_owned(),
                size,
                root: tree.root_at(size).expect("a size within the ledger"),
            }
            .sign(ledger)
        })
        .collect();
    let mut lines = vec![bundle::header_line(&header(ledger.verifier()))];
    lines.par_extend(
        entries
            .par_iter()
            .zip(events.par_iter())
            .map(|(entry, (_, event))| bundle::entry_line(entry, event)),
    );
    lines.extend(notes.iter().map(|n| bundle::checkpoint_line(n)));
    (lines, notes)
}

/// The benchmark's ledger: `entries` entries (at least 4), the genesis and
/// the registration of `sources` source keys first, then events signed by
/// those keys in turn, and a checkpoint every `checkpoint_every` entries
/// and at the end. Built with the core's ledger builder; signing runs on
/// all cores. Returns the bundle and the ledger's verifier key.
pub fn large_ledger(
    entries: u64,
    sources: usize,
    checkpoint_every: u64,
) -> (Vec<u8>, NoteVerifier) {
    let keys = Keys::new(1);
    let sources: Vec<NoteSigner> = (0..sources)
        .map(|i| {
            NoteSigner::from_seed(&format!("source-{i}"), seed_of(1, &format!("source-{i}")))
                .expect("valid")
        })
        .collect();
    let genesis = genesis_event(
        &keys.ledger,
        keys.admin.public_key(),
        label("admin"),
        event_id(1, 0),
        OccurredAt::parse(OCCURRED_AT).expect("valid"),
    );
    let first_source_seq = 1 + sources.len() as u64;
    let mut script: Vec<SignedEvent> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| registration(&keys.admin, s, &FINANCE_TYPES, (1, 1 + i as u64)))
        .collect();
    script.par_extend((first_source_seq..entries).into_par_iter().map(|n| {
        let s = &sources[(n as usize) % sources.len()];
        source_event(
            s,
            s.verifier().name(),
            FINANCE_TYPES[(n % 2) as usize],
            n,
            (1, n),
        )
    }));

    let (mut ledger, first) = Ledger::create(genesis, recorded_at(0)).expect("a valid genesis");
    let mut out = bundle::header_line(&header(keys.ledger.verifier()));
    out.extend(bundle::entry_line(&first.entry, &first.event));
    let mut checkpoints = Vec::new();
    let known: Vec<_> = sources.iter().map(NoteSigner::public_key).collect();
    let mut script = script.into_iter().peekable();
    let mut tick = 1;
    // One batch per checkpoint interval, then the checkpoint.
    while script.peek().is_some() {
        let room = checkpoint_every - ledger.size() % checkpoint_every;
        let mut batch = ledger.begin(recorded_at(tick));
        tick += 1;
        for event in script.by_ref().take(room as usize) {
            // The signatures were just made with these keys, so the builder
            // may skip re-verifying them.
            let signer = known.iter().find(|k| k.key_id() == event.body.key_id);
            batch.append(event, signer).expect("the script is valid");
        }
        let staged = batch.finish();
        let lines: Vec<Vec<u8>> = staged
            .entries
            .par_iter()
            .map(|a| bundle::entry_line(&a.entry, &a.event))
            .collect();
        ledger.commit(staged);
        out.extend(lines.concat());
        if ledger.size() % checkpoint_every == 0 {
            checkpoints.push(ledger.checkpoint().sign(&keys.ledger));
        }
    }
    if ledger.size() % checkpoint_every != 0 {
        checkpoints.push(ledger.checkpoint().sign(&keys.ledger));
    }
    for c in &checkpoints {
        out.extend(bundle::checkpoint_line(c));
    }
    (out, keys.ledger.verifier().clone())
}
