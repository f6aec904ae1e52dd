//! The read side of authorisation in the router: the [`Authorized`]
//! extractor checks a request's bearer token against the database, and the
//! permission its endpoint requires.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::{bearer, token_hash, Permission, Role};
use crate::app::AppState;
use crate::problem::{ApiError, ErrorCode};

/// The token's role, asked of the database for every request: a revoked
/// token (`daicho token revoke`) is refused from the moment its deletion
/// commits, by every instance sharing the database. The lookup is one
/// primary-key read of the hash. A known token's request then counts
/// against its rate limit (`crate::rate_limit`), whatever its role may do.
async fn role_of(state: &AppState, parts: &Parts) -> Result<Role, ApiError> {
    let unauthorized = || ApiError::new(ErrorCode::Unauthorized);
    let token = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .ok_or_else(unauthorized)?;
    let digest = token_hash(token);
    let stored = state
        .store
        .token_role(digest)
        .await
        .map_err(|e| ApiError::store("looking up a token", &e))?
        .ok_or_else(unauthorized)?;
    state.rate_limits.check_token(&digest, &state.metrics)?;
    let role: Role = stored.parse().map_err(|e: String| {
        ApiError::internal(
            "a stored token has an unknown role",
            &std::io::Error::other(e),
        )
    })?;
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
    Backfill,
    Permission::Backfill,
    "Recording acts older than the occurred_at window."
);
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
