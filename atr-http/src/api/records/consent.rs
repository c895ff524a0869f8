//! A visitor's consent to keep their name and email, which lets them vote; revoking it erases
//! both and keeps their ballots as anonymous tally entries.

use atr_core::model::Consent;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde::Deserialize;

use super::super::{SignedIn, json_error, now};
use super::ApiResult;
use crate::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GiveConsent {
    name: String,
    email: String,
}

/// Gives (or renews) the caller's consent.
pub(crate) async fn give(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    body: Result<Json<GiveConsent>, JsonRejection>,
) -> ApiResult<Json<Consent>> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    Ok(Json(state.services.give_consent(&caller, &body.name, &body.email, now()).await?))
}

/// Revokes the caller's consent: 204, or 404 when there is none.
pub(crate) async fn revoke(State(state): State<AppState>, SignedIn(caller): SignedIn) -> ApiResult<StatusCode> {
    state.services.revoke_consent(&caller, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
