//! The search page: `GET /search?q=` answers what the header's search box finds, grouped by
//! kind, with links to each thing's page. The text is parsed and bounded, the index read and
//! the visibility rules applied by `Services::search`; this module words and renders.

use askama::Template;
use askama_web::WebTemplate;
use atr_core::search::{SearchKind, SearchSubject};
use atr_core::services::ServiceError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Layout, PageError, Viewer, release_url};
use crate::AppState;
use crate::auth::now;

/// Hits of each kind on the page.
const HITS_PER_KIND: u32 = 20;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SearchQuery {
    q: Option<String>,
}

struct Hit {
    title: String,
    label: String,
    url: String,
}

struct Group {
    id: &'static str,
    heading: &'static str,
    hits: Vec<Hit>,
}

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    /// The text searched for, if any.
    text: String,
    searched: bool,
    error: Option<String>,
    groups: Vec<Group>,
}

fn heading(kind: SearchKind) -> (&'static str, &'static str) {
    match kind {
        SearchKind::Project => ("projects", "Projects"),
        SearchKind::Release => ("releases", "Releases"),
        SearchKind::Key => ("keys", "Signing keys"),
        SearchKind::Cve => ("cves", "CVEs"),
    }
}

fn hit(subject: &SearchSubject, label: String) -> Hit {
    match subject {
        SearchSubject::Project(key) => Hit { title: key.to_string(), label, url: format!("/projects/{key}") },
        SearchSubject::Release(key) => {
            let title = match &key.product {
                Some(product) => format!("{} {product} {}", key.project, key.version),
                None => format!("{} {}", key.project, key.version),
            };
            Hit { title, label, url: release_url(key) }
        }
        SearchSubject::Key(fingerprint) => {
            Hit { title: fingerprint.to_string(), label, url: format!("/keys/{fingerprint}") }
        }
        SearchSubject::Cve(id) => Hit { title: id.to_string(), label, url: format!("/cves/{id}") },
    }
}

/// `GET /search?q=`: the hits of each kind, or the box alone for an empty text, or why the text
/// cannot be searched.
pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let query = super::query(query)?;
    let text = query.q.unwrap_or_default();
    let here = uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    let title = if text.trim().is_empty() { "Search".to_owned() } else { format!("Search: {}", text.trim()) };
    let mut layout = Layout::new(title, &viewer, &here);
    layout.search.clone_from(&text);
    let mut page =
        SearchPage { layout, text: text.trim().to_owned(), searched: false, error: None, groups: Vec::new() };
    if text.trim().is_empty() {
        return Ok(page.into_response());
    }
    match state.services.search(&viewer.principal, &text, HITS_PER_KIND, now()).await {
        Ok(hits) => {
            page.searched = true;
            for kind in SearchKind::ALL {
                let hits: Vec<Hit> = hits
                    .iter()
                    .filter(|h| h.subject.kind() == kind)
                    .map(|h| hit(&h.subject, h.label.clone()))
                    .collect();
                if !hits.is_empty() {
                    let (id, heading) = heading(kind);
                    page.groups.push(Group { id, heading, hits });
                }
            }
            Ok(page.into_response())
        }
        Err(ServiceError::Field { message, .. }) => {
            page.error = Some(format!("This cannot be searched: {message}."));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
