//! The audit log, with the visibility rules of the role table: a release's or project's history
//! for everyone, the foundation-wide history for ASF members and admins.

use atr_api as api;
use atr_core::ports::{EventFilter, PageRequest};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};

use super::{now, project_key, query_error, release_key};
use crate::auth::Caller;
use crate::{ApiError, AppState};

pub(crate) async fn events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    query: Result<Query<api::EventsQuery>, QueryRejection>,
) -> Result<Json<Vec<api::Event>>, ApiError> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let mut filter = EventFilter::default();
    match (&query.project, &query.version) {
        (Some(project), Some(version)) => {
            let key = release_key(project, version, query.product.as_deref())?;
            filter.release = Some(key);
        }
        (Some(project), None) => {
            filter.project = Some(project_key(project)?);
            filter.product = query
                .product
                .as_deref()
                .map(|p| {
                    atr_core::types::ProductKey::parse(p).map_err(|e| ApiError::bad_request(format!("product: {e}")))
                })
                .transpose()?;
        }
        (None, Some(_)) => return Err(ApiError::bad_request("version: name the project too")),
        (None, None) => {}
    }
    let page = PageRequest { after: query.before, limit: query.limit.unwrap_or(100) };
    let events = state.services.list_events(&caller, &filter, page, now()).await?;
    Ok(Json(events.iter().map(api::Event::from).collect()))
}
