//! Staging one group of requests on the in-memory ledger: which events are
//! new, which are retries the ledger already holds, which are refused.
//!
//! This is a pure function of the ledger, the time and what the database
//! holds of the group's event ids, so that the writer does the database
//! work around it and the tests check it without one.

use std::collections::HashMap;

use daicho_core::entry::Entry;
use daicho_core::event::{EventId, HashedEvent, SignedEvent};
use daicho_core::keys::PublicKey;
use daicho_core::ledger::{Batch, Ledger, Staged};
use daicho_core::registry::{RegistryError, KEY_REGISTERED, KEY_REVOKED};
use daicho_core::timestamp::RecordedAt;
use daicho_core::Digest;

use super::error::AppendError;
use super::Answer;

/// One request of a group: its events, each with the key its signature was
/// already verified with (or `None`).
pub(super) type Body = (Vec<HashedEvent>, Vec<Option<PublicKey>>);

/// Where a receipt's entry comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Slot {
    /// Already in the database before this group.
    Stored(Entry, Digest),
    /// Staged in this group, at this index of the staged entries.
    Staged(usize),
}

/// What became of one request: a slot per event, or the refusal of the
/// whole request.
pub(super) type Plan = Result<Vec<Slot>, AppendError>;

/// A staged group: one plan per request, in order, and the entries to
/// write.
pub(super) struct StagedGroup {
    /// One plan per request.
    pub(super) plans: Vec<Plan>,
    /// The new entries of every request that was not refused.
    pub(super) staged: Staged,
}

/// Whether an event changes the key registry.
pub(super) fn changes_registry(event: &SignedEvent) -> bool {
    matches!(event.body.event_type.as_str(), KEY_REGISTERED | KEY_REVOKED)
}

/// Stages every request of `group` on one batch of `ledger` at `now`.
///
/// An event whose id `stored` knows is a retry when its hash matches (it
/// gets the stored entry) and a conflict otherwise; so is an event whose id
/// an earlier request of the group staged. Each request stages behind a
/// savepoint: a refusal rolls back that request alone, and its ids are free
/// again for the requests after it. Registry events take effect for the
/// events staged after them.
pub(super) fn stage<'s>(
    ledger: &Ledger,
    now: RecordedAt,
    group: Vec<Body>,
    stored: impl Fn(&EventId) -> Option<(&'s Entry, Digest)>,
) -> StagedGroup {
    let mut batch = ledger.begin(now);
    // Event ids staged by this group, with their event hash and index, so
    // that a repeat within the group is a replay too.
    let mut in_group: HashMap<EventId, (Digest, usize)> = HashMap::new();
    let mut plans = Vec::with_capacity(group.len());
    for (events, verified_with) in group {
        let savepoint = batch.savepoint();
        let mut added = Vec::new();
        let mut slots = Vec::with_capacity(events.len());
        let mut refusal = None;
        let mut keys = verified_with.into_iter();
        for event in events {
            let key = keys.next().flatten();
            let id = event.event().body.event_id.clone();
            if let Some((entry, hash)) = stored(&id) {
                if entry.event_hash == event.hash() {
                    slots.push(Slot::Stored(entry.clone(), hash));
                    continue;
                }
                refusal = Some(reused_id(&batch, &event, key.as_ref()));
                break;
            }
            if let Some(&(hash, index)) = in_group.get(&id) {
                if hash == event.hash() {
                    slots.push(Slot::Staged(index));
                    continue;
                }
                refusal = Some(reused_id(&batch, &event, key.as_ref()));
                break;
            }
            match batch.append_hashed(event, key.as_ref()) {
                Ok(a) => {
                    let event_hash = a.entry.event_hash;
                    let index = batch.len() - 1;
                    in_group.insert(id.clone(), (event_hash, index));
                    added.push(id);
                    slots.push(Slot::Staged(index));
                }
                Err(e) => {
                    refusal = Some(AppendError::Rejected(e));
                    break;
                }
            }
        }
        match refusal {
            Some(e) => {
                batch.rollback(savepoint);
                for id in added {
                    in_group.remove(&id);
                }
                plans.push(Err(e));
            }
            None => plans.push(Ok(slots)),
        }
    }
    StagedGroup {
        plans,
        staged: batch.finish(),
    }
}

/// The refusal of an event whose id is taken by other content: a conflict
/// only if the registry authorises the event and its signature holds
/// (`verified_with` is the key the door already verified it with), so that
/// a forged envelope is refused as forged whether or not its id exists and
/// tells nobody which ids the ledger holds.
fn reused_id(
    batch: &Batch<'_>,
    event: &HashedEvent,
    verified_with: Option<&PublicKey>,
) -> AppendError {
    let e = event.event();
    match batch.registry().authorize(e) {
        Err(r) => AppendError::Rejected(r),
        Ok(rec)
            if verified_with != Some(&rec.public_key)
                && !rec
                    .public_key
                    .verify(&event.signing_message(), &e.signature.0) =>
        {
            AppendError::Rejected(RegistryError::BadSignature(e.body.key_id.clone()))
        }
        Ok(_) => AppendError::Conflict(e.body.event_id.clone()),
    }
}

/// The answer to each request once the group is committed: its entries
/// (from the store, or the staged ones in `new_entries`), the committed
/// `size` and its checkpoint `note`, and how many entries it added (an
/// event staged twice in the request counts once).
pub(super) fn answers(
    plans: Vec<Plan>,
    new_entries: &[(Entry, Digest)],
    size: u64,
    note: &str,
) -> Vec<Result<Answer, AppendError>> {
    plans
        .into_iter()
        .map(|plan| {
            plan.map(|slots| {
                let mut added: Vec<usize> = slots
                    .iter()
                    .filter_map(|s| match s {
                        Slot::Staged(i) => Some(*i),
                        Slot::Stored(..) => None,
                    })
                    .collect();
                added.sort_unstable();
                added.dedup();
                let entries = slots
                    .into_iter()
                    .map(|slot| match slot {
                        Slot::Stored(entry, hash) => (entry, hash),
                        Slot::Staged(i) => new_entries[i].clone(),
                    })
                    .collect();
                Answer {
                    entries,
                    size,
                    note: note.to_owned(),
                    appended: added.len() as u64,
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use daicho_core::entry::Recorded;
    use daicho_core::event::{Actor, EventType, Label, UnsignedEvent};
    use daicho_core::keys::NoteSigner;
    use daicho_core::ledger::genesis_event;
    use daicho_core::registry::{KeyRegistration, KeyRevocation, KeyRole, RegistryError};
    use daicho_core::timestamp::OccurredAt;

    use super::*;

    const NOW: i64 = 1_775_000_000_000_000;

    struct Keys {
        ledger: NoteSigner,
        admin: NoteSigner,
        source: NoteSigner,
    }

    fn keys() -> Keys {
        Keys {
            ledger: NoteSigner::from_seed("kameoka.example/daicho", [1; 32]).unwrap(),
            admin: NoteSigner::from_seed("admin", [2; 32]).unwrap(),
            source: NoteSigner::from_seed("juki", [3; 32]).unwrap(),
        }
    }

    fn now() -> RecordedAt {
        RecordedAt::from_unix_micros(NOW).unwrap()
    }

    fn id(n: u64) -> EventId {
        let mut b = [0u8; 16];
        // The UUID's version and variant bits are in bytes 6 and 8, so the
        // number goes where nothing overwrites it.
        b[8..].copy_from_slice(&n.to_be_bytes());
        EventId::from_bytes(b)
    }

    fn unsigned(n: u64, event_type: &str, source: &str, signer: &NoteSigner) -> UnsignedEvent {
        UnsignedEvent {
            event_id: id(n),
            event_type: EventType::parse(event_type).unwrap(),
            schema_version: 1,
            occurred_at: OccurredAt::parse("2026-04-01T09:30:00+09:00").unwrap(),
            actor: Actor {
                id: Label::parse("clerk-1").unwrap(),
                role: Label::parse("clerk").unwrap(),
            },
            source: Label::parse(source).unwrap(),
            payload: serde_json::Map::new(),
            key_id: signer.key_id(),
        }
    }

    /// An event numbered `n` signed by `signer` for `source`, with `tag` in
    /// its payload so that two events can share an id and differ.
    fn event_by(n: u64, signer: &NoteSigner, source: &str, tag: &str) -> HashedEvent {
        let mut e = unsigned(n, "resident.record.viewed", source, signer);
        e.payload.insert("tag".into(), serde_json::json!(tag));
        HashedEvent::new(e.sign(signer))
    }

    fn event(k: &Keys, n: u64) -> HashedEvent {
        event_by(n, &k.source, "juki", "")
    }

    fn registration(k: &Keys, n: u64, key: &NoteSigner, source: &str) -> HashedEvent {
        let mut e = unsigned(n, KEY_REGISTERED, "office", &k.admin);
        let r = KeyRegistration {
            key_id: key.key_id(),
            public_key: key.public_key(),
            source: Label::parse(source).unwrap(),
            role: KeyRole::Source,
            types: vec![EventType::parse("resident.record.viewed").unwrap()],
        };
        let serde_json::Value::Object(p) = serde_json::to_value(r).unwrap() else {
            unreachable!()
        };
        e.payload = p;
        HashedEvent::new(e.sign(&k.admin))
    }

    fn revocation(k: &Keys, n: u64, key: &NoteSigner) -> HashedEvent {
        let mut e = unsigned(n, KEY_REVOKED, "office", &k.admin);
        let r = KeyRevocation {
            key_id: key.key_id(),
            reason: "retired".into(),
        };
        let serde_json::Value::Object(p) = serde_json::to_value(r).unwrap() else {
            unreachable!()
        };
        e.payload = p;
        HashedEvent::new(e.sign(&k.admin))
    }

    /// A ledger of the genesis and the source key's registration, and the
    /// entries it holds, as the database would.
    fn ledger(k: &Keys) -> (Ledger, Vec<Recorded>) {
        let genesis = genesis_event(
            &k.ledger,
            k.admin.public_key(),
            Label::parse("office").unwrap(),
            id(1_000_000),
            OccurredAt::parse("2026-04-01T00:00:00Z").unwrap(),
        );
        let (mut ledger, first) = Ledger::create(genesis, now()).unwrap();
        let mut batch = ledger.begin(now());
        batch
            .append_hashed(registration(k, 900_000, &k.source, "juki"), None)
            .unwrap();
        let staged = batch.finish();
        let mut stored = vec![first];
        stored.extend(ledger.commit(staged));
        (ledger, stored)
    }

    /// One request without pre-verified keys.
    fn request(events: Vec<HashedEvent>) -> Body {
        let keys = vec![None; events.len()];
        (events, keys)
    }

    /// Stages `group` on `ledger` with `stored` as the database's entries.
    fn stage_on(ledger: &Ledger, stored: &[Recorded], group: Vec<Body>) -> StagedGroup {
        stage(ledger, now(), group, |id| {
            stored
                .iter()
                .find(|a| &a.event.body.event_id == id)
                .map(|a| (&a.entry, a.hash))
        })
    }

    fn staged_ids(group: &StagedGroup) -> Vec<EventId> {
        group
            .staged
            .entries
            .iter()
            .map(|a| a.event.body.event_id.clone())
            .collect()
    }

    /// The answers as the writer gives them once `group` is committed.
    fn answer(ledger: &Ledger, group: StagedGroup) -> Vec<Result<Answer, AppendError>> {
        let new: Vec<(Entry, Digest)> = group
            .staged
            .entries
            .iter()
            .map(|a| (a.entry.clone(), a.hash))
            .collect();
        let size = ledger.size() + new.len() as u64;
        answers(group.plans, &new, size, "note")
    }

    #[test]
    fn new_events_are_staged_in_order_and_counted() {
        let k = keys();
        let (ledger, stored) = ledger(&k);
        let group = stage_on(
            &ledger,
            &stored,
            vec![
                request(vec![event(&k, 1), event(&k, 2)]),
                request(vec![event(&k, 3)]),
            ],
        );
        assert_eq!(staged_ids(&group), vec![id(1), id(2), id(3)]);
        assert_eq!(
            group.plans[0].as_ref().unwrap(),
            &vec![Slot::Staged(0), Slot::Staged(1)]
        );
        assert_eq!(group.plans[1].as_ref().unwrap(), &vec![Slot::Staged(2)]);
        let seqs: Vec<u64> = group.staged.entries.iter().map(|a| a.entry.seq).collect();
        assert_eq!(seqs, vec![2, 3, 4]);
        let answers = answer(&ledger, group);
        let a = answers[0].as_ref().unwrap();
        assert_eq!((a.appended, a.size, a.entries.len()), (2, 5, 2));
        assert_eq!(a.entries[1].0.seq, 3);
        assert_eq!(answers[1].as_ref().unwrap().appended, 1);
    }

    #[test]
    fn a_retry_of_a_stored_event_is_answered_from_the_store() {
        let k = keys();
        let (ledger, stored) = ledger(&k);
        let registration = registration(&k, 900_000, &k.source, "juki");
        let group = stage_on(
            &ledger,
            &stored,
            vec![request(vec![registration, event(&k, 1)])],
        );
        assert_eq!(staged_ids(&group), vec![id(1)]);
        let slots = group.plans[0].as_ref().unwrap();
        assert_eq!(
            slots[0],
            Slot::Stored(stored[1].entry.clone(), stored[1].hash)
        );
        let answers = answer(&ledger, group);
        let a = answers[0].as_ref().unwrap();
        assert_eq!(a.appended, 1, "the retry is not counted");
        assert_eq!(a.entries[0], (stored[1].entry.clone(), stored[1].hash));
        assert_eq!(a.entries[1].0.seq, 2);
    }

    #[test]
    fn a_request_of_retries_alone_stages_nothing() {
        let k = keys();
        let (ledger, stored) = ledger(&k);
        let group = stage_on(
            &ledger,
            &stored,
            vec![request(vec![registration(&k, 900_000, &k.source, "juki")])],
        );
        assert!(group.staged.entries.is_empty());
        assert_eq!(answer(&ledger, group)[0].as_ref().unwrap().appended, 0);
    }

    #[test]
    fn a_stored_id_with_other_content_refuses_the_request() {
        let k = keys();
        let (ledger, stored) = ledger(&k);
        // Another event under the registration's id.
        let twin = event_by(900_000, &k.source, "juki", "twin");
        let group = stage_on(
            &ledger,
            &stored,
            vec![
                request(vec![event(&k, 1), twin]),
                request(vec![event(&k, 2)]),
            ],
        );
        assert!(
            matches!(&group.plans[0], Err(AppendError::Conflict(i)) if *i == id(900_000)),
            "{:?}",
            group.plans[0]
        );
        assert_eq!(staged_ids(&group), vec![id(2)], "event 1 is rolled back");
        assert_eq!(group.plans[1].as_ref().unwrap(), &vec![Slot::Staged(0)]);
    }

    #[test]
    fn repeats_within_a_request_and_across_requests_are_staged_once() {
        let k = keys();
        let (ledger, stored) = ledger(&k);
        let group = stage_on(
            &ledger,
            &stored,
            vec![
                request(vec![event(&k, 1), event(&k, 1)]),
                request(vec![event(&k, 1), event(&k, 2)]),
            ],
        );
        assert_eq!(staged_ids(&group), vec![id(1), id(2)]);
        assert_eq!(
            group.plans[0].as_ref().unwrap(),
            &vec![Slot::Staged(0), Slot::Staged(0)]
        );
        assert_eq!(
            group.plans[1].as_ref().unwrap(),
            &vec![Slot::Staged(0), Slot::Staged(1)]
        );
        let answers = answer(&ledger, group);
        let first = answers[0].as_ref().unwrap();
        assert_eq!(first.appended, 1, "a repeat within the request counts once");
        assert_eq!(first.entries[0], first.entries[1]);
        assert_eq!(answers[1].as_ref().unwrap().entries[0], first.entries[0]);
    }

    #[test]
    fn one_id_with_two_contents_in_a_group_is_a_conflict() {
        let k = keys();
        let (ledger, stored) = ledger(&k);
        let twin = event_by(1, &k.source, "juki", "twin");
        let group = stage_on(
            &ledger,
            &stored,
            vec![
                request(vec![event(&k, 2), event(&k, 1), twin.clone()]),
                request(vec![event(&k, 1)]),
                request(vec![twin]),
            ],
        );
        assert!(matches!(&group.plans[0], Err(AppendError::Conflict(i)) if *i == id(1)));
        // The refused request's ids are free again for the requests after it.
        assert_eq!(group.plans[1].as_ref().unwrap(), &vec![Slot::Staged(0)]);
        assert!(matches!(&group.plans[2], Err(AppendError::Conflict(i)) if *i == id(1)));
        assert_eq!(staged_ids(&group), vec![id(1)]);
    }

    #[test]
    fn a_rejected_event_stages_nothing_of_its_request() {
        let k = keys();
        let (ledger, stored) = ledger(&k);
        let stranger = NoteSigner::from_seed("stranger", [9; 32]).unwrap();
        let mut forged = unsigned(4, "resident.record.viewed", "juki", &k.source);
        forged
            .payload
            .insert("tag".into(), serde_json::json!("signed"));
        let mut forged = forged.sign(&k.source);
        forged
            .body
            .payload
            .insert("tag".into(), serde_json::json!("changed after signing"));
        let group = stage_on(
            &ledger,
            &stored,
            vec![
                request(vec![event(&k, 1), event_by(2, &stranger, "juki", "")]),
                request(vec![event(&k, 3), HashedEvent::new(forged)]),
                request(vec![event(&k, 1)]),
            ],
        );
        assert!(
            matches!(
                &group.plans[0],
                Err(AppendError::Rejected(RegistryError::UnknownKey(_)))
            ),
            "{:?}",
            group.plans[0]
        );
        assert!(
            matches!(
                &group.plans[1],
                Err(AppendError::Rejected(RegistryError::BadSignature(_)))
            ),
            "{:?}",
            group.plans[1]
        );
        assert_eq!(staged_ids(&group), vec![id(1)]);
        assert_eq!(group.plans[2].as_ref().unwrap(), &vec![Slot::Staged(0)]);
        assert_eq!(group.staged.entries[0].entry.seq, 2);
    }

    #[test]
    fn registry_changes_inside_a_group_take_effect_in_order() {
        let k = keys();
        let (ledger, stored) = ledger(&k);
        let kiosk = NoteSigner::from_seed("kiosk", [7; 32]).unwrap();
        let by_kiosk = |n: u64| event_by(n, &kiosk, "kiosk", "");
        let group = stage_on(
            &ledger,
            &stored,
            vec![
                request(vec![by_kiosk(1)]),
                request(vec![registration(&k, 10, &kiosk, "kiosk")]),
                request(vec![by_kiosk(2)]),
                request(vec![revocation(&k, 11, &kiosk), by_kiosk(3)]),
                request(vec![revocation(&k, 12, &kiosk)]),
                request(vec![by_kiosk(4)]),
            ],
        );
        assert!(matches!(
            &group.plans[0],
            Err(AppendError::Rejected(RegistryError::UnknownKey(_)))
        ));
        assert!(group.plans[1].is_ok() && group.plans[2].is_ok());
        // A revocation and a use of the key after it in one request: the
        // request is refused and the revocation rolled back with it.
        assert!(matches!(
            &group.plans[3],
            Err(AppendError::Rejected(RegistryError::Revoked { .. }))
        ));
        assert!(group.plans[4].is_ok());
        assert!(matches!(
            &group.plans[5],
            Err(AppendError::Rejected(RegistryError::Revoked { .. }))
        ));
        assert_eq!(staged_ids(&group), vec![id(10), id(2), id(12)]);
        assert!(group
            .staged
            .entries
            .iter()
            .map(|a| changes_registry(&a.event))
            .eq([true, false, true]));
    }

    #[test]
    fn every_entry_of_a_group_is_recorded_at_the_clock_reading() {
        let k = keys();
        let (ledger, stored) = ledger(&k);
        let later = RecordedAt::from_unix_micros(NOW + 5).unwrap();
        let group = stage(
            &ledger,
            later,
            vec![request(vec![event(&k, 1)]), request(vec![event(&k, 2)])],
            |id| {
                stored
                    .iter()
                    .find(|a| &a.event.body.event_id == id)
                    .map(|a| (&a.entry, a.hash))
            },
        );
        assert!(group
            .staged
            .entries
            .iter()
            .all(|a| a.entry.recorded_at == later));
    }
}
