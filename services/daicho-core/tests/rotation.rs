//! Rotating the ledger key (FORMAT.md §8.5): the current key names the
//! next, the next signs every checkpoint that covers the rotation, and a
//! verifier that trusts the genesis key follows the log.

use daicho_core::checkpoint::{Checkpoint, CheckpointError, CheckpointKeys};
use daicho_core::entry::Recorded;
use daicho_core::event::{EventId, Label};
use daicho_core::keys::NoteSigner;
use daicho_core::ledger::{genesis_event, key_rotation_event, Ledger, ReplayError};
use daicho_core::registry::RegistryError;
use daicho_core::timestamp::{OccurredAt, RecordedAt};

const ORIGIN: &str = "kameoka.example/daicho";

fn signer(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn at(micros: i64) -> RecordedAt {
    RecordedAt::from_unix_micros(1_775_000_000_000_000 + micros).unwrap()
}

fn when() -> OccurredAt {
    OccurredAt::parse("2026-04-01T00:00:00Z").unwrap()
}

/// A ledger of genesis (key A) and a rotation from A to B at seq 1.
fn rotated() -> (NoteSigner, NoteSigner, Ledger, Vec<Recorded>) {
    let a = signer(ORIGIN, 1);
    let b = signer(ORIGIN, 4);
    let admin = signer("admin", 2);
    let g = genesis_event(
        &a,
        admin.public_key(),
        Label::parse("it-admin").unwrap(),
        EventId::from_bytes([0; 16]),
        when(),
    );
    let (mut ledger, first) = Ledger::create(g, at(0)).unwrap();
    let mut all = vec![first];
    let mut batch = ledger.begin(at(10));
    batch
        .append(
            key_rotation_event(
                &a,
                b.verifier(),
                "yearly rotation",
                EventId::from_bytes([1; 16]),
                when(),
            ),
            None,
        )
        .unwrap();
    all.extend(ledger.commit(batch.finish()));
    (a, b, ledger, all)
}

#[test]
fn the_next_key_signs_every_checkpoint_that_covers_the_rotation() {
    let (a, b, ledger, all) = rotated();
    let r = ledger.registry();
    assert_eq!(r.ledger_key(), b.verifier());
    assert_eq!(r.genesis_ledger_key(), a.verifier());
    assert_eq!(r.previous_ledger_key(), Some(a.verifier()));
    assert_eq!(r.ledger_key_for_size(1), a.verifier());
    assert_eq!(r.ledger_key_for_size(2), b.verifier());
    assert_eq!(r.ledger_key_for_size(u64::MAX), b.verifier());
    // The retired key is kept, marked retired at the rotation's seq.
    assert_eq!(r.key(&a.key_id()).unwrap().revoked_at, Some(1));
    assert_eq!(r.key(&b.key_id()).unwrap().registered_at, 1);

    let cp = ledger.checkpoint();
    assert_eq!(cp.size, 2);
    // Both keys during the overlap, or the next key alone, open; the
    // retired key alone does not.
    assert_eq!(r.open_checkpoint(&cp.sign_all(&[&b, &a])).unwrap(), cp);
    assert_eq!(r.open_checkpoint(&cp.sign(&b)).unwrap(), cp);
    assert!(matches!(
        r.open_checkpoint(&cp.sign(&a)),
        Err(CheckpointError::NotSignedByKey(_))
    ));
    // A holder of the genesis key alone still opens the overlap's notes.
    assert_eq!(
        Checkpoint::open(&cp.sign_all(&[&b, &a]), a.verifier()).unwrap(),
        cp
    );
    // The checkpoint before the rotation stays the genesis key's.
    let genesis_cp = Checkpoint {
        size: 1,
        root: ledger.tree().root_at(1).unwrap(),
        origin: ORIGIN.into(),
    };
    assert!(r.open_checkpoint(&genesis_cp.sign(&a)).is_ok());
    assert!(r.open_checkpoint(&genesis_cp.sign(&b)).is_err());

    // A verifier that trusts the genesis key replays the rotation.
    let replayed = Ledger::replay(all, Some(a.verifier())).unwrap();
    assert_eq!(replayed.registry().ledger_key(), b.verifier());
}

#[test]
fn only_the_current_key_rotates_and_only_to_a_new_key_of_the_same_name() {
    let (a, b, ledger, _) = rotated();
    let c = signer(ORIGIN, 5);
    let id = |n: u8| EventId::from_bytes([n; 16]);

    // The retired key can no longer rotate.
    let mut batch = ledger.begin(at(20));
    let by_retired = key_rotation_event(&a, c.verifier(), "", id(2), when());
    assert!(matches!(
        batch.append(by_retired, None),
        Err(RegistryError::Revoked { revoked_at: 1, .. })
    ));
    // Back to a key the ledger had: refused.
    let back = key_rotation_event(&b, a.verifier(), "", id(3), when());
    assert!(matches!(
        batch.append(back, None),
        Err(RegistryError::AlreadyRegistered(_))
    ));
    // Another name: refused at the payload.
    let renamed = signer("other.example/log", 6);
    let e = key_rotation_event(&b, renamed.verifier(), "", id(4), when());
    match batch.append(e, None) {
        Err(RegistryError::BadPayload { pointer, .. }) => {
            assert_eq!(pointer, "/payload/ledger_key")
        }
        other => panic!("expected a payload refusal, got {other:?}"),
    }
    // A source or administrator key cannot rotate the ledger key.
    let admin = signer("admin", 2);
    let mut forged = key_rotation_event(&admin, c.verifier(), "", id(5), when());
    forged.body.source = Label::parse("it-admin").unwrap();
    assert!(matches!(
        batch.append(forged, None),
        Err(RegistryError::OutOfScope { .. }) | Err(RegistryError::BadSignature(_))
    ));
    // The current key rotates again.
    let next = key_rotation_event(&b, c.verifier(), "", id(6), when());
    batch.append(next, None).unwrap();
    assert_eq!(batch.registry().ledger_key(), c.verifier());
    assert_eq!(batch.registry().previous_ledger_key(), Some(b.verifier()));
    assert_eq!(batch.registry().ledger_key_for_size(2), b.verifier());
}

#[test]
fn a_forged_rotation_does_not_replay() {
    let (a, _b, _ledger, mut all) = rotated();
    // The rotation re-signed by a stranger of the ledger's name.
    let stranger = signer(ORIGIN, 9);
    let forged = key_rotation_event(
        &stranger,
        stranger.verifier(),
        "",
        EventId::from_bytes([1; 16]),
        when(),
    );
    all.truncate(1);
    let prev = all[0].hash;
    all.push(Recorded::chain(
        1,
        at(10),
        prev,
        daicho_core::event::HashedEvent::new(forged),
    ));
    assert!(matches!(
        Ledger::replay(all, Some(a.verifier())),
        Err(ReplayError::Refused(1, RegistryError::UnknownKey(_)))
    ));
}
