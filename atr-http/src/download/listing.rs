//! Listing a folder of a release as JSON, from its revision's manifest.

use std::collections::BTreeMap;

use atr_api::{EntryKind, FolderListing, ListedRelease, ListingEntry};
use atr_core::model::FileEntry;
use atr_core::services::ServedFolder;
use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG};
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
    let body = serde_json::to_vec(&listing).map_err(|e| ApiError::internal(&e))?;
    let mut headers = HeaderMap::new();
    // The URL names the release and the folder; the revision fixes the content.
    let etag = format!("\"listing-{revision}\"");
    headers.insert(ETAG, HeaderValue::from_str(&etag).map_err(|e| ApiError::internal(&e))?);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache_control(stage)));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    if range::not_modified_by_tag(request, &etag) {
        return Ok(respond(StatusCode::NOT_MODIFIED, headers, Body::empty()));
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = if head { Body::empty() } else { Body::from(body) };
    Ok(respond(StatusCode::OK, headers, body))
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
