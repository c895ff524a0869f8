//! Personal access tokens: created from a signed-in session, shown once, listed without their
//! secret, revoked by their owner.

use std::collections::BTreeSet;

use atr_core::auth::{Activity, MachineToken, Principal, TokenError};
use atr_core::model::Person;
use atr_core::types::{ProjectKey, Timestamp};
use atr_store::sql::StoredToken;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::body::Body;
use super::session::{GrantView, not_signed_in};
use super::{Caller, now, secrets};
use crate::{ApiError, AppState};

/// Longest token name, in characters.
const MAX_NAME_LEN: usize = 100;

/// `POST /api/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    /// The owner's label, such as `ci-nightly`.
    name: String,
    projects: BTreeSet<ProjectKey>,
    activities: BTreeSet<Activity>,
    /// 1 to 366.
    expires_in_days: u32,
}

/// A token's metadata, never its secret.
#[derive(Debug, Serialize)]
struct TokenView {
    #[serde(flatten)]
    grant: GrantView,
    name: String,
    /// `active`, `revoked` or `expired`.
    status: &'static str,
    revoked_at: Option<Timestamp>,
    last_used_at: Option<Timestamp>,
}

impl TokenView {
    fn of(stored: &StoredToken, now: Timestamp) -> Self {
        let status = if stored.revoked_at.is_some() {
            "revoked"
        } else if stored.grant.is_live(now) {
            "active"
        } else {
            "expired"
        };
        Self {
            grant: GrantView::from(&stored.grant),
            name: stored.name.clone(),
            status,
            revoked_at: stored.revoked_at,
            last_used_at: stored.last_used_at,
        }
    }
}

/// The answer to a creation: the bearer string, shown this once, and the metadata.
#[derive(Debug, Serialize)]
struct CreatedToken {
    token: String,
    #[serde(flatten)]
    view: TokenView,
}

/// A refusal naming the request field at fault.
fn field_error(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(format!("{field}: {message}")).with_details(json!({ "field": field }))
}

/// The person whose tokens a caller manages: the signed-in person, or a token's owner.
fn owner_of(principal: Principal) -> Result<Person, ApiError> {
    match principal {
        Principal::Anonymous => Err(not_signed_in()),
        Principal::Person(person) | Principal::Token { owner: person, .. } => Ok(person),
    }
}

/// Creates a token for the signed-in person. Tokens cannot create tokens.
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Body(request): Body<NewToken>,
) -> Result<Response, ApiError> {
    let owner = match principal {
        Principal::Anonymous => return Err(not_signed_in()),
        Principal::Token { .. } => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "permission denied: a token cannot create tokens; sign in with a session",
            ));
        }
        Principal::Person(person) => person,
    };
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(field_error("name", format!("must be 1 to {MAX_NAME_LEN} characters, without control characters")));
    }
    let created_at = now();
    let expires_at = created_at.plus_seconds(i64::from(request.expires_in_days) * 86_400);
    let id = secrets::new_token_id()?;
    let grant = MachineToken::new(id, owner.id.clone(), request.projects, request.activities, created_at, expires_at)
        .map_err(|e| match e {
        TokenError::Projects => field_error("projects", e),
        TokenError::NoActivity | TokenError::AboveReleaseManager(_) => field_error("activities", e),
        TokenError::Lifetime => field_error("expires_in_days", "must be 1 to 366 days"),
        TokenError::BadId => ApiError::internal(&e),
    })?;
    let secret = secrets::new_secret()?;
    state.storage.sql.create_token(&grant, name, &secrets::secret_hash(&secret)).await?;
    tracing::info!(owner = %owner.id, token = grant.id(), "token created");
    let stored =
        StoredToken { grant, name: name.to_owned(), secret_hash: String::new(), revoked_at: None, last_used_at: None };
    let body = CreatedToken { token: secrets::bearer(stored.grant.id(), &secret), view: TokenView::of(&stored, now()) };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The caller's tokens (the signed-in person's, or the presenting token owner's), without
/// secrets.
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let owner = owner_of(principal)?;
    let at = now();
    let tokens: Vec<TokenView> =
        state.storage.sql.list_tokens(&owner.id).await?.iter().map(|t| TokenView::of(t, at)).collect();
    Ok(Json(json!({ "tokens": tokens })))
}

/// Revokes one of the caller's tokens; a token may revoke itself.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let owner = owner_of(principal)?;
    state.storage.sql.revoke_token(&id, &owner.id, now()).await?;
    tracing::info!(owner = %owner.id, token = %id, "token revoked");
    Ok(StatusCode::NO_CONTENT)
}
