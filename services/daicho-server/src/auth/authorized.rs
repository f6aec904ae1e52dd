//! The read side of authorisation in the router: the [`Authorized`]
//! extractor checks a request's bearer token against a short-lived cache
//! and then the database, and the permission its endpoint requires.

use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use tokio::sync::RwLock;

use super::{bearer, digests_equal, token_hash, Permission, Role};
use crate::app::AppState;
use crate::problem::{ApiError, ErrorCode};

/// How long a verified token is trusted without asking the database again.
const TOKEN_TTL: Duration = Duration::from_secs(30);

/// Tokens verified recently, so that reads do not pay a database round
/// trip each. A lookup compares the presented digest with *every* cached
/// digest in constant time and without stopping early, so its duration says
/// nothing about which tokens exist.
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: RwLock<Vec<([u8; 32], Role, Instant)>>,
}

impl TokenCache {
    async fn get(&self, digest: &[u8; 32]) -> Option<Role> {
        let entries = self.entries.read().await;
        let mut found = None;
        for (d, role, at) in entries.iter() {
            if digests_equal(d, digest) && at.elapsed() < TOKEN_TTL {
                found = Some(*role);
            }
        }
        found
    }

    async fn put(&self, digest: [u8; 32], role: Role) {
        let mut entries = self.entries.write().await;
        entries.retain(|(d, _, at)| at.elapsed() < TOKEN_TTL && d != &digest);
        entries.push((digest, role, Instant::now()));
    }
}

/// The token's role, checked against the cache and then the database.
async fn role_of(state: &AppState, parts: &Parts) -> Result<Role, ApiError> {
    let unauthorized = || ApiError::new(ErrorCode::Unauthorized);
    let token = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .ok_or_else(unauthorized)?;
    let digest = token_hash(token);
    if let Some(role) = state.tokens.get(&digest).await {
        return Ok(role);
    }
    let stored = state
        .store
        .token_role(digest)
        .await
        .map_err(|e| ApiError::internal("looking up a token", &e))?
        .ok_or_else(unauthorized)?;
    let role: Role = stored.parse().map_err(|e: String| {
        ApiError::internal(
            "a stored token has an unknown role",
            &std::io::Error::other(e),
        )
    })?;
    state.tokens.put(digest, role).await;
    Ok(role)
}

/// A permission an endpoint requires, as a type so that [`Authorized`] can
/// be the first extractor of a handler: it then runs before any path or
/// query parsing and any lookup, and a refused caller learns nothing about
/// whether the resource exists.
pub trait RequiredPermission: Send + Sync + 'static {
    /// The permission.
    const PERMISSION: Permission;
    /// Whether `Limits::public_checkpoint` makes the endpoint public.
    const PUBLIC_WITH_CHECKPOINT: bool = false;
}

macro_rules! permission {
    ($name:ident, $perm:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug)]
        pub struct $name;
        impl RequiredPermission for $name {
            const PERMISSION: Permission = $perm;
        }
    };
}
permission!(ReadEvents, Permission::ReadEvents, "Reading entries.");
permission!(ReadKeys, Permission::ReadKeys, "Reading the key registry.");
permission!(ReadProofs, Permission::ReadProofs, "Reading proofs.");
permission!(
    ReadCheckpoints,
    Permission::ReadCheckpoints,
    "Reading stored checkpoints."
);
permission!(
    ReadCatalogue,
    Permission::ReadCatalogue,
    "Reading the catalogue."
);
permission!(Export, Permission::Export, "Exporting the bundle.");
permission!(
    ReadCompliance,
    Permission::ReadCompliance,
    "Reading compliance evaluations, findings and projections."
);

/// The latest checkpoint: public when so configured.
#[derive(Debug)]
pub struct ReadLatestCheckpoint;
impl RequiredPermission for ReadLatestCheckpoint {
    const PERMISSION: Permission = Permission::ReadCheckpoints;
    const PUBLIC_WITH_CHECKPOINT: bool = true;
}

/// Proof that the caller's token grants `P` (or that the endpoint is public).
#[derive(Debug)]
pub struct Authorized<P>(pub Option<Role>, std::marker::PhantomData<P>);

impl<P: RequiredPermission> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if P::PUBLIC_WITH_CHECKPOINT && state.limits.public_checkpoint {
            return Ok(Authorized(None, std::marker::PhantomData));
        }
        let role = role_of(state, parts).await?;
        if !role.allows(P::PERMISSION) {
            return Err(ApiError::new(ErrorCode::Forbidden));
        }
        Ok(Authorized(Some(role), std::marker::PhantomData))
    }
}
