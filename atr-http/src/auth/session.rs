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

/// The client's address, when the server recorded it (`atr_http::serve` does; an in-process
/// call has none).
pub(crate) struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let connected = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(Peer(connected.map(|c| c.0.ip())))
    }
}

/// Signs in with a local account: sets the session cookie and answers the person.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    Peer(peer): Peer,
    Body(request): Body<api::SignIn>,
) -> Result<Response, ApiError> {
    let ttl = state.config.session_ttl.as_secs();
    let address = peer.map(|ip| ip.to_string());
    let password = Secret::new(request.password);
    let attempt = state.services.sign_in_from(&request.user, &password, address.as_deref(), ttl, now());
    let signed = match attempt.await {
        Ok(signed) => signed,
        Err(refused @ ServiceError::Unauthenticated(_)) => {
            tracing::info!("sign-in refused");
            return Err(refused.into());
        }
        Err(throttled @ ServiceError::Throttled { .. }) => {
            tracing::warn!(address = address.as_deref().unwrap_or("unknown"), "sign-in throttled");
            return Err(throttled.into());
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
