//! The audit log, with the visibility rules of the role table: a release's or project's history
//! for everyone, the foundation-wide history for ASF members and admins.

use atr_core::auth::{self, Activity, Target};
use atr_core::model::Event;
use atr_core::ports::{CommitteeRepository, EventFilter, EventRepository, PageRequest, ProjectRepository};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::{now, project_key, query_error, release_key};
use crate::auth::Caller;
use crate::{ApiError, AppState};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    project: Option<String>,
    product: Option<String>,
    /// A version of the project (with `product` for a sub-product's release).
    version: Option<String>,
    /// Events with ids below this one (the last id of the previous page).
    before: Option<u64>,
    limit: Option<u32>,
}

pub(crate) async fn events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<Vec<Event>>, ApiError> {
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
    match &query.project {
        Some(project) => {
            let key = project_key(project)?;
            let project = ProjectRepository::get(&state.storage.sql, &key)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("project {key} not found")))?;
            let committee = CommitteeRepository::get(&state.storage.sql, &project.committee)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("committee {} not found", project.committee)))?;
            let target = Target::Project { project: &key, committee: &committee };
            auth::authorize(&caller, Activity::ViewReleaseEvents, &target, now())?;
        }
        None => auth::authorize(&caller, Activity::ViewAllEvents, &Target::Foundation, now())?,
    }
    let page = PageRequest { after: query.before, limit: query.limit.unwrap_or(100) };
    Ok(Json(EventRepository::list(&state.storage.sql, &filter, page).await?))
}
