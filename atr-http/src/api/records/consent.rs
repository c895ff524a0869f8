//! A visitor's consent to keep their name and email, which lets them vote; revoking it erases
//! both and keeps their ballots as anonymous tally entries.

use atr_api as api;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;

use super::super::{SignedIn, json_error, now};
use super::ApiResult;
use crate::AppState;

/// Gives (or renews) the caller's consent.
pub(crate) async fn give(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    body: Result<Json<api::GiveConsent>, JsonRejection>,
) -> ApiResult<Json<api::Consent>> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    Ok(Json((&state.services.give_consent(&caller, &body.name, &body.email, now()).await?).into()))
}

/// Revokes the caller's consent: 204, or 404 when there is none.
pub(crate) async fn revoke(State(state): State<AppState>, SignedIn(caller): SignedIn) -> ApiResult<StatusCode> {
    state.services.revoke_consent(&caller, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
