//! Who is calling: sessions and tokens. (Being built; today every request is anonymous.)

use atr_core::auth::Principal;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::{ApiError, AppState};

/// The caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(axum::http::header::AUTHORIZATION) {
            return Err(ApiError::unauthenticated("this credential is not accepted"));
        }
        Ok(Caller(Principal::Anonymous))
    }
}

/// The sign-in routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
