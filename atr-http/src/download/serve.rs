//! Streaming one file of a revision, with validators, conditional requests and ranges.

use std::time::{Duration, UNIX_EPOCH};

use atr_core::model::FileEntry;
use atr_core::services::ServedFile;
use axum::body::Body;
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    LAST_MODIFIED, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::cache_control;
use super::range::{self, Part};
use crate::{ApiError, AppState};

/// What a file response must never let a browser do with uploaded content: guess its type or
/// run it on the service's origin.
const SANDBOX: &str = "default-src 'none'; sandbox";

/// Answers a request for a file the services found, streaming its bytes from release storage.
pub(super) async fn file(
    app: &AppState,
    file: &ServedFile,
    request: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let (entry, stage) = (file.entry(), file.stage());
    let path = &entry.path;
    let stored = app.services.stat_served(file).await?;
    if stored.size != entry.size {
        return Err(ApiError::internal(&format!(
            "{path} of revision {} of {} has {} bytes on disk, {} in its manifest",
            file.revision(),
            file.release().key,
            stored.size,
            entry.size
        )));
    }
    let modified = UNIX_EPOCH + Duration::from_secs(u64::try_from(stored.modified.unix()).unwrap_or(0));
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
    let body = if head {
        Body::empty()
    } else {
        Body::from_stream(app.services.open_served(file, start..start + count).await?)
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
