//! # daicho-synth: a realistic synthetic quarter
//!
//! [`generate`] builds, from a seed, one quarter of a municipality's
//! information-security records as signed events: departments (部) and
//! sections (課) with their staff and the roles the regulation gives them
//! (an 情報責任者 per department, an 情報管理者 per section, the network
//! administrator, a system administrator per system, the CIO, the
//! 情報統括管理者 and an auditor from an independent department), their
//! systems, PCs, USB memories and IC cards, and a quarter of acts that
//! covers every event type of the catalogue:
//!
//! - USB memories: 様式12 request → grant (valid to the fiscal year's end)
//!   → 様式13 take-out → return → erasure → erasure report;
//! - IC cards: loss reported → invalidated within hours → replaced;
//! - PC changes: 様式7 request → grant → software installed or
//!   configuration changed;
//! - terminal sessions on business days within 08:30–17:15, some overtime
//!   under a 様式10 approval;
//! - monthly 様式5 plans by the 20th and 様式6 plans by the month's end;
//! - incidents from discovery through 様式8 report and escalation to
//!   closure; media disposal after permission with a recorded erasure;
//! - audits (ordered, an auditor from another department assigned, plan,
//!   conduct, findings raised → instructed → remediated → closed, report),
//!   self-inspections, training, exceptions, access-log reviews and nightly
//!   backups; systems registered, staff hired and departing;
//! - departments and sections registered before the first day's work,
//!   offices secured after every business day, and the computer room
//!   entered by the staff permitted to (see `premises`);
//! - every other type of the catalogue from its example (see `generic`),
//!   so that types added to the catalogue are emitted as soon as they have
//!   an example.
//!
//! Most acts comply. At `violation_rate`, lifecycles break a rule instead,
//! and each such act is listed in [`Generated::violations`] with the
//! regulation reference it breaks ([`ViolationKind`]); when the rate is
//! positive every kind is planted at least once.
//!
//! [`Generated::into_ledger`] appends the quarter through the core's own
//! ledger builder and returns the [`Recorded`] entries every consumer reads.
//!
//! ```
//! use daicho_catalogue::Catalogue;
//! use daicho_synth::{generate, Config};
//!
//! let config = Config { sections: 3, staff_per_section: 4, ..Config::default() };
//! let quarter = generate(&config, Catalogue::embedded());
//! assert!(quarter.events.len() > 1000);
//! let entries = quarter.into_ledger();
//! assert_eq!(entries[0].event.body.event_type.as_str(), "daicho.genesis");
//! ```
//!
//! **Architecture Invariant:** the generator is pure: no I/O, no clock, and
//! no randomness but a SplitMix64 stream seeded from [`Config::seed`], so
//! the same configuration gives the same bytes on every machine. Signing
//! runs in parallel, which cannot change a deterministic Ed25519 signature.

mod calendar;
mod gen;
mod generic;
mod lifecycle;
mod premises;
mod prng;
mod template;
mod world;

use std::collections::HashMap;

use daicho_catalogue::Catalogue;
use daicho_core::entry::Recorded;
use daicho_core::event::{Actor, EventId, EventType, Label, SignedEvent, UnsignedEvent};
use daicho_core::keys::{NoteSigner, NoteVerifier, PublicKey};
use daicho_core::ledger::{genesis_event, Ledger};
use daicho_core::registry::{KeyRegistration, KeyRole, KEY_REGISTERED};
use daicho_core::timestamp::{OccurredAt, RecordedAt};
use daicho_core::Digest;
use rayon::prelude::*;
use serde::Serialize;

use crate::gen::{Draft, Gen};
use crate::prng::Rng;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// Everything random derives from this.
    pub seed: u64,
    /// The fiscal year (April to March), named by the year it begins in.
    pub fiscal_year: i32,
    /// 1 = April–June, 2 = July–September, 3 = October–December,
    /// 4 = January–March.
    pub quarter: u8,
    /// Number of sections (課); departments hold three each. At least 2.
    pub sections: usize,
    /// Staff per section. At least 3: the first holds the section's
    /// 情報管理者 role and the next two may hold central roles.
    pub staff_per_section: usize,
    /// The share of lifecycle instances that break the rule they are
    /// subject to (e.g. 0.05). At 0, nothing is planted.
    pub violation_rate: f64,
    /// Multiplies activity: 1 is a realistic quarter, `n` has about `n`
    /// times the sessions, take-outs, incidents and other acts.
    pub scale: usize,
}

impl Default for Config {
    /// A mid-sized quarter: FY2026 Q1, 12 sections of 8 staff, 5 %
    /// violations, realistic activity (about 15,000 events).
    fn default() -> Config {
        Config {
            seed: 1,
            fiscal_year: 2026,
            quarter: 1,
            sections: 12,
            staff_per_section: 8,
            violation_rate: 0.05,
            scale: 1,
        }
    }
}

/// A rule a generated act breaks on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// A USB memory taken out under an approval of an earlier fiscal year.
    UsbWithoutCurrentApproval,
    /// A 様式12 approval given by the 情報管理者, not the network administrator.
    ApprovalByWrongRole,
    /// An IC card invalidated days after its loss was reported.
    LateCardInvalidation,
    /// A terminal session outside 08:30–17:15 without a 様式10 approval.
    SessionOutsideHours,
    /// Software installed or configuration changed without a 様式7 approval.
    ChangeWithoutApproval,
    /// A medium disposed of without permission and without an irrecoverable
    /// erasure.
    DisposalWithoutErasure,
    /// A 様式5 processing plan submitted after the 20th.
    LateProcessingPlan,
    /// A 様式6 operation plan submitted after the month's end.
    LateOperationPlan,
    /// An auditor from the audited department.
    AuditorNotIndependent,
    /// An audit finding instructed but never remediated nor closed.
    FindingLeftOpen,
    /// A USB memory taken out and never returned or erased.
    UsbNotReturned,
    /// An incident closed a second time: an inconsistent record.
    SecondIncidentClosure,
    /// A section's office with no record of being secured after one
    /// business day's work; the planted event is the section's
    /// `section.established`, the subject the section and the day.
    OfficeLeftUnsecured,
    /// An office secured with its terminals left out of storage.
    TerminalsNotStored,
    /// A member of staff entering the computer room after their permission
    /// was withdrawn.
    EntryWithoutPermission,
}

impl ViolationKind {
    /// Every kind.
    pub const ALL: [ViolationKind; 15] = [
        ViolationKind::UsbWithoutCurrentApproval,
        ViolationKind::ApprovalByWrongRole,
        ViolationKind::LateCardInvalidation,
        ViolationKind::SessionOutsideHours,
        ViolationKind::ChangeWithoutApproval,
        ViolationKind::DisposalWithoutErasure,
        ViolationKind::LateProcessingPlan,
        ViolationKind::LateOperationPlan,
        ViolationKind::AuditorNotIndependent,
        ViolationKind::FindingLeftOpen,
        ViolationKind::UsbNotReturned,
        ViolationKind::SecondIncidentClosure,
        ViolationKind::OfficeLeftUnsecured,
        ViolationKind::TerminalsNotStored,
        ViolationKind::EntryWithoutPermission,
    ];

    /// The paragraph the act breaks when it is an event of `event_type`: a
    /// configuration change without 様式7 breaks 第19条第3項, software
    /// installed without it 第18条第3項.
    pub fn reference_for(self, event_type: &str) -> &'static str {
        match (self, event_type) {
            (ViolationKind::ChangeWithoutApproval, "configuration.changed") => "19-3",
            _ => self.reference(),
        }
    }

    /// The paragraph of the regulation the act breaks, as the catalogue
    /// writes references (`37-1` = 第37条第1項).
    pub fn reference(self) -> &'static str {
        match self {
            ViolationKind::UsbWithoutCurrentApproval | ViolationKind::ApprovalByWrongRole => "37-1",
            ViolationKind::LateCardInvalidation => "17-2",
            ViolationKind::SessionOutsideHours => "24-6",
            ViolationKind::ChangeWithoutApproval => "18-3",
            ViolationKind::DisposalWithoutErasure => "36-1",
            ViolationKind::LateProcessingPlan => "13-1",
            ViolationKind::LateOperationPlan => "13-2",
            ViolationKind::AuditorNotIndependent => "77-1",
            ViolationKind::FindingLeftOpen => "81-1",
            ViolationKind::UsbNotReturned => "37-4",
            // The lifecycle of an incident has one closure; the record is
            // inconsistent rather than in breach of a paragraph.
            ViolationKind::SecondIncidentClosure => "21",
            ViolationKind::OfficeLeftUnsecured => "24-1",
            ViolationKind::TerminalsNotStored => "24-2",
            ViolationKind::EntryWithoutPermission => "26-1",
        }
    }
}

/// One act that breaks a rule on purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlantedViolation {
    /// What is wrong.
    pub kind: ViolationKind,
    /// The regulation reference it breaks, e.g. `37-1`.
    pub reference: &'static str,
    /// The subject's id: an application, ledger entry, card, session,
    /// asset, plan, audit, finding or incident id.
    pub subject: String,
    /// The event that breaks the rule.
    pub event_id: EventId,
    /// Its type.
    pub event_type: String,
}

/// A source system's key.
#[derive(Debug, Clone)]
pub struct SourceKey {
    /// The source's name, which is also the key's name.
    pub source: String,
    /// The Ed25519 seed, derived from the configuration's seed.
    pub seed: [u8; 32],
    /// The event types the key is registered to sign.
    pub types: Vec<String>,
}

impl SourceKey {
    /// The signer.
    pub fn signer(&self) -> NoteSigner {
        NoteSigner::from_seed(&self.source, self.seed).expect("source names are valid key names")
    }
}

/// A generated quarter.
#[derive(Debug, Clone)]
pub struct Generated {
    /// What it was generated from.
    pub config: Config,
    /// The ledger's key (signs the genesis and checkpoints).
    pub ledger_key: NoteSigner,
    /// The administrator key named by the genesis.
    pub admin: NoteSigner,
    /// The genesis event.
    pub genesis: SignedEvent,
    /// The source systems' keys.
    pub keys: Vec<SourceKey>,
    /// One `daicho.key.registered` per source key, to be signed by `admin`.
    pub registrations: Vec<UnsignedEvent>,
    /// The quarter's events in `occurred_at` order, each signed by its
    /// source's key.
    pub events: Vec<SignedEvent>,
    /// What was planted, in event order.
    pub violations: Vec<PlantedViolation>,
}

/// The origin of every generated ledger (and its ledger key's name).
pub const ORIGIN: &str = "kameoka.example/daicho/synth";

/// Which source system records which types, by the type's first segment;
/// the information policy section's workflow system records the rest.
const SOURCES: [(&str, &[&str]); 4] = [
    (
        "jinji-system",
        &["staff", "department", "section", "organisation", "user_id"],
    ),
    (
        "shisan-kanri",
        &[
            "usb",
            "pc_change",
            "software",
            "configuration",
            "equipment",
            "media",
            "asset",
            "asset_provision",
            "mfp",
            "ic_card",
            "eol_software",
        ],
    ),
    (
        "tanmatsu-kanshi",
        &[
            "terminal",
            "terminal_overtime",
            "privileged_session",
            "access_log",
            "backup",
            "monitoring",
            "clock_sync",
            "antivirus",
            "malware",
            "intrusion",
        ],
    ),
    (
        "kansa-jimukyoku",
        &["audit", "self_inspection", "improvement"],
    ),
];
const DEFAULT_SOURCE: &str = "joho-seisaku";

fn source_of(event_type: &str) -> usize {
    let head = event_type.split('.').next().unwrap_or_default();
    SOURCES
        .iter()
        .position(|(_, heads)| heads.contains(&head))
        .unwrap_or(SOURCES.len())
}

fn key_seed(seed: u64, name: &str) -> [u8; 32] {
    let mut data = b"daicho-synth key\n".to_vec();
    data.extend_from_slice(&seed.to_le_bytes());
    data.extend_from_slice(name.as_bytes());
    Digest::of(&data).0
}

fn label(text: &str) -> Label {
    Label::parse(text).expect("generated labels are valid")
}

fn occurred(moment: i64) -> OccurredAt {
    OccurredAt::parse(&calendar::timestamp(moment)).expect("generated timestamps are valid")
}

fn event_id(rng: &mut Rng, moment: i64) -> EventId {
    let millis = moment as u64 * 1000 + rng.below(1000);
    EventId::time_ordered(millis, rng.bytes10())
}

/// Generates a quarter from `config` against `catalogue`.
pub fn generate(config: &Config, catalogue: &Catalogue) -> Generated {
    let mut g = Gen::new(config, catalogue);
    lifecycle::master_data(&mut g);
    lifecycle::ic_cards(&mut g);
    lifecycle::usb(&mut g);
    lifecycle::pc_changes(&mut g);
    lifecycle::sessions(&mut g);
    lifecycle::monthly_plans(&mut g);
    lifecycle::incidents(&mut g);
    lifecycle::media_disposal(&mut g);
    lifecycle::audits(&mut g);
    lifecycle::self_inspections(&mut g);
    lifecycle::training(&mut g);
    lifecycle::exceptions(&mut g);
    lifecycle::operations(&mut g);
    premises::premises(&mut g);
    generic::rest(&mut g);

    let mut id_rng = Rng::new(config.seed).fork(3);
    let ledger_key =
        NoteSigner::from_seed(ORIGIN, key_seed(config.seed, ORIGIN)).expect("a valid key name");
    let admin = NoteSigner::from_seed("admin", key_seed(config.seed, "admin")).expect("valid");
    let mut keys: Vec<SourceKey> = SOURCES
        .iter()
        .map(|(name, _)| *name)
        .chain([DEFAULT_SOURCE])
        .map(|name| SourceKey {
            source: name.to_owned(),
            seed: key_seed(config.seed, name),
            types: Vec::new(),
        })
        .collect();
    for summary in catalogue.event_types() {
        keys[source_of(summary.name.as_str())]
            .types
            .push(summary.name.to_string());
    }
    keys.retain(|k| !k.types.is_empty());

    let eve = calendar::at(g.quarter.first.previous_day().expect("in range"), 17, 0);
    let genesis = genesis_event(
        &ledger_key,
        admin.public_key(),
        label("admin"),
        event_id(&mut id_rng, eve),
        occurred(eve),
    );
    let registrations = keys
        .iter()
        .map(|k| {
            let signer = k.signer();
            let payload = KeyRegistration {
                key_id: signer.key_id(),
                public_key: signer.public_key(),
                source: label(&k.source),
                role: KeyRole::Source,
                types: k
                    .types
                    .iter()
                    .map(|t| EventType::parse(t).expect("catalogue types are valid"))
                    .collect(),
            };
            let serde_json::Value::Object(payload) =
                serde_json::to_value(payload).expect("a registration serialises")
            else {
                unreachable!("a struct serialises to an object")
            };
            UnsignedEvent {
                event_id: event_id(&mut id_rng, eve + 60),
                event_type: EventType::parse(KEY_REGISTERED).expect("valid"),
                schema_version: 1,
                occurred_at: occurred(eve + 60),
                actor: Actor {
                    id: label("admin"),
                    role: label("administrator"),
                },
                source: label("admin"),
                payload,
                key_id: admin.key_id(),
            }
        })
        .collect();

    let mut drafts = std::mem::take(&mut g.drafts);
    drafts.sort_by_key(|d| (d.at, d.order));
    let ids: Vec<EventId> = drafts.iter().map(|d| event_id(&mut id_rng, d.at)).collect();
    let signers: Vec<NoteSigner> = keys.iter().map(SourceKey::signer).collect();
    let key_of: HashMap<usize, usize> = SOURCES
        .iter()
        .map(|(name, _)| *name)
        .chain([DEFAULT_SOURCE])
        .enumerate()
        .filter_map(|(i, name)| keys.iter().position(|k| k.source == name).map(|k| (i, k)))
        .collect();
    let violations = drafts
        .iter()
        .zip(&ids)
        .filter_map(|(d, id)| {
            d.planted.as_ref().map(|(kind, subject)| PlantedViolation {
                kind: *kind,
                reference: kind.reference_for(&d.event_type),
                subject: subject.clone(),
                event_id: id.clone(),
                event_type: d.event_type.clone(),
            })
        })
        .collect();
    let events = drafts
        .into_par_iter()
        .zip(ids)
        .map(|(d, id)| {
            let signer = &signers[key_of[&source_of(&d.event_type)]];
            sign(d, id, signer)
        })
        .collect();
    Generated {
        config: config.clone(),
        ledger_key,
        admin,
        genesis,
        keys,
        registrations,
        events,
        violations,
    }
}

fn sign(d: Draft, event_id: EventId, signer: &NoteSigner) -> SignedEvent {
    UnsignedEvent {
        event_id,
        event_type: EventType::parse(&d.event_type).expect("catalogue types are valid"),
        schema_version: d.version,
        occurred_at: occurred(d.at),
        actor: Actor {
            id: label(&d.actor_id),
            role: label(&d.role),
        },
        source: label(signer.verifier().name()),
        payload: d.payload,
        key_id: signer.key_id(),
    }
    .sign(signer)
}

impl Generated {
    /// The key an auditor trusts to verify the ledger.
    pub fn ledger_verifier(&self) -> NoteVerifier {
        self.ledger_key.verifier().clone()
    }

    /// The quarter as a ledger, appended through the core's ledger builder
    /// (`Ledger::create`, `begin`, `append`, `finish`, `commit`): the
    /// genesis, the key registrations in one batch, then the events in
    /// batches of one minute of `occurred_at`, each recorded at the end of
    /// its minute.
    pub fn into_ledger(self) -> Vec<Recorded> {
        let micros = |moment: i64| {
            RecordedAt::from_unix_micros(moment * 1_000_000).expect("generated times are in range")
        };
        let eve = self.genesis.body.occurred_at.instant().unix_timestamp();
        let (mut ledger, first) =
            Ledger::create(self.genesis, micros(eve + 1)).expect("a valid genesis");
        let mut out = Vec::with_capacity(self.events.len() + self.registrations.len() + 1);
        out.push(first);
        let mut batch = ledger.begin(micros(eve + 61));
        for registration in self.registrations {
            batch
                .append(registration.sign(&self.admin), None)
                .expect("registrations by the genesis administrator are valid");
        }
        let staged = batch.finish();
        out.extend(ledger.commit(staged));

        // The signatures were just made with these keys, so the builder
        // may skip verifying them again; `Ledger::replay` checks them all.
        let known: HashMap<_, PublicKey> = self
            .keys
            .iter()
            .map(|k| {
                let signer = k.signer();
                (signer.key_id(), signer.public_key())
            })
            .collect();
        let mut events = self.events.into_iter().peekable();
        while let Some(event) = events.next() {
            let minute = event
                .body
                .occurred_at
                .instant()
                .unix_timestamp()
                .div_euclid(60);
            let mut batch = ledger.begin(micros((minute + 1) * 60));
            let mut next = Some(event);
            while let Some(event) = next {
                let key = known.get(&event.body.key_id);
                batch
                    .append(event, key)
                    .expect("generated events are signed by registered keys");
                next = events.next_if(|e| {
                    e.body.occurred_at.instant().unix_timestamp().div_euclid(60) == minute
                });
            }
            let staged = batch.finish();
            out.extend(ledger.commit(staged));
        }
        out
    }
}
