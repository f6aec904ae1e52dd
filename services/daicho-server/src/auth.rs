//! Read authorisation: bearer tokens, their roles, and what each role may read.
//!
//! Writes are not authorised here: an append is authenticated by its event
//! signature against the key registry. Reads need a bearer token whose role
//! grants the endpoint's [`Permission`]. Tokens are random, shown once, and
//! stored only as their SHA-256 digest, so a copy of the database does not
//! hold a usable token.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use utoipa::ToSchema;

mod authorized;

pub use authorized::{
    Authorized, Backfill, Export, ReadCatalogue, ReadCheckpoints, ReadCompliance, ReadEvents,
    ReadKeys, ReadLatestCheckpoint, ReadProofs, RequiredPermission,
};

/// The prefix of every token, so that a leaked one is recognisable by
/// secret scanners.
pub const TOKEN_PREFIX: &str = "daicho_";

/// A reader's role. The matrix in [`Role::allows`] is documented in docs/API.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Verifies the ledger without seeing its content: checkpoints, proofs, the catalogue.
    Reader,
    /// The information security committee: reads entries and the key registry.
    Committee,
    /// An auditor: reads everything and exports the bundle.
    Auditor,
    /// The operator: everything an auditor may.
    Admin,
}

/// What an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Signed checkpoints (`/v1/checkpoint`, `/v1/checkpoints/{size}`).
    ReadCheckpoints,
    /// Inclusion and consistency proofs: hashes only, no content.
    ReadProofs,
    /// The regulation catalogue: articles, forms, roles, event types.
    ReadCatalogue,
    /// Entries and their events (`/v1/events…`).
    ReadEvents,
    /// The key registry (`/v1/keys`).
    ReadKeys,
    /// The whole bundle (`/v1/export`).
    Export,
    /// Compliance evaluations, findings and projections (`/v1/compliance`,
    /// `/v1/findings`, `/v1/state/…`): they name people and subjects, so a
    /// reader does not see them.
    ReadCompliance,
    /// Recording acts older than the `occurred_at` window
    /// (`POST /v1/events/backfill`).
    Backfill,
}

impl Role {
    /// Every role, in the order of docs/API.md's matrix.
    pub const ALL: [Role; 4] = [Role::Reader, Role::Committee, Role::Auditor, Role::Admin];

    /// Whether this role grants `p`.
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            // A reader can check that the ledger is consistent and that a
            // receipt it holds is included, but events carry personal data
            // and stay hidden from it.
            Role::Reader => matches!(p, ReadCheckpoints | ReadProofs | ReadCatalogue),
            // The committee reviews what happened but does not take copies
            // of the whole ledger.
            Role::Committee => !matches!(p, Export | Backfill),
            // Auditors read everything but write nothing.
            Role::Auditor => !matches!(p, Backfill),
            Role::Admin => true,
        }
    }

    /// The string form, as stored and as given to `token create --role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Committee => "committee",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role {s:?}; roles are reader, committee, auditor, admin")
            })
    }
}

/// A new random token: the prefix and 32 random bytes in base64url.
pub fn new_token() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw))
}

/// The SHA-256 digest under which a token is stored.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Compares two token digests in constant time, so that the time a
/// comparison takes says nothing about how many leading bytes matched.
pub fn digests_equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Extracts the token from an `Authorization` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_is_monotone_from_reader_to_admin() {
        use Permission::*;
        for p in [
            ReadCheckpoints,
            ReadProofs,
            ReadCatalogue,
            ReadEvents,
            ReadKeys,
            Export,
        ] {
            assert!(Role::Admin.allows(p));
            if Role::Reader.allows(p) {
                assert!(Role::Committee.allows(p));
            }
            if Role::Committee.allows(p) {
                assert!(Role::Auditor.allows(p));
            }
        }
        assert!(!Role::Reader.allows(ReadEvents));
        assert!(!Role::Committee.allows(Export));
    }

    #[test]
    fn tokens_are_distinct_and_hash_stably() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert!(digests_equal(&token_hash(&a), &token_hash(&a)));
        assert!(!digests_equal(&token_hash(&a), &token_hash(&b)));
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
    }
}
