//! The door: the checks an event passes before it reaches the sequencer.
//!
//! In order: the payload against the catalogue's schema for its type, the
//! `occurred_at` window around the ledger's clock (the clock the sequencer
//! records entries with, so that both agree on "now"), and the signature
//! against the registry snapshot. They run in the request's own task (a
//! batch's signatures on the check pool), in parallel across requests, so
//! that the one writer does none of this. A refusal on grounds that can
//! change after an event was appended does not hide the original receipt
//! from a submitter retrying the exact bytes: see [`already_appended`].

use daicho_catalogue::Catalogue;
use daicho_core::batch::{BatchVerifier, SignatureCheck};
use daicho_core::event::{HashedEvent, SignedEvent};
use daicho_core::keys::{KeyId, PublicKey};
use daicho_core::registry::LEDGER_KEY_ROTATED;
use daicho_core::registry::{Registry, RegistryError};
use daicho_core::timestamp::RecordedAt;
use serde_json::Value;

use crate::app::{AppState, Limits};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::sequencer::AppendError;

/// Events that passed the door, each with the key its signature was
/// verified with (or `None`: left to the sequencer, or a retry).
#[derive(Debug)]
pub struct Admitted {
    /// The events with their canonical bytes and hashes.
    pub events: Vec<HashedEvent>,
    /// One entry per event.
    pub verified_with: Vec<Option<PublicKey>>,
}

/// The checks that need no registry: the catalogue's schema for the
/// payload (not for the ledger's own `daicho.*` types, which the registry
/// checks) and the `occurred_at` window around `now`.
///
/// A backfill (`POST /v1/events/backfill`, an administrator's) lifts the
/// window's past bound only.
pub fn check_content(
    catalogue: &Catalogue,
    limits: &Limits,
    event: &SignedEvent,
    now: RecordedAt,
    backfill: bool,
) -> ApiResult<()> {
    let b = &event.body;
    if b.event_type.as_str() == LEDGER_KEY_ROTATED {
        // Only the ledger's own key signs a rotation, and only a process
        // that holds the next key can sign the checkpoints after it.
        return Err(ApiError::new(ErrorCode::TypeOutOfScope)
            .detail(
                "the ledger key is rotated on the ledger's host with `daicho key rotate-ledger`, \
                 not over the API",
            )
            .at("/type", "not accepted over the API"));
    }
    if limits.validate_payloads && !b.event_type.is_ledger_type() {
        // The payload is already a map; the catalogue takes a value, and
        // the clone is cheap next to the signature check that follows.
        let payload = Value::Object(b.payload.clone());
        catalogue.validate(
            b.event_type.as_str(),
            b.schema_version,
            b.actor.role.as_str(),
            &payload,
        )?;
    }
    let now = now.instant();
    let at = b.occurred_at.instant();
    let earliest = now - limits.max_past;
    let latest = now + limits.max_future;
    if (at < earliest && !backfill) || at > latest {
        return Err(ApiError::new(ErrorCode::OccurredAtOutOfWindow)
            .detail(format!(
                "occurred_at must lie between {} seconds before and {} seconds after the server's clock",
                limits.max_past.as_secs(),
                limits.max_future.as_secs()
            ))
            .at("/occurred_at", "outside the accepted window"));
    }
    Ok(())
}

/// Whether a refused event is a retry of one already in the ledger.
///
/// A refusal on grounds that can change after an event was appended (the
/// catalogue, the `occurred_at` window, a revoked key) must not hide the
/// original receipt from a submitter retrying the exact bytes, so before
/// refusing, the event id is looked up: the same bytes under that id are a
/// retry (the sequencer answers it with the original receipt). Other bytes
/// under a stored id keep their own refusal, never a conflict: the event
/// did not pass the door, so nothing vouches for its sender, and answering
/// it differently from an unknown id would tell anyone which ids exist.
/// Only the refusal path pays for the lookup.
async fn already_appended(state: &AppState, event: &SignedEvent) -> ApiResult<bool> {
    let stored = state
        .store
        .entry_by_event_id(&event.body.event_id)
        .await
        .map_err(|e| ApiError::store("looking up a refused event's id", &e))?;
    Ok(stored.is_some_and(|s| s.entry.event_hash == event.hash()))
}

/// Prefixes the pointers of an error about event `index` of a batch with
/// `/events/{index}`; an error about a lone event is left as it is.
pub fn under(err: ApiError, index: usize, in_batch: bool) -> ApiError {
    if in_batch {
        err.under(&format!("/events/{index}"))
    } else {
        err
    }
}

/// Admits the events of one request: the content checks at the ledger's
/// clock (with `prefixes`, the pointers of a refusal name the event's index
/// in the batch), then the signatures against the current registry
/// snapshot (see [`verify`] for their pointers).
pub async fn admit(
    state: &AppState,
    events: Vec<SignedEvent>,
    prefixes: bool,
    backfill: bool,
) -> ApiResult<Admitted> {
    let now = (state.sequencer.clock())();
    let mut retries = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let retry = match check_content(state.catalogue, &state.limits, e, now, backfill) {
            Ok(()) => false,
            Err(err) => {
                if !already_appended(state, e)
                    .await
                    .map_err(|err| under(err, i, prefixes))?
                {
                    return Err(under(err, i, prefixes));
                }
                true
            }
        };
        retries.push(retry);
    }
    verify(state, events, retries).await
}

/// What the door knows of each event's signature: `Ok(Some(key))` verified
/// with `key`, `Ok(None)` left to the sequencer, or the refusal.
type Outcome = Result<Option<PublicKey>, RegistryError>;

/// Authorises every event against `registry` and checks the signatures of
/// those it authorises: one alone with the single check, several with the
/// batch check, which accepts exactly the same signatures
/// (`daicho_core::batch`) at a third of the cost.
fn verify_events(
    registry: &Registry,
    batches: &BatchVerifier,
    events: &[HashedEvent],
    retries: &[bool],
) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(events.len());
    for (e, retry) in events.iter().map(HashedEvent::event).zip(retries) {
        outcomes.push(if *retry {
            Ok(None)
        } else {
            match registry.authorize(e) {
                Ok(rec) => Ok(Some(rec.public_key)),
                // The snapshot may predate the key's registration (earlier
                // in this batch, or by another process on the same
                // database): the sequencer decides under the writer lock,
                // against the registry as of the head. The other refusals
                // are final, because a key is never registered twice and
                // never changes scope or holder.
                Err(RegistryError::UnknownKey(_)) => Ok(None),
                Err(r) => Err(r),
            }
        });
    }
    // The authorised events, with the key each is checked against.
    let to_check: Vec<(usize, PublicKey)> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match o {
            Ok(Some(key)) => Some((i, *key)),
            _ => None,
        })
        .collect();
    let messages: Vec<Vec<u8>> = to_check
        .iter()
        .map(|&(i, _)| events[i].signing_message())
        .collect();
    let checks: Vec<SignatureCheck<'_>> = to_check
        .iter()
        .zip(&messages)
        .map(|((i, key), message)| SignatureCheck {
            key: &key.0,
            message,
            signature: events[*i].event().signature.0,
        })
        .collect();
    let failed = if checks.len() == 1 {
        if checks[0].holds() {
            Vec::new()
        } else {
            vec![0]
        }
    } else {
        batches.failures(&checks)
    };
    for f in failed {
        let (i, _) = to_check[f];
        outcomes[i] = Err(RegistryError::BadSignature(
            events[i].event().body.key_id.clone(),
        ));
    }
    outcomes
}

/// Verifies signatures against the current registry (a batch on the check
/// pool, so that concurrent requests verify in parallel) and returns the
/// events with the key each was verified with, so that the sequencer does
/// not verify them again unless the registry changed in between. Events in
/// `retries` are not verified: they are in the ledger already, and the
/// sequencer answers them with their original receipt. The pointers of a
/// refusal name the event's index when the request holds several events.
async fn verify(
    state: &AppState,
    events: Vec<SignedEvent>,
    retries: Vec<bool>,
) -> ApiResult<Admitted> {
    let in_batch = events.len() > 1;
    let registry = state.sequencer.snapshot().registry.clone();
    // One verification (~40 µs) runs in place: handing it to another
    // thread costs more than it saves. A batch goes to the check pool so
    // that it does not hold up the other requests of this worker.
    // The canonical bytes and event hashes are computed here too, where
    // requests run in parallel, rather than by the single writer.
    // Each event is serialised once: its signing message is cut from its
    // canonical bytes.
    let check = move |verifier: &BatchVerifier| {
        let hashed: Vec<HashedEvent> = events.into_iter().map(HashedEvent::new).collect();
        let outcomes = verify_events(&registry, verifier, &hashed, &retries);
        (hashed, outcomes)
    };
    let (events, outcomes) = if in_batch {
        let state = state.clone();
        let shared = state.clone();
        state
            .checks
            .run(move || check(&shared.signatures))
            .await
            .map_err(|e| ApiError::internal("verifying signatures", &e))?
    } else {
        check(&state.signatures)
    };
    let mut verified_with = Vec::with_capacity(events.len());
    for (i, (event, outcome)) in events.iter().zip(outcomes).enumerate() {
        match outcome {
            Ok(key) => verified_with.push(key),
            Err(r) => {
                if !already_appended(state, event.event())
                    .await
                    .map_err(|e| under(e, i, in_batch))?
                {
                    return Err(under((&r).into(), i, in_batch));
                }
                verified_with.push(None);
            }
        }
    }
    Ok(Admitted {
        events,
        verified_with,
    })
}

/// The index of the first event a sequencer refusal concerns, so that the
/// pointers of its problem name it.
pub fn refused_index(e: &AppendError, key_ids: &[KeyId]) -> usize {
    match e {
        AppendError::Rejected(r) => refused_key(r)
            .and_then(|k| key_ids.iter().position(|id| id == k))
            .unwrap_or(0),
        _ => 0,
    }
}

/// The key a registry refusal is about.
fn refused_key(e: &RegistryError) -> Option<&KeyId> {
    match e {
        RegistryError::UnknownKey(k)
        | RegistryError::BadSignature(k)
        | RegistryError::Revoked { key_id: k, .. }
        | RegistryError::OutOfScope { key_id: k, .. }
        | RegistryError::WrongSource { key_id: k, .. } => Some(k),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use daicho_core::event::{Actor, EventId, EventType, Label, UnsignedEvent};
    use daicho_core::keys::NoteSigner;
    use daicho_core::registry::KEY_REVOKED;
    use daicho_core::timestamp::OccurredAt;

    use super::*;

    fn limits(validate_payloads: bool) -> Limits {
        Limits {
            public_checkpoint: false,
            max_body_bytes: 1 << 20,
            max_batch: 10,
            max_page: 100,
            max_past: Duration::from_secs(86_400),
            max_future: Duration::from_secs(300),
            validate_payloads,
            request_timeout: Duration::from_secs(30),
            stream_keep_alive: Duration::from_secs(15),
        }
    }

    fn event(event_type: &str, occurred_at: &str) -> SignedEvent {
        let signer = NoteSigner::from_seed("juki", [3; 32]).unwrap();
        UnsignedEvent {
            event_id: EventId::from_bytes([7; 16]),
            event_type: EventType::parse(event_type).unwrap(),
            schema_version: 1,
            occurred_at: OccurredAt::parse(occurred_at).unwrap(),
            actor: Actor {
                id: Label::parse("clerk-1").unwrap(),
                role: Label::parse("clerk").unwrap(),
            },
            source: Label::parse("juki").unwrap(),
            payload: serde_json::Map::new(),
            key_id: signer.key_id(),
        }
        .sign(&signer)
    }

    /// The ledger's clock reading 2020-01-01T00:00:00Z, years before the
    /// system clock, so that a check that read the system clock would fail.
    fn clock_reading() -> RecordedAt {
        RecordedAt::from_unix_micros(1_577_836_800_000_000).unwrap()
    }

    fn check(event: &SignedEvent, validate: bool) -> ApiResult<()> {
        check_content(
            Catalogue::embedded(),
            &limits(validate),
            event,
            clock_reading(),
            false,
        )
    }

    fn code(result: ApiResult<()>) -> (ErrorCode, Vec<String>) {
        let err = result.unwrap_err();
        (
            err.code,
            err.errors.into_iter().map(|e| e.pointer).collect(),
        )
    }

    #[test]
    fn occurred_at_is_checked_against_the_ledgers_clock() {
        let type_ = "resident.record.viewed";
        check(&event(type_, "2020-01-01T00:00:00Z"), false).unwrap();
        check(&event(type_, "2019-12-31T00:00:01Z"), false).unwrap();
        check(&event(type_, "2020-01-01T00:05:00Z"), false).unwrap();
        for outside in ["2019-12-30T23:59:59Z", "2020-01-01T00:05:01Z"] {
            assert_eq!(
                code(check(&event(type_, outside), false)),
                (
                    ErrorCode::OccurredAtOutOfWindow,
                    vec!["/occurred_at".to_owned()]
                ),
                "{outside}"
            );
        }
    }

    #[test]
    fn payloads_are_checked_against_the_catalogue_unless_switched_off() {
        let unknown = event("no.such.type", "2020-01-01T00:00:00Z");
        assert_eq!(
            code(check(&unknown, true)),
            (ErrorCode::UnknownEventType, vec!["/type".to_owned()])
        );
        check(&unknown, false).unwrap();
        // The ledger's own types are the registry's to check.
        check(&event(KEY_REVOKED, "2020-01-01T00:00:00Z"), true).unwrap();
    }

    #[test]
    fn a_sequencer_refusal_names_the_event_whose_key_it_is_about() {
        let a = NoteSigner::from_seed("a", [1; 32]).unwrap().key_id();
        let b = NoteSigner::from_seed("b", [2; 32]).unwrap().key_id();
        let keys = [a.clone(), b.clone()];
        let refusal = AppendError::Rejected(RegistryError::UnknownKey(b));
        assert_eq!(refused_index(&refusal, &keys), 1);
        assert_eq!(refused_index(&AppendError::Unavailable, &keys), 0);
        let err = under((&RegistryError::UnknownKey(a)).into(), 1, true);
        assert_eq!(err.errors[0].pointer, "/events/1/key_id");
        let err = under(ApiError::new(ErrorCode::Internal).at("/x", "y"), 1, false);
        assert_eq!(err.errors[0].pointer, "/x");
    }
}
