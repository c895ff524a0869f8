//! Streaming one file of a revision, with validators, conditional requests and ranges.

use std::io::SeekFrom;
use std::time::SystemTime;

use atr_core::model::{FileEntry, ReleaseKey, RevisionNumber};
use atr_core::types::{ReleasePath, Stage};
use axum::body::Body;
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    LAST_MODIFIED, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::range::{self, Part};
use super::resolve::missing;
use super::{cache_control, listing};
use crate::{ApiError, AppState};

/// Size of the chunks a file is streamed in.
const CHUNK: usize = 64 * 1024;

/// The folder of a revision's files, beside its `manifest.json`.
const FILES_DIR: &str = "files";

/// What a file response must never let a browser do with uploaded content: guess its type or
/// run it on the service's origin.
const SANDBOX: &str = "default-src 'none'; sandbox";

/// Answers a request for one file of a revision.
pub(super) async fn file(
    app: &AppState,
    release: &ReleaseKey,
    revision: RevisionNumber,
    path: &ReleasePath,
    stage: Stage,
    request: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let manifest = listing::manifest(app, release, revision).await?;
    let Some(entry) = manifest.iter().find(|entry| &entry.path == path) else {
        let folder = format!("{path}/");
        let error = missing("file", format!("file {path} not found in release {release}"));
        return Err(if manifest.iter().any(|entry| entry.path.as_str().starts_with(&folder)) {
            ApiError::not_found(format!("{path} is a folder of release {release}; list it as {path}/"))
                .with_details(serde_json::json!({ "missing": "file", "folder": folder }))
        } else {
            error
        });
    };
    let disk =
        path.segments().fold(app.storage.files.revision_path(release, revision).join(FILES_DIR), |p, s| p.join(s));
    let broken = |cause: std::io::Error| {
        ApiError::internal(&format!("cannot read {path} of revision {revision} of {release}: {cause}"))
    };
    let mut opened = if head { None } else { Some(tokio::fs::File::open(&disk).await.map_err(broken)?) };
    let metadata = match &opened {
        Some(file) => file.metadata().await,
        None => tokio::fs::metadata(&disk).await,
    }
    .map_err(broken)?;
    if metadata.len() != entry.size {
        return Err(ApiError::internal(&format!(
            "{path} of revision {revision} of {release} has {} bytes on disk, {} in its manifest",
            metadata.len(),
            entry.size
        )));
    }
    let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let etag = etag(entry);

    let mut headers = HeaderMap::new();
    headers.insert(ETAG, value(&etag));
    headers.insert(LAST_MODIFIED, value(&httpdate::fmt_http_date(modified)));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache_control(stage)));
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if range::not_modified(request, &etag, modified) {
        // A 304 may carry only the length a 200 would have; without it the framework would
        // announce an empty file.
        headers.insert(CONTENT_LENGTH, HeaderValue::from(entry.size));
        return Ok(respond(StatusCode::NOT_MODIFIED, headers, Body::empty()));
    }
    headers.insert(CONTENT_TYPE, value(content_type(path.file_name())));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(SANDBOX));
    let len = entry.size;
    let (status, start, count) = match range::part(request, len, &etag, modified) {
        Part::Whole => (StatusCode::OK, 0, len),
        Part::Range { start, end } => {
            headers.insert(CONTENT_RANGE, value(&format!("bytes {start}-{end}/{len}")));
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        Part::Unsatisfiable => {
            headers.insert(CONTENT_RANGE, value(&format!("bytes */{len}")));
            headers.insert(CONTENT_LENGTH, HeaderValue::from(0));
            headers.remove(CONTENT_TYPE);
            return Ok(respond(StatusCode::RANGE_NOT_SATISFIABLE, headers, Body::empty()));
        }
    };
    headers.insert(CONTENT_LENGTH, HeaderValue::from(count));
    let body = match opened.take() {
        Some(mut file) => {
            if start > 0 {
                file.seek(SeekFrom::Start(start)).await.map_err(broken)?;
            }
            Body::from_stream(ReaderStream::with_capacity(file.take(count), CHUNK))
        }
        None => Body::empty(),
    };
    Ok(respond(status, headers, body))
}

/// The strong entity tag of a file: its SHA-512, which the manifest recorded when it was
/// uploaded. The same bytes have the same tag in every release, revision and stage.
pub(super) fn etag(entry: &FileEntry) -> String {
    format!("\"sha512-{}\"", entry.sha512.to_hex())
}

/// The `Content-Type` of a release file, by its name. The release formats get their registered
/// types; the rest is left to `mime_guess`, and unknown names are `application/octet-stream`.
pub(super) fn content_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    let is = |suffix: &str| lower.ends_with(suffix);
    if is(".asc") || is(".sig") {
        "application/pgp-signature"
    } else if is(".sha512") || is(".sha256") || is(".sha1") || is(".sha") || is(".md5") {
        "text/plain; charset=utf-8"
    } else if is(".tar.gz") || is(".tgz") {
        "application/gzip"
    } else if is(".json") {
        "application/json"
    } else {
        mime_guess::from_path(&lower).first_raw().unwrap_or("application/octet-stream")
    }
}

fn value(text: &str) -> HeaderValue {
    // Only called with texts made of visible ASCII (digests, dates, numbers, known types).
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

pub(super) fn respond(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(content_type("httpd-2.4.68.tar.gz.asc"), "application/pgp-signature");
        assert_eq!(content_type("httpd-2.4.68.tar.gz.sha512"), "text/plain; charset=utf-8");
        assert_eq!(content_type("httpd-2.4.68.tar.gz.SHA256"), "text/plain; charset=utf-8");
        assert_eq!(content_type("httpd-2.4.68.tar.gz"), "application/gzip");
        assert_eq!(content_type("httpd-2.4.68.tgz"), "application/gzip");
        assert_eq!(content_type("httpd-2.4.68.cdx.json"), "application/json");
        assert_eq!(content_type("httpd-2.4.68.zip"), "application/zip");
        assert_eq!(content_type("KEYS"), "application/octet-stream");
    }
}
