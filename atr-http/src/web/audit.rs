//! The audit pages: the foundation's and a project's event history, newest first, paged by event
//! id, with the verification status of the hash chain for those who may verify it.

use askama::Template;
use askama_web::WebTemplate;
use atr_core::ports::{AuditVerdict, EventFilter, PageRequest};
use atr_core::services::ServiceError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::pages::{EventRow, event_row};
use super::{Layout, PageError, Viewer};
use crate::AppState;
use crate::auth::now;

/// Events on one page.
const PAGE: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditQuery {
    /// Show events older than this id.
    before: Option<u64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    heading: String,
    chain: String,
    events: Vec<EventRow>,
    older: Option<String>,
}

/// `GET /audit`: the foundation's history (`view all events`).
pub(crate) async fn foundation(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let query = super::query(query)?;
    let filter = EventFilter { project: None, product: None, release: None };
    page(&state, &viewer, &uri, "History of the foundation".to_owned(), "/audit", &filter, query.before).await
}

/// `GET /projects/{project}/audit`: a project's history (`view release events`).
pub(crate) async fn project(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(project): Path<String>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let query = super::query(query)?;
    let key = atr_core::types::ProjectKey::parse(&project)
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such project."))?;
    let base = format!("/projects/{key}/audit");
    let filter = EventFilter { project: Some(key.clone()), product: None, release: None };
    page(&state, &viewer, &uri, format!("History of {key}"), &base, &filter, query.before).await
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    uri: &Uri,
    heading: String,
    base: &str,
    filter: &EventFilter,
    before: Option<u64>,
) -> Result<Response, PageError> {
    let now = now();
    let events =
        state.services.list_events(&viewer.principal, filter, PageRequest { after: before, limit: PAGE }, now).await?;
    let older = (events.len() == PAGE as usize).then(|| {
        let last = events.last().map_or(0, |e| e.id);
        format!("{base}?before={last}")
    });
    let chain = match state.services.verify_audit(&viewer.principal, now).await {
        Ok(AuditVerdict::Intact { events, .. }) => {
            format!("The hash chain verifies: all {events} events of the log are as they were recorded.")
        }
        Ok(AuditVerdict::Broken { broken_at: Some(id), .. }) => {
            format!("The hash chain is broken: event {id} was changed, deleted or cut off.")
        }
        Ok(AuditVerdict::Broken { broken_at: None, .. }) => {
            "The hash chain could not be verified: the log could not be read.".to_owned()
        }
        Err(ServiceError::Denied(_)) => "The hash chain's verification is shown to admins.".to_owned(),
        Err(other) => return Err(other.into()),
    };
    let here = uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    let page = AuditPage {
        layout: Layout::new(heading.clone(), viewer, &here),
        heading,
        chain,
        events: events.iter().map(event_row).collect(),
        older,
    };
    Ok(page.into_response())
}
