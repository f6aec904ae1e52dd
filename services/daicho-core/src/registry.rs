//! The key registry, rebuilt from the log itself (FORMAT.md §8).
//!
//! The genesis entry names the ledger's key and the first administrator
//! key; `daicho.key.registered` and `daicho.key.revoked` entries, signed by
//! an administrator key, change the registry from the entry after them on.
//! A verifier therefore needs to trust only the ledger's public key.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::{path_to_pointer, EventType, Label, SignedEvent};
use crate::keys::{KeyId, NoteVerifier, PublicKey};

/// Type of the genesis event.
pub const GENESIS: &str = "daicho.genesis";
/// Type of a key registration.
pub const KEY_REGISTERED: &str = "daicho.key.registered";
/// Type of a key revocation.
pub const KEY_REVOKED: &str = "daicho.key.revoked";
/// The `source` of the genesis event.
pub const LEDGER_SOURCE: &str = "daicho";

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
    ledger: NoteVerifier,
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
        Ok(Registry { ledger, keys })
    }

    /// The ledger's checkpoint key, as the genesis names it.
    pub fn ledger_key(&self) -> &NoteVerifier {
        &self.ledger
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
            KeyRole::Ledger => false,
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
        if matches!(event_type, KEY_REGISTERED | KEY_REVOKED) && event.body.schema_version != 1 {
            return Err(RegistryError::BadPayload {
                event_type: if event_type == KEY_REGISTERED {
                    KEY_REGISTERED
                } else {
                    KEY_REVOKED
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
            _ => Ok(()),
        }
    }
}
