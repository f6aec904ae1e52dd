//! Signing keys derived from published seeds. Nothing here is secret.

use daicho_core::keys::NoteSigner;
use daicho_core::Digest;

/// The origin of every sample ledger (and the name of its ledger key).
pub const ORIGIN: &str = "kameoka.example/daicho/test";
/// The source name of the finance system's key.
pub const FINANCE: &str = "zaimu-system";
/// The source name of the personnel system's key.
pub const PERSONNEL: &str = "jinji-system";
/// Event types the finance key may sign.
pub const FINANCE_TYPES: [&str; 2] = ["kameoka.payment.approved", "kameoka.document.filed"];
/// The event type the personnel key may sign.
pub const PERSONNEL_TYPE: &str = "kameoka.access.granted";

/// A key named `name` whose 32-byte seed is `byte` repeated: the keys of
/// tests that need a few distinct keys and no ledger around them.
pub fn signer(name: &str, byte: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [byte; 32]).expect("a valid key name")
}

/// The seed of the key playing `role` in the ledger numbered `seed`.
pub(crate) fn seed_of(seed: u64, role: &str) -> [u8; 32] {
    let mut data = seed.to_le_bytes().to_vec();
    data.extend_from_slice(role.as_bytes());
    Digest::of(&data).0
}

/// The keys of a sample ledger, all from one seed.
#[derive(Debug, Clone)]
pub struct Keys {
    /// The ledger key: signs the genesis and the checkpoints.
    pub ledger: NoteSigner,
    /// The first administrator key: registers and revokes source keys.
    pub admin: NoteSigner,
    /// The finance system's key.
    pub finance: NoteSigner,
    /// The personnel system's key (revoked in the sample ledger).
    pub personnel: NoteSigner,
    /// A key nobody registered, for forged checkpoints and events.
    pub stranger: NoteSigner,
    /// The key the rotated sample ledger rotates its ledger key to.
    pub next_ledger: NoteSigner,
}

impl Keys {
    /// The keys for `seed`.
    pub fn new(seed: u64) -> Keys {
        let signer = |role: &str, name: &str| {
            NoteSigner::from_seed(name, seed_of(seed, role)).expect("a valid key name")
        };
        Keys {
            ledger: signer("ledger", ORIGIN),
            admin: signer("admin", "admin"),
            finance: signer("finance", FINANCE),
            personnel: signer("personnel", PERSONNEL),
            stranger: signer("stranger", ORIGIN),
            next_ledger: signer("next-ledger", ORIGIN),
        }
    }
}
