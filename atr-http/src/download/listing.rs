//! Listing a folder of a release, from its revision's manifest: as JSON for API clients, as an
//! HTML page for browsers (chosen by `Accept`; answers say `Vary: Accept`).

use std::collections::BTreeMap;

use atr_api::{EntryKind, FolderListing, ListedRelease, ListingEntry};
use atr_core::model::FileEntry;
use atr_core::services::ServedFolder;
use axum::body::Body;
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::serve::respond;
use super::{cache_control, range};
use crate::ApiError;

/// Answers a request for a folder the services found (its root, or a folder with files).
pub(super) fn folder(served: &ServedFolder, request: &HeaderMap, head: bool) -> Result<Response, ApiError> {
    let (release, revision, stage) = (served.release(), served.revision(), served.stage());
    let prefix = served.folder().map(|f| format!("{f}/")).unwrap_or_default();
    let entries = entries(served.files(), &prefix);
    let key = &release.key;
    let listing = FolderListing {
        release: ListedRelease {
            project: key.project.as_str().to_owned(),
            product: key.product.as_ref().map(|p| p.as_str().to_owned()),
            version: key.version.as_str().to_owned(),
            stage: stage.into(),
        },
        revision: revision.to_string(),
        path: prefix,
        entries,
    };
    let html = wants_html(request);
    let (body, content_type, suffix) = if html {
        let folder = crate::web::listing::Folder {
            release,
            stage: stage.as_str(),
            revision: listing.revision.clone(),
            prefix: &listing.path,
            entries: listing
                .entries
                .iter()
                .map(|e| crate::web::listing::Entry {
                    name: e.name.clone(),
                    folder: e.kind == EntryKind::Folder,
                    size: e.size,
                })
                .collect(),
        };
        let page = crate::web::listing::render(&folder).map_err(|e| ApiError::internal(&e))?;
        (page.into_bytes(), "text/html; charset=utf-8", "-html")
    } else {
        (serde_json::to_vec(&listing).map_err(|e| ApiError::internal(&e))?, "application/json", "")
    };
    let mut headers = HeaderMap::new();
    // The URL names the release and the folder; the revision fixes the content, `Accept` its form.
    let etag = format!("\"listing-{revision}{suffix}\"");
    headers.insert(ETAG, HeaderValue::from_str(&etag).map_err(|e| ApiError::internal(&e))?);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache_control(stage)));
    headers.insert(VARY, HeaderValue::from_static("Accept"));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    if html {
        crate::web::security::page_headers(&mut headers);
    }
    if range::not_modified_by_tag(request, &etag) {
        return Ok(respond(StatusCode::NOT_MODIFIED, headers, Body::empty()));
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    let body = if head { Body::empty() } else { Body::from(body) };
    Ok(respond(StatusCode::OK, headers, body))
}

/// Whether the client asks for HTML: its `Accept` names `text/html` (with a weight above zero),
/// as browsers' do. API clients (`application/json`, `*/*`, or none) get JSON.
fn wants_html(request: &HeaderMap) -> bool {
    request.get_all(ACCEPT).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        let refused = parts.any(|p| p.strip_prefix("q=").is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0)));
        media.eq_ignore_ascii_case("text/html") && !refused
    })
}

/// The entries directly under `prefix` (a folder path ending in `/`, or empty for the root),
/// sorted by name.
fn entries(manifest: &[FileEntry], prefix: &str) -> Vec<ListingEntry> {
    let mut found: BTreeMap<&str, ListingEntry> = BTreeMap::new();
    for file in manifest {
        let Some(rest) = file.path.as_str().strip_prefix(prefix) else {
            continue;
        };
        match rest.split_once('/') {
            None => {
                let entry = ListingEntry {
                    name: rest.to_owned(),
                    kind: EntryKind::File,
                    size: file.size,
                    sha512: Some(file.sha512.to_hex()),
                };
                found.insert(rest, entry);
            }
            Some((name, _)) => {
                let entry = found.entry(name).or_insert_with(|| ListingEntry {
                    name: name.to_owned(),
                    kind: EntryKind::Folder,
                    size: 0,
                    sha512: None,
                });
                entry.size = entry.size.saturating_add(file.size);
            }
        }
    }
    found.into_values().collect()
}
