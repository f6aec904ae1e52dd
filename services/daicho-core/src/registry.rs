//! The key registry, rebuilt from the log itself (FORMAT.md §8).
//!
//! The genesis entry names the ledger's key and the first administrator
//! key; `daicho.key.registered` and `daicho.key.revoked` entries, signed by
//! an administrator key, change the registry from the entry after them on.
//! A verifier therefore needs to trust only the ledger's public key.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checkpoint::{Checkpoint, CheckpointError, CheckpointKeys};
use crate::event::{path_to_pointer, EventType, Label, SignedEvent};
use crate::keys::{KeyId, NoteVerifier, PublicKey};

/// Type of the genesis event.
pub const GENESIS: &str = "daicho.genesis";
/// Type of a key registration.
pub const KEY_REGISTERED: &str = "daicho.key.registered";
/// Type of a key revocation.
pub const KEY_REVOKED: &str = "daicho.key.revoked";
/// Type of a rotation of the ledger key (FORMAT.md §8.5).
pub const LEDGER_KEY_ROTATED: &str = "daicho.ledger.key_rotated";
/// The `source` of the genesis event and of ledger key rotations.
pub const LEDGER_SOURCE: &str = "daicho";

/// Whether an event of this type changes the registry.
pub fn changes_registry(event_type: &str) -> bool {
    matches!(
        event_type,
        KEY_REGISTERED | KEY_REVOKED | LEDGER_KEY_ROTATED
    )
}

/// What a registered key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyRole {
    /// The ledger's own key: signs the genesis event and checkpoints.
    Ledger,
    /// Registers and revokes keys.
    Admin,
    /// A source system's key: signs events of the listed types.
    Source,
}

/// Payload of `daicho.key.registered`, and the administrator part of the genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRegistration {
    /// Must equal the ID derived from `public_key`.
    pub key_id: KeyId,
    /// Base64 of the raw Ed25519 public key.
    pub public_key: PublicKey,
    /// The system (or, for administrators, the person or office) holding the key.
    pub source: Label,
    /// `admin` or `source`.
    pub role: KeyRole,
    /// For a source key, the event types it may sign (at least one); for an
    /// administrator key, empty.
    pub types: Vec<EventType>,
}

/// Payload of `daicho.key.revoked`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRevocation {
    /// The key to revoke.
    pub key_id: KeyId,
    /// Why, in words.
    pub reason: String,
}

/// Payload of `daicho.ledger.key_rotated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerKeyRotation {
    /// The next ledger key, a C2SP verifier key of the same name.
    pub ledger_key: String,
    /// Why, in words.
    pub reason: String,
}

/// One ledger key and the checkpoints it signs: those of a size from
/// `from_size` until the next key's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerKeyEra {
    /// The key.
    pub key: NoteVerifier,
    /// The smallest checkpoint size it signs: 1 for the genesis key,
    /// `seq + 1` for a key rotated to at `seq`.
    pub from_size: u64,
}

/// Payload of `daicho.genesis`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisPayload {
    /// The ledger's origin line; also the name of its checkpoint key.
    pub origin: String,
    /// The ledger's C2SP verifier key.
    pub ledger_key: String,
    /// The first administrator key.
    pub admin: KeyRegistration,
}

impl CheckpointKeys for Registry {
    /// Opens a signed checkpoint under the key that must sign a checkpoint
    /// of its size (§8.5). The size is read from the body before any
    /// signature is checked only to choose the key; the note is then opened
    /// as [`Checkpoint::open`] does.
    fn open_checkpoint(&self, note: &str) -> Result<Checkpoint, CheckpointError> {
        let size = Checkpoint::claimed_size(note)?;
        Checkpoint::open(note, self.ledger_key_for_size(size))
    }
}

/// A key as the registry knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRecord {
    /// Its identifier.
    pub key_id: KeyId,
    /// The public key.
    pub public_key: PublicKey,
    /// The holder.
    pub source: Label,
    /// What it may do.
    pub role: KeyRole,
    /// For source keys, the types it may sign.
    pub types: BTreeSet<EventType>,
    /// The seq of the entry that registered it.
    pub registered_at: u64,
    /// The seq of the entry that revoked it, if any.
    pub revoked_at: Option<u64>,
}

/// Why an event is not authorised by the registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No key with that ID has been registered.
    #[error("key {0} is not registered")]
    UnknownKey(KeyId),
    /// The key was revoked.
    #[error("key {key_id} was revoked at seq {revoked_at}")]
    Revoked {
        /// The key.
        key_id: KeyId,
        /// Where.
        revoked_at: u64,
    },
    /// The key may not sign this type.
    #[error("key {key_id} may not sign events of type {event_type}")]
    OutOfScope {
        /// The key.
        key_id: KeyId,
        /// The type it tried to sign.
        event_type: EventType,
    },
    /// The event's source is not the key's holder.
    #[error("key {key_id} belongs to source {expected:?}, not {found:?}")]
    WrongSource {
        /// The key.
        key_id: KeyId,
        /// The registered holder.
        expected: String,
        /// The event's source.
        found: String,
    },
    /// The signature does not verify.
    #[error("the signature does not verify under key {0}")]
    BadSignature(KeyId),
    /// A registry event whose payload is not what its type requires.
    #[error("invalid {event_type} payload at {pointer:?}: {message}")]
    BadPayload {
        /// The type.
        event_type: &'static str,
        /// RFC 6901 pointer into the envelope.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// A registration whose key ID is taken (keys are never re-registered).
    #[error("key {0} is already registered")]
    AlreadyRegistered(KeyId),
    /// A revocation of a key that is already revoked.
    #[error("key {0} is already revoked")]
    AlreadyRevoked(KeyId),
    /// The first entry is not a valid genesis event.
    #[error("invalid genesis: {0}")]
    BadGenesis(String),
    /// A genesis event anywhere but seq 0.
    #[error("a genesis event may only be the first entry")]
    LateGenesis,
}

/// The registry as of some point of the log.
#[derive(Debug, Clone)]
pub struct Registry {
    /// The ledger keys in order: the genesis key first, the current last.
    ledger: Vec<LedgerKeyEra>,
    keys: BTreeMap<KeyId, KeyRecord>,
}

fn payload<T: serde::de::DeserializeOwned>(
    event: &SignedEvent,
    event_type: &'static str,
) -> Result<T, RegistryError> {
    let value = Value::Object(event.body.payload.clone());
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| RegistryError::BadPayload {
        event_type,
        pointer: format!("/payload{}", path_to_pointer(e.path())),
        message: e.inner().to_string(),
    })
}

fn bad(event_type: &'static str, pointer: &str, message: &str) -> RegistryError {
    RegistryError::BadPayload {
        event_type,
        pointer: pointer.to_owned(),
        message: message.to_owned(),
    }
}

/// Checks what every registration must satisfy, wherever it appears.
fn check_registration(
    r: &KeyRegistration,
    event_type: &'static str,
    at: &str,
) -> Result<(), RegistryError> {
    if r.public_key.key_id() != r.key_id {
        return Err(bad(
            event_type,
            &format!("{at}/key_id"),
            &format!(
                "key_id must be {} for this public key",
                r.public_key.key_id()
            ),
        ));
    }
    match r.role {
        KeyRole::Ledger => Err(bad(
            event_type,
            &format!("{at}/role"),
            "only the genesis names the ledger key",
        )),
        KeyRole::Admin if !r.types.is_empty() => Err(bad(
            event_type,
            &format!("{at}/types"),
            "an administrator key lists no types",
        )),
        KeyRole::Source if r.types.is_empty() => Err(bad(
            event_type,
            &format!("{at}/types"),
            "a source key lists at least one event type",
        )),
        KeyRole::Source
            if r.types.len()
                != r.types
                    .iter()
                    .collect::<std::collections::BTreeSet<_>>()
                    .len() =>
        {
            let i = r
                .types
                .iter()
                .enumerate()
                .position(|(i, t)| r.types[..i].contains(t))
                .expect("a repeated type");
            Err(bad(
                event_type,
                &format!("{at}/types/{i}"),
                "a type is listed once",
            ))
        }
        KeyRole::Source => match r.types.iter().position(EventType::is_ledger_type) {
            Some(i) => Err(bad(
                event_type,
                &format!("{at}/types/{i}"),
                "daicho.* types are signed by the ledger and administrators only",
            )),
            None => Ok(()),
        },
        KeyRole::Admin => Ok(()),
    }
}

impl Registry {
    /// Builds the registry from the genesis event (seq 0), checking its
    /// shape and its signature by the ledger key it names. With `expected`,
    /// that key must also be the one the caller trusts.
    pub fn from_genesis(
        event: &SignedEvent,
        expected: Option<&NoteVerifier>,
    ) -> Result<Registry, RegistryError> {
        if event.body.event_type.as_str() != GENESIS {
            return Err(RegistryError::BadGenesis(format!(
                "the first entry has type {}, not {GENESIS}",
                event.body.event_type
            )));
        }
        if event.body.schema_version != 1 {
            return Err(bad(
                GENESIS,
                "/schema_version",
                "the genesis is schema_version 1",
            ));
        }
        let g: GenesisPayload = payload(event, GENESIS)?;
        let ledger = NoteVerifier::parse(&g.ledger_key)
            .map_err(|e| bad(GENESIS, "/payload/ledger_key", &e.to_string()))?;
        // The text, not only the key it names, is fixed: then comparing as
        // text and comparing as keys agree (FORMAT.md §8.1).
        if ledger.to_string() != g.ledger_key {
            return Err(bad(
                GENESIS,
                "/payload/ledger_key",
                "ledger_key must be written exactly as §4.2 writes it, without white space",
            ));
        }
        if ledger.name() != g.origin {
            return Err(bad(
                GENESIS,
                "/payload/origin",
                "origin must be the ledger key's name",
            ));
        }
        if let Some(expected) = expected {
            if *expected != ledger {
                return Err(RegistryError::BadGenesis(format!(
                    "the genesis names ledger key {ledger}, not the trusted {expected}"
                )));
            }
        }
        if event.body.key_id != ledger.public_key().key_id() {
            return Err(RegistryError::BadGenesis(
                "the genesis must be signed by the ledger key".into(),
            ));
        }
        if event.body.source.as_str() != LEDGER_SOURCE {
            return Err(bad(GENESIS, "/source", "the genesis source is \"daicho\""));
        }
        event
            .verify_signature(&ledger.public_key())
            .map_err(|_| RegistryError::BadSignature(event.body.key_id.clone()))?;
        check_registration(&g.admin, GENESIS, "/payload/admin")?;
        if g.admin.role != KeyRole::Admin {
            return Err(bad(GENESIS, "/payload/admin/role", "must be admin"));
        }
        let mut keys = BTreeMap::new();
        let ledger_id = ledger.public_key().key_id();
        keys.insert(
            ledger_id.clone(),
            KeyRecord {
                key_id: ledger_id,
                public_key: ledger.public_key(),
                source: event.body.source.clone(),
                role: KeyRole::Ledger,
                types: BTreeSet::new(),
                registered_at: 0,
                revoked_at: None,
            },
        );
        if keys.contains_key(&g.admin.key_id) {
            return Err(bad(
                GENESIS,
                "/payload/admin/key_id",
                "the administrator key must differ from the ledger key",
            ));
        }
        keys.insert(
            g.admin.key_id.clone(),
            KeyRecord {
                key_id: g.admin.key_id,
                public_key: g.admin.public_key,
                source: g.admin.source,
                role: KeyRole::Admin,
                types: BTreeSet::new(),
                registered_at: 0,
                revoked_at: None,
            },
        );
        Ok(Registry {
            ledger: vec![LedgerKeyEra {
                key: ledger,
                from_size: 1,
            }],
            keys,
        })
    }

    /// The ledger's current checkpoint key: the genesis key, or the last
    /// key the ledger rotated to.
    pub fn ledger_key(&self) -> &NoteVerifier {
        &self.ledger.last().expect("the genesis key").key
    }

    /// The ledger key the genesis names: the ledger's identity, the key a
    /// verifier trusts (FORMAT.md §8.1), whatever rotations followed.
    pub fn genesis_ledger_key(&self) -> &NoteVerifier {
        &self.ledger[0].key
    }

    /// The ledger key before the current one, if the ledger was rotated:
    /// the key that cosigns checkpoints during the overlap (§8.5).
    pub fn previous_ledger_key(&self) -> Option<&NoteVerifier> {
        let n = self.ledger.len();
        (n >= 2).then(|| &self.ledger[n - 2].key)
    }

    /// Every ledger key, oldest first.
    pub fn ledger_keys(&self) -> &[LedgerKeyEra] {
        &self.ledger
    }

    /// The key that must sign a checkpoint of `size` entries (§8.5): the
    /// last key rotated to at a seq below `size`.
    pub fn ledger_key_for_size(&self, size: u64) -> &NoteVerifier {
        &self
            .ledger
            .iter()
            .rev()
            .find(|era| era.from_size <= size)
            .unwrap_or(&self.ledger[0])
            .key
    }

    /// Every key ever registered, revoked ones included.
    pub fn keys(&self) -> impl Iterator<Item = &KeyRecord> {
        self.keys.values()
    }

    /// One key.
    pub fn key(&self, id: &KeyId) -> Option<&KeyRecord> {
        self.keys.get(id)
    }

    /// Whether `event`'s key may sign it now: registered, not revoked, the
    /// type in scope, the source its holder. The signature is not checked.
    pub fn authorize(&self, event: &SignedEvent) -> Result<&KeyRecord, RegistryError> {
        let b = &event.body;
        let rec = self
            .keys
            .get(&b.key_id)
            .ok_or_else(|| RegistryError::UnknownKey(b.key_id.clone()))?;
        if let Some(revoked_at) = rec.revoked_at {
            return Err(RegistryError::Revoked {
                key_id: b.key_id.clone(),
                revoked_at,
            });
        }
        let in_scope = match rec.role {
            // Only the current ledger key rotates itself: a retired one
            // carries `revoked_at` and was refused above.
            KeyRole::Ledger => b.event_type.as_str() == LEDGER_KEY_ROTATED,
            KeyRole::Admin => matches!(b.event_type.as_str(), KEY_REGISTERED | KEY_REVOKED),
            KeyRole::Source => rec.types.contains(&b.event_type),
        };
        if b.event_type.as_str() == GENESIS {
            return Err(RegistryError::LateGenesis);
        }
        if !in_scope {
            return Err(RegistryError::OutOfScope {
                key_id: b.key_id.clone(),
                event_type: b.event_type.clone(),
            });
        }
        if rec.source != b.source {
            return Err(RegistryError::WrongSource {
                key_id: b.key_id.clone(),
                expected: rec.source.to_string(),
                found: b.source.to_string(),
            });
        }
        Ok(rec)
    }

    /// [`Registry::authorize`], then strict signature verification.
    pub fn verify(&self, event: &SignedEvent) -> Result<&KeyRecord, RegistryError> {
        let rec = self.authorize(event)?;
        event
            .verify_signature(&rec.public_key)
            .map_err(|_| RegistryError::BadSignature(event.body.key_id.clone()))?;
        Ok(rec)
    }

    /// Applies a registry event sequenced at `seq` (other types change
    /// nothing). The event must already be authorised; the payload is
    /// checked here, and on error the registry is unchanged.
    pub fn apply(&mut self, seq: u64, event: &SignedEvent) -> Result<(), RegistryError> {
        let event_type = event.body.event_type.as_str();
        if changes_registry(event_type) && event.body.schema_version != 1 {
            return Err(RegistryError::BadPayload {
                event_type: match event_type {
                    KEY_REGISTERED => KEY_REGISTERED,
                    KEY_REVOKED => KEY_REVOKED,
                    _ => LEDGER_KEY_ROTATED,
                },
                pointer: "/schema_version".into(),
                message: "registry events are schema_version 1".into(),
            });
        }
        match event_type {
            KEY_REGISTERED => {
                let r: KeyRegistration = payload(event, KEY_REGISTERED)?;
                check_registration(&r, KEY_REGISTERED, "/payload")?;
                if self.keys.contains_key(&r.key_id) {
                    return Err(RegistryError::AlreadyRegistered(r.key_id));
                }
                self.keys.insert(
                    r.key_id.clone(),
                    KeyRecord {
                        key_id: r.key_id,
                        public_key: r.public_key,
                        source: r.source,
                        role: r.role,
                        types: r.types.into_iter().collect(),
                        registered_at: seq,
                        revoked_at: None,
                    },
                );
                Ok(())
            }
            KEY_REVOKED => {
                let r: KeyRevocation = payload(event, KEY_REVOKED)?;
                let rec = self
                    .keys
                    .get_mut(&r.key_id)
                    .ok_or_else(|| RegistryError::UnknownKey(r.key_id.clone()))?;
                if rec.role == KeyRole::Ledger {
                    return Err(bad(
                        KEY_REVOKED,
                        "/payload/key_id",
                        "the ledger key is not revoked through the registry",
                    ));
                }
                if rec.revoked_at.is_some() {
                    return Err(RegistryError::AlreadyRevoked(r.key_id));
                }
                rec.revoked_at = Some(seq);
                Ok(())
            }
            LEDGER_KEY_ROTATED => self.rotate(seq, event),
            _ => Ok(()),
        }
    }

    /// Applies `daicho.ledger.key_rotated` (§8.5): the next key is written
    /// as §4.2 writes it, has the ledger's name, and was never registered;
    /// the current key is retired at `seq` and the next one signs the
    /// checkpoints of a size above `seq`.
    fn rotate(&mut self, seq: u64, event: &SignedEvent) -> Result<(), RegistryError> {
        const T: &str = LEDGER_KEY_ROTATED;
        let r: LedgerKeyRotation = payload(event, T)?;
        let next = NoteVerifier::parse(&r.ledger_key)
            .map_err(|e| bad(T, "/payload/ledger_key", &e.to_string()))?;
        if next.to_string() != r.ledger_key {
            return Err(bad(
                T,
                "/payload/ledger_key",
                "ledger_key must be written exactly as §4.2 writes it, without white space",
            ));
        }
        if next.name() != self.ledger_key().name() {
            return Err(bad(
                T,
                "/payload/ledger_key",
                "the next ledger key must have the ledger's name (its origin)",
            ));
        }
        let next_id = next.public_key().key_id();
        if self.keys.contains_key(&next_id) {
            return Err(RegistryError::AlreadyRegistered(next_id));
        }
        let current = self.ledger_key().public_key().key_id();
        let source = {
            let rec = self
                .keys
                .get_mut(&current)
                .expect("the ledger key is registered");
            rec.revoked_at = Some(seq);
            rec.source.clone()
        };
        self.keys.insert(
            next_id.clone(),
            KeyRecord {
                key_id: next_id,
                public_key: next.public_key(),
                source,
                role: KeyRole::Ledger,
                types: BTreeSet::new(),
                registered_at: seq,
                revoked_at: None,
            },
        );
        self.ledger.push(LedgerKeyEra {
            key: next,
            from_size: seq + 1,
        });
        Ok(())
    }
}
