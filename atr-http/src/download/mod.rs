//! Downloads by coordinates: `GET` and `HEAD` on `/<stage>/<project>/[<product>/]<version|latest>/<path>`
//! for the public stages `candidate`, `current` and `revoked`.
//!
//! The service answers these itself, with the headers a reverse proxy (httpd) and a CDN need to
//! cache them well; `docs/caching.md` explains the policy. In short:
//!
//! - A path is parsed by [`Coordinates::parse`](atr_core::types::Coordinates::parse): every
//!   segment is validated, a bad one is a 400. The services
//!   ([`Services::public_path`](atr_core::services::Services::public_path)) then decide which
//!   release and which revision the coordinates name: the voted revision of a `candidate`, the
//!   latest (frozen at announce) revision of a `current` or `revoked` release. A release whose
//!   public stage is not the URL's stage, a draft and a preview are never served (404). The
//!   public path never reveals the storage layout.
//! - `latest` is answered with a `307` redirect to the newest version of the stage, by the
//!   version order, cached briefly.
//! - A file is streamed from its revision folder with a strong `ETag` from its SHA-512 in the
//!   revision's manifest, `Last-Modified`, conditional requests (`If-None-Match`,
//!   `If-Modified-Since`, `If-Range`) and single byte ranges.
//! - A path ending in `/` lists that folder of the release as JSON.
//! - Every response carries a `Cache-Control` chosen by stage; errors carry `no-store`.
//!
//! Release files are uploaded by release managers, so a file is never interpreted by browsers
//! on the service's origin: every file response is `nosniff` and sandboxed by its content
//! security policy.

mod listing;
mod range;
mod resolve;
mod serve;

use atr_core::model::Release;
use atr_core::services::Public;
use atr_core::types::Stage;
use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::{ApiError, AppState};

/// `Cache-Control` of a file or listing of a `current` release: its bytes never change.
pub const CACHE_CURRENT: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of a `candidate`: short, because the vote may fail or the release be revoked.
pub const CACHE_CANDIDATE: &str = "public, max-age=300";
/// `Cache-Control` of a `revoked` release: still downloadable, but not worth caching for long.
pub const CACHE_REVOKED: &str = "public, max-age=3600";
/// `Cache-Control` of a `latest` redirect: it moves with every new release.
pub const CACHE_LATEST: &str = "public, max-age=60";
/// `Cache-Control` of every error.
pub const CACHE_ERROR: &str = "no-store";

/// Longest URL path accepted, in bytes.
pub const MAX_URL_PATH: usize = 2048;
/// Longest revocation reason sent in [`REVOKED_REASON`], in bytes.
pub const MAX_REASON_HEADER: usize = 256;

/// Set to `true` on every answer about a revoked release.
pub const REVOKED: HeaderName = HeaderName::from_static("x-atr-revoked");
/// Why the release was revoked: the recorded reason, without control characters, bounded.
pub const REVOKED_REASON: HeaderName = HeaderName::from_static("x-atr-revoked-reason");

/// The download routes: one catch-all per public stage, so that no other first segment (such as
/// `/api`) is taken.
pub fn routes() -> Router<AppState> {
    Stage::ALL.into_iter().fold(Router::new(), |router, stage| {
        router.route(&format!("/{stage}/"), get(download)).route(&format!("/{stage}/{{*rest}}"), get(download))
    })
}

/// The `Cache-Control` of a stage's files and listings.
pub fn cache_control(stage: Stage) -> &'static str {
    match stage {
        Stage::Current => CACHE_CURRENT,
        Stage::Candidate => CACHE_CANDIDATE,
        Stage::Revoked => CACHE_REVOKED,
    }
}

/// Serves `GET` and `HEAD` (axum routes both here; a `HEAD` answer has the same headers and no
/// body).
async fn download(State(app): State<AppState>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    match answer(&app, method == Method::HEAD, uri.path(), &headers).await {
        Ok(response) => response,
        Err(error) => {
            let mut response = error.into_response();
            response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_ERROR));
            response
        }
    }
}

async fn answer(app: &AppState, head: bool, path: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    match resolve::resolve(app, path).await? {
        Public::Latest { path } => Ok(redirect(&path)),
        Public::File(file) => {
            let mut response = serve::file(app, &file, headers, head).await?;
            mark(file.release(), response.headers_mut());
            Ok(response)
        }
        Public::Folder(folder) => {
            let mut response = listing::folder(&folder, headers, head)?;
            mark(folder.release(), response.headers_mut());
            Ok(response)
        }
    }
}

fn redirect(location: &str) -> Response {
    let mut headers = HeaderMap::new();
    // Coordinates are made only of characters valid in a URL path.
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(LOCATION, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_LATEST));
    (StatusCode::TEMPORARY_REDIRECT, headers).into_response()
}

/// Marks an answer about a revoked release.
fn mark(release: &Release, headers: &mut HeaderMap) {
    if let Some(revocation) = &release.revocation {
        headers.insert(REVOKED, HeaderValue::from_static("true"));
        if let Ok(value) = HeaderValue::from_str(&header_text(&revocation.reason, MAX_REASON_HEADER)) {
            headers.insert(REVOKED_REASON, value);
        }
    }
}

/// Text made safe for a header value: control characters become spaces, runs of white space
/// one space, characters outside printable ASCII `?`; trimmed and cut at `max` bytes (ending in
/// `...` when cut).
fn header_text(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(if c.is_ascii_graphic() { c } else { '?' });
        if out.len() > max {
            break;
        }
    }
    if out.len() > max {
        out.truncate(max.saturating_sub(3));
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_strips_controls_and_bounds_length() {
        assert_eq!(header_text("  bad\r\nX-Injected: 1\t\u{0}sig  ", 100), "bad X-Injected: 1 sig");
        assert_eq!(header_text("caf\u{e9} \u{202e}evil", 100), "caf? ?evil");
        let long = "a".repeat(1000);
        let cut = header_text(&long, 20);
        assert_eq!(cut.len(), 20);
        assert!(cut.ends_with("..."));
        assert_eq!(header_text("exactly", 7), "exactly");
        assert_eq!(header_text("", 7), "");
    }

    #[test]
    fn every_stage_has_a_cache_policy() {
        assert!(cache_control(Stage::Current).contains("immutable"));
        assert!(!cache_control(Stage::Candidate).contains("immutable"));
        assert!(!cache_control(Stage::Revoked).contains("immutable"));
    }
}
