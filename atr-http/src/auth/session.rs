//! Signing in and out with a local account, and who am I.

use atr_core::auth::{MachineToken, Principal, Secret};
use atr_core::model::Person;
use atr_core::services::ServiceError;
use atr_core::types::{ProjectKey, Timestamp, UserId};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::body::Body;
use super::{Caller, now, secrets};
use crate::{ApiError, AppState};

/// `POST /api/session`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignIn {
    user: String,
    password: String,
}

/// The answer to a sign-in.
#[derive(Debug, Serialize)]
struct SignedIn {
    person: Person,
    expires_at: Timestamp,
}

/// What a token grants, without its secret.
#[derive(Debug, Serialize)]
pub(crate) struct GrantView {
    pub(crate) id: String,
    pub(crate) owner: UserId,
    pub(crate) projects: Vec<ProjectKey>,
    pub(crate) activities: Vec<&'static str>,
    pub(crate) created_at: Timestamp,
    pub(crate) expires_at: Timestamp,
}

impl From<&MachineToken> for GrantView {
    fn from(grant: &MachineToken) -> Self {
        Self {
            id: grant.id().to_owned(),
            owner: grant.owner().clone(),
            projects: grant.projects().iter().cloned().collect(),
            activities: grant.activities().iter().map(|a| a.as_str()).collect(),
            created_at: grant.created_at(),
            expires_at: grant.expires_at(),
        }
    }
}

/// `GET /api/me`.
#[derive(Debug, Serialize)]
struct Me {
    person: Person,
    /// `session` or `token`.
    signed_in_with: &'static str,
    token: Option<GrantView>,
}

/// Signs in with a local account: sets the session cookie and answers the person.
pub(crate) async fn sign_in(State(state): State<AppState>, Body(request): Body<SignIn>) -> Result<Response, ApiError> {
    let ttl = state.config.session_ttl.as_secs();
    let signed = match state.services.sign_in(&request.user, &Secret::new(request.password), ttl, now()).await {
        Ok(signed) => signed,
        Err(refused @ ServiceError::Unauthenticated(_)) => {
            tracing::info!("sign-in refused");
            return Err(refused.into());
        }
        Err(other) => return Err(other.into()),
    };
    tracing::info!(user = %signed.person.id, "signed in");
    let cookie = secrets::set_session_cookie(signed.secret.expose(), ttl, state.config.secure_cookies);
    let body = SignedIn { person: signed.person, expires_at: signed.expires_at };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Signs out: ends the session of the request's cookie, if any, and clears the cookie.
pub(crate) async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(secret) = secrets::session_cookie(&headers) {
        state.services.sign_out(&Secret::new(secret)).await?;
    }
    let cookie = secrets::clear_session_cookie(state.config.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// The signed-in person, and the token's grant when a token is used.
pub(crate) async fn me(Caller(principal): Caller) -> Result<Json<serde_json::Value>, ApiError> {
    let me = match principal {
        Principal::Anonymous => return Err(not_signed_in()),
        Principal::Person(person) => Me { person, signed_in_with: "session", token: None },
        Principal::Token { owner, token } => {
            Me { person: owner, signed_in_with: "token", token: Some(GrantView::from(&token)) }
        }
    };
    Ok(Json(serde_json::to_value(me).map_err(|e| ApiError::internal(&e))?))
}

/// The refusal of a request that needs a signed-in caller.
pub(crate) fn not_signed_in() -> ApiError {
    ApiError::unauthenticated(
        "not signed in: sign in with POST /api/session, or send Authorization: Bearer atr_<id>_<secret>",
    )
}
