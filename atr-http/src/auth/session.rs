//! Signing in and out with a local account, and who am I.

use atr_api as api;
use atr_core::auth::{Principal, Secret};
use atr_core::services::ServiceError;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::body::Body;
use super::{Caller, now, secrets};
use crate::{ApiError, AppState};

/// Signs in with a local account: sets the session cookie and answers the person.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    Body(request): Body<api::SignIn>,
) -> Result<Response, ApiError> {
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
    let body = api::Session { person: (&signed.person).into(), expires_at: signed.expires_at.unix() };
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
pub(crate) async fn me(Caller(principal): Caller) -> Result<Json<api::Me>, ApiError> {
    let me = match principal {
        Principal::Anonymous => return Err(not_signed_in()),
        Principal::Person(person) => {
            api::Me { person: (&person).into(), signed_in_with: api::SignedInWith::Session, token: None }
        }
        Principal::Token { owner, token } => api::Me {
            person: (&owner).into(),
            signed_in_with: api::SignedInWith::Token,
            token: Some(api::Grant::from(&token)),
        },
    };
    Ok(Json(me))
}

/// The refusal of a request that needs a signed-in caller.
pub(crate) fn not_signed_in() -> ApiError {
    ApiError::unauthenticated(
        "not signed in: sign in with POST /api/session, or send Authorization: Bearer atr_<id>_<secret>",
    )
}
