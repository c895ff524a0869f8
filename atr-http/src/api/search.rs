//! `GET /api/search`: what the search box finds, through `Services::search`, which bounds the
//! text and applies the read rule of releases.

use atr_api as api;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};

use super::{now, query_error};
use crate::auth::Caller;
use crate::{ApiError, AppState};

/// Hits of each kind when the query names no limit.
const DEFAULT_LIMIT: u32 = 10;

pub(crate) async fn search(
    State(state): State<AppState>,
    Caller(caller): Caller,
    query: Result<Query<api::SearchQuery>, QueryRejection>,
) -> Result<Json<Vec<api::SearchHit>>, ApiError> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let hits = state.services.search(&caller, &query.q, query.limit.unwrap_or(DEFAULT_LIMIT), now()).await?;
    Ok(Json(hits.iter().map(api::SearchHit::from).collect()))
}
