//! The audit pages: the foundation's, a project's and a product's event history, newest first, paged by event
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
    /// Only the events of this product of the project.
    product: Option<String>,
}

/// A link to the history of a part of the project, for the filter line of the page.
struct Part {
    label: String,
    url: String,
    current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    heading: String,
    chain: String,
    /// The project's whole history and each product's, when the page is a project's.
    parts: Vec<Part>,
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
    let heading = "History of the foundation".to_owned();
    page(&state, &viewer, &uri, heading, "/audit?", Vec::new(), &filter, query.before).await
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
    let product = match query.product.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => {
            Some(atr_core::types::ProductKey::parse(p).map_err(|e| PageError::bad_request(format!("product: {e}")))?)
        }
        None => None,
    };
    let view = state.services.get_project(&key).await?;
    if let Some(p) = &product
        && !view.project.has_product(p)
    {
        return Err(PageError::new(StatusCode::NOT_FOUND, format!("Project {key} has no product {p}.")));
    }
    let whole = format!("/projects/{key}/audit");
    let mut parts =
        vec![Part { label: "the whole project".to_owned(), url: whole.clone(), current: product.is_none() }];
    parts.extend(view.project.products.iter().map(|p| Part {
        label: format!("product {}", p.key),
        url: format!("{whole}?product={}", p.key),
        current: product.as_ref() == Some(&p.key),
    }));
    let (heading, base) = match &product {
        Some(p) => (format!("History of {key}, product {p}"), format!("{whole}?product={p}&")),
        None => (format!("History of {key}"), format!("{whole}?")),
    };
    let filter = EventFilter { project: Some(key.clone()), product, release: None };
    page(&state, &viewer, &uri, heading, &base, parts, &filter, query.before).await
}

#[expect(clippy::too_many_arguments, reason = "what a history page shows, named one by one")]
async fn page(
    state: &AppState,
    viewer: &Viewer,
    uri: &Uri,
    heading: String,
    base: &str,
    parts: Vec<Part>,
    filter: &EventFilter,
    before: Option<u64>,
) -> Result<Response, PageError> {
    let now = now();
    let events =
        state.services.list_events(&viewer.principal, filter, PageRequest { after: before, limit: PAGE }, now).await?;
    let older = (events.len() == PAGE as usize).then(|| {
        let last = events.last().map_or(0, |e| e.id);
        format!("{base}before={last}")
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
        parts,
        events: events.iter().map(event_row).collect(),
        older,
    };
    Ok(page.into_response())
}
