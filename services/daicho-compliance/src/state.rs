//! Projections: current state folded from the ledger's entries.
//!
//! [`State::apply`] takes one recorded entry at a time, in seq order, and
//! never reads anything else, so the state after the first N entries is the
//! same whether it was rebuilt at start or kept current as entries were
//! committed. Every projection is a view over the facts and indexes held
//! here; the rules read the same facts.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use daicho_catalogue::Catalogue;
use daicho_core::entry::Recorded;
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::calendar::JST;
use crate::datum::{Datum, Interner, Payload};

/// One recorded act as the rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// The entry's position.
    pub seq: u64,
    /// The event type.
    pub event_type: Arc<str>,
    /// The payload's schema version.
    pub schema_version: u32,
    /// When the act happened, in Asia/Tokyo.
    pub occurred_at: OffsetDateTime,
    /// When the ledger recorded it.
    pub recorded_at: OffsetDateTime,
    /// Who acted.
    pub actor_id: Arc<str>,
    /// The role they acted in.
    pub actor_role: Arc<str>,
    /// The source system that signed it.
    pub source: Arc<str>,
    /// The payload, an object.
    pub payload: Payload,
}

impl Fact {
    /// The text at a JSON pointer into the payload (a string, or a number
    /// written as text).
    pub fn text(&self, pointer: &str) -> Option<String> {
        self.text_ref(pointer).map(Cow::into_owned)
    }

    /// [`Fact::text`] without a copy when the value is a string.
    pub fn text_ref(&self, pointer: &str) -> Option<Cow<'_, str>> {
        self.value(pointer)?.text()
    }

    /// The value at a JSON pointer into the payload; `None` for the empty
    /// pointer, which names the payload itself rather than a member.
    pub fn value(&self, pointer: &str) -> Option<Datum<'_>> {
        if pointer.is_empty() {
            return None;
        }
        self.payload.pointer(pointer)
    }
}

/// An application on a numbered form or for an approval without one: the
/// lifecycle `<stem>.approval.requested | granted | denied | withdrawn |
/// expired`, with `<stem>.consent.given | refused`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Application {
    /// The application number.
    pub application_id: String,
    /// The type stem (`usb`, `data_output`, …).
    pub stem: String,
    /// The form (様式) the catalogue ties the stem's types to, if any.
    pub form: Option<u32>,
    /// Where it stands now.
    pub status: ApplicationStatus,
    /// The facts of its lifecycle, by their index in [`State::facts`].
    #[serde(skip)]
    pub requested: Option<usize>,
    /// The grant.
    #[serde(skip)]
    pub granted: Option<usize>,
    /// A denial, withdrawal or expiry.
    #[serde(skip)]
    pub ended: Option<usize>,
    /// Consents given.
    #[serde(skip)]
    pub consents: Vec<usize>,
    /// Consents refused.
    #[serde(skip)]
    pub refusals: Vec<usize>,
    /// The seqs of every event of this application, in order.
    pub seqs: Vec<u64>,
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Applied for, not decided.
    #[default]
    Requested,
    /// Granted.
    Granted,
    /// Denied.
    Denied,
    /// Withdrawn by the applicant.
    Withdrawn,
    /// Past its validity.
    Expired,
}

/// A member of staff as the organisation's records show them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    /// Their section (課等) code.
    pub section: Option<String>,
    /// Their department (部等) code.
    pub department: Option<String>,
    /// Employment kind, as recorded.
    pub employment: Option<String>,
    /// Whether they have left.
    pub departed: bool,
    /// The seqs of the events about them.
    pub seqs: Vec<u64>,
}

/// A device, medium or information asset, by its id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Asset {
    /// The kind, as recorded (`pc`, `usb_memory`, …).
    pub kind: Option<String>,
    /// Who holds it now (a staff id), if assigned.
    pub holder: Option<String>,
    /// Its classification (I, II, III), if recorded.
    pub classification: Option<String>,
    /// Whether it was disposed of or retired.
    pub disposed: bool,
    /// The type of its latest event.
    pub last_event: String,
    /// The seqs of the events about it.
    pub seqs: Vec<u64>,
}

/// The folded state of the ledger.
#[derive(Debug, Clone, Default)]
pub struct State {
    size: u64,
    facts: Vec<Fact>,
    by_type: FxHashMap<Arc<str>, Vec<usize>>,
    interned: Interner,
    applications: BTreeMap<String, Application>,
    staff: BTreeMap<String, StaffMember>,
    sections: BTreeMap<String, Option<String>>,
    assets: BTreeMap<String, Asset>,
    sources: BTreeMap<String, Vec<u64>>,
    forms_by_type: BTreeMap<String, u32>,
}

/// Pointers at which a payload names a device, medium or asset, its kind
/// and its classification (empty where the payload has none).
const ASSET_POINTERS: [(&str, &str, &str); 4] = [
    ("/device/asset_id", "/device/kind", "/device/classification"),
    ("/asset/asset_id", "/asset/kind", "/asset/classification"),
    ("/media/media_id", "/media/kind", "/media/classification"),
    ("/card_id", "", ""),
];

impl State {
    /// An empty state that names forms after `catalogue`.
    pub fn new(catalogue: &Catalogue) -> State {
        let mut forms_by_type = BTreeMap::new();
        for form in catalogue.forms() {
            for t in &form.event_types {
                forms_by_type.entry(t.clone()).or_insert(form.number);
            }
        }
        State {
            forms_by_type,
            ..State::default()
        }
    }

    /// Folds the first entries of `entries` into a new state.
    pub fn fold<'a>(
        catalogue: &Catalogue,
        entries: impl IntoIterator<Item = &'a Recorded>,
    ) -> State {
        let mut state = State::new(catalogue);
        for e in entries {
            state.apply(e);
        }
        state
    }

    /// Number of entries folded in: the state is as of this ledger size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Every fact, in seq order.
    pub fn facts(&self) -> &[Fact] {
        &self.facts
    }

    /// The facts of one event type, in seq order.
    pub fn of_type<'a>(&'a self, event_type: &str) -> impl Iterator<Item = &'a Fact> + 'a {
        self.by_type
            .get(event_type)
            .into_iter()
            .flatten()
            .map(|&i| &self.facts[i])
    }

    /// The facts of several event types, in seq order.
    pub fn of_types<'a>(&'a self, types: &[String]) -> Vec<&'a Fact> {
        if let [only] = types {
            return self.of_type(only).collect();
        }
        let mut idx: Vec<usize> = types
            .iter()
            .filter_map(|t| self.by_type.get(t.as_str()))
            .flatten()
            .copied()
            .collect();
        idx.sort_unstable();
        idx.into_iter().map(|i| &self.facts[i]).collect()
    }

    /// The application with this number.
    pub fn application(&self, id: &str) -> Option<&Application> {
        self.applications.get(id)
    }

    /// All applications, by number.
    pub fn applications(&self) -> &BTreeMap<String, Application> {
        &self.applications
    }

    /// The fact at an index of [`State::facts`].
    pub fn fact(&self, index: usize) -> &Fact {
        &self.facts[index]
    }

    /// The staff records, by staff id.
    pub fn staff(&self) -> &BTreeMap<String, StaffMember> {
        &self.staff
    }

    /// The assets, by id.
    pub fn assets(&self) -> &BTreeMap<String, Asset> {
        &self.assets
    }

    fn intern(&mut self, s: &str) -> Arc<str> {
        self.interned.get(s)
    }

    /// Folds in the next entry. Entries must come in seq order, each once;
    /// an entry out of order is ignored, so that the state stays the fold
    /// of a prefix of the ledger.
    pub fn apply(&mut self, recorded: &Recorded) {
        if recorded.entry.seq != self.size {
            return;
        }
        self.size += 1;
        let body = &recorded.event.body;
        let event_type = self.intern(body.event_type.as_str());
        let fact = Fact {
            seq: recorded.entry.seq,
            event_type: event_type.clone(),
            schema_version: body.schema_version,
            occurred_at: body.occurred_at.instant().to_offset(JST),
            recorded_at: recorded.entry.recorded_at.instant().to_offset(JST),
            actor_id: self.intern(body.actor.id.as_str()),
            actor_role: self.intern(body.actor.role.as_str()),
            source: self.intern(body.source.as_str()),
            payload: Payload::from_map(&body.payload),
        };
        let index = self.facts.len();
        self.by_type
            .entry(event_type.clone())
            .or_default()
            .push(index);
        self.sources
            .entry(body.source.as_str().to_owned())
            .or_default()
            .push(fact.seq);
        self.fold_application(&fact, index);
        self.fold_organisation(&fact);
        self.fold_assets(&fact);
        self.facts.push(fact);
    }

    fn fold_application(&mut self, fact: &Fact, index: usize) {
        let t: &str = &fact.event_type;
        let Some((stem, step)) = t
            .split_once(".approval.")
            .or_else(|| t.split_once(".consent."))
        else {
            return;
        };
        let Some(id) = fact.text("/application_id") else {
            return;
        };
        let form = self.forms_by_type.get(t).copied();
        let app = self
            .applications
            .entry(id.clone())
            .or_insert_with(|| Application {
                application_id: id,
                stem: stem.to_owned(),
                ..Application::default()
            });
        app.form = app.form.or(form);
        app.seqs.push(fact.seq);
        let consent = t.contains(".consent.");
        match (consent, step) {
            (false, "requested") => {
                app.requested.get_or_insert(index);
            }
            (false, "granted") => {
                app.granted.get_or_insert(index);
                if app.ended.is_none() {
                    app.status = ApplicationStatus::Granted;
                }
            }
            (false, "denied" | "withdrawn" | "expired") => {
                app.ended.get_or_insert(index);
                app.status = match step {
                    "denied" => ApplicationStatus::Denied,
                    "withdrawn" => ApplicationStatus::Withdrawn,
                    _ => ApplicationStatus::Expired,
                };
            }
            (true, "given") => app.consents.push(index),
            (true, "refused") => app.refusals.push(index),
            _ => {}
        }
    }

    fn fold_organisation(&mut self, fact: &Fact) {
        if let Some(code) = fact.text("/section/code") {
            let department = fact.text("/section/department/code");
            let known = self.sections.entry(code).or_default();
            if department.is_some() {
                *known = department;
            }
        }
        let Some(staff_id) = fact.text("/staff/staff_id") else {
            return;
        };
        let t: &str = &fact.event_type;
        let member = self.staff.entry(staff_id).or_default();
        member.seqs.push(fact.seq);
        for p in ["/staff/section", "/to_section", "/to"] {
            let Some(unit) = fact.value(p) else {
                continue;
            };
            if let Some(s) = unit.get("code").and_then(|c| c.text()) {
                member.section = Some(s.into_owned());
                member.department = unit
                    .pointer("/department/code")
                    .and_then(|c| c.text())
                    .map(Cow::into_owned)
                    .or(member.department.take());
            }
        }
        if let Some(e) = fact
            .text("/staff/employment")
            .or_else(|| fact.text("/employment"))
        {
            member.employment = Some(e);
        }
        match t {
            "staff.departed" => member.departed = true,
            "staff.hired" => member.departed = false,
            _ => {}
        }
    }

    fn fold_assets(&mut self, fact: &Fact) {
        let t: &str = &fact.event_type;
        for (id_pointer, kind_pointer, class_pointer) in ASSET_POINTERS {
            let Some(id) = fact.text(id_pointer) else {
                continue;
            };
            let asset = self.assets.entry(id).or_default();
            asset.seqs.push(fact.seq);
            asset.last_event = t.to_owned();
            if !kind_pointer.is_empty() {
                if let Some(kind) = fact.text(kind_pointer) {
                    asset.kind = Some(kind);
                }
            } else if asset.kind.is_none() {
                asset.kind = Some("ic_card".to_owned());
            }
            if let Some(c) = fact
                .text_ref(class_pointer)
                .filter(|c| matches!(&**c, "I" | "II" | "III"))
            {
                asset.classification = Some(c.into_owned());
            }
            if t.ends_with(".disposed") || t.ends_with(".retired") || t.ends_with(".decommissioned")
            {
                asset.disposed = true;
            }
            match t {
                "asset.assigned" => {
                    asset.holder = fact.text("/holder/staff_id");
                }
                "asset.unassigned" => asset.holder = None,
                // A member of staff who leaves gives back what they held
                // (第14条第8号); an asset back from a carry-out stays theirs.
                "asset.returned" if fact.text_ref("/reason").as_deref() == Some("departure") => {
                    asset.holder = None;
                }
                _ => {}
            }
        }
    }

    /// A named projection as JSON, for `GET /v1/state/{projection}`; `None`
    /// for an unknown name. See [`PROJECTIONS`].
    pub fn projection(&self, name: &str) -> Option<Value> {
        let value = match name {
            "applications" => serde_json::to_value(&self.applications),
            "staff" => serde_json::to_value(&self.staff),
            "sections" => serde_json::to_value(&self.sections),
            "assets" => serde_json::to_value(&self.assets),
            "sources" => serde_json::to_value(
                self.sources
                    .iter()
                    .map(|(k, v)| (k.clone(), v.len()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            "event_types" => serde_json::to_value(
                self.by_type
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.len()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            _ => return None,
        };
        Some(serde_json::json!({
            "projection": name,
            "as_of": self.size,
            "state": value.expect("projections serialise"),
        }))
    }
}

/// The projections [`State::projection`] serves.
pub const PROJECTIONS: [&str; 6] = [
    "applications",
    "assets",
    "event_types",
    "sections",
    "sources",
    "staff",
];
