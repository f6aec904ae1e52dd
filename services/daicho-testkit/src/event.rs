//! [`EventBuilder`]: a signed event from the few fields a test cares about,
//! the rest filled with fixed values.

use daicho_core::event::{Actor, EventId, EventType, Label, SignedEvent, UnsignedEvent};
use daicho_core::keys::NoteSigner;
use daicho_core::timestamp::OccurredAt;
use serde_json::{Map, Value};

/// The `occurred_at` of a built event unless the test sets one.
pub const OCCURRED_AT: &str = "2026-04-01T09:30:00+09:00";

/// An event id with `n` in its last eight bytes, big-endian. The UUID's
/// version and variant bits are in bytes 6 and 8, so the number goes where
/// nothing overwrites it.
pub fn numbered_id(n: u64) -> EventId {
    let mut b = [0u8; 16];
    b[8..].copy_from_slice(&n.to_be_bytes());
    EventId::from_bytes(b)
}

/// A label the test knows to be valid.
pub fn label(s: &str) -> Label {
    Label::parse(s).expect("a valid label")
}

/// Builds an event signed by one key.
///
/// Unless set: event id all zeros, schema version 1, occurred at
/// [`OCCURRED_AT`], actor `clerk-1` in role `clerk`, an empty payload; the
/// key id is always the signer's.
#[derive(Debug, Clone)]
pub struct EventBuilder {
    signer: NoteSigner,
    event: UnsignedEvent,
}

impl EventBuilder {
    /// An event of `event_type` from `source`, to be signed by `signer`.
    pub fn new(signer: &NoteSigner, event_type: &str, source: &str) -> EventBuilder {
        EventBuilder {
            signer: signer.clone(),
            event: UnsignedEvent {
                event_id: EventId::from_bytes([0; 16]),
                event_type: EventType::parse(event_type).expect("a valid event type"),
                schema_version: 1,
                occurred_at: OccurredAt::parse(OCCURRED_AT).expect("a valid time"),
                actor: Actor {
                    id: label("clerk-1"),
                    role: label("clerk"),
                },
                source: label(source),
                payload: Map::new(),
                key_id: signer.key_id(),
            },
        }
    }

    /// Sets the event id.
    pub fn id(mut self, id: EventId) -> EventBuilder {
        self.event.event_id = id;
        self
    }

    /// Sets the payload schema version.
    pub fn version(mut self, version: u32) -> EventBuilder {
        self.event.schema_version = version;
        self
    }

    /// Sets the time the event occurred, as RFC 3339.
    pub fn occurred_at(mut self, rfc3339: &str) -> EventBuilder {
        self.event.occurred_at = OccurredAt::parse(rfc3339).expect("a valid time");
        self
    }

    /// Sets the actor's id and role.
    pub fn actor(mut self, id: &str, role: &str) -> EventBuilder {
        self.event.actor = Actor {
            id: label(id),
            role: label(role),
        };
        self
    }

    /// Sets the payload, which must be a JSON object.
    pub fn payload(mut self, payload: Value) -> EventBuilder {
        let Value::Object(payload) = payload else {
            panic!("a payload is a JSON object, not {payload}")
        };
        self.event.payload = payload;
        self
    }

    /// The event before signing, for tests that change it by hand.
    pub fn unsigned(self) -> UnsignedEvent {
        self.event
    }

    /// The signed event.
    pub fn sign(self) -> SignedEvent {
        self.event.sign(&self.signer)
    }
}
