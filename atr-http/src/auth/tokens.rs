//! Personal access tokens: created from a signed-in session, shown once, listed without their
//! secret, revoked by their owner.

use std::collections::BTreeSet;

use atr_api as api;
use atr_core::auth::bearer::bearer;
use atr_core::auth::{Activity, Principal, StoredToken};
use atr_core::services::NewToken as TokenRequest;
use atr_core::types::{ProjectKey, Timestamp};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::body::Body;
use super::session::not_signed_in;
use super::{Caller, now};
use crate::{ApiError, AppState};

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

/// A token's metadata as the API shows it.
fn view(stored: &StoredToken, now: Timestamp) -> api::Token {
    api::Token::new(&stored.grant, &stored.name, stored.status(now).into(), stored.revoked_at, stored.last_used_at)
}

/// Refuses anonymous callers with the sign-in hint.
fn signed_in(principal: &Principal) -> Result<(), ApiError> {
    if matches!(principal, Principal::Anonymous) { Err(not_signed_in()) } else { Ok(()) }
}

/// Creates a token for the signed-in person. Tokens cannot create tokens.
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Body(request): Body<NewToken>,
) -> Result<Response, ApiError> {
    signed_in(&principal)?;
    let request = TokenRequest {
        name: request.name,
        projects: request.projects,
        activities: request.activities,
        expires_in_days: request.expires_in_days,
    };
    let at = now();
    let (stored, secret) = state.services.create_token(&principal, request, at).await?;
    tracing::info!(owner = %stored.grant.owner(), token = stored.grant.id(), "token created");
    let body = api::CreatedToken::new(bearer(stored.grant.id(), &secret), view(&stored, at));
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The caller's tokens (the signed-in person's, or the presenting token owner's), without
/// secrets.
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<api::TokenList>, ApiError> {
    signed_in(&principal)?;
    let at = now();
    let tokens = state.services.tokens(&principal).await?.iter().map(|t| view(t, at)).collect();
    Ok(Json(api::TokenList { tokens }))
}

/// Revokes one of the caller's tokens; a token may revoke itself.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    signed_in(&principal)?;
    state.services.revoke_token(&principal, &id, now()).await?;
    tracing::info!(token = %id, "token revoked");
    Ok(StatusCode::NO_CONTENT)
}
