//! The static assets of the pages: one stylesheet and one small script (upload progress), each
//! served under a name that carries a digest of its content, so that it can be cached for a
//! year and a new version is a new URL.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The stylesheet's bytes, compiled in.
const CSS: &str = include_str!("../../static/atr.css");
/// The upload progress script's bytes, compiled in. The pages work without it.
const JS: &str = include_str!("../../static/upload.js");

/// How long a content-named asset may be cached: a year, never revalidated.
pub(crate) const CACHE_ASSET: &str = "public, max-age=31536000, immutable";

/// `/static/atr-<first 16 hex digits of the SHA-256 of content>.<extension>`.
fn hashed_url(content: &str, extension: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    format!("/static/atr-{}.{extension}", super::view::hex(&digest[..8]))
}

/// The stylesheet's URL.
pub(crate) static CSS_URL: LazyLock<String> = LazyLock::new(|| hashed_url(CSS, "css"));
/// The upload progress script's URL.
pub(crate) static JS_URL: LazyLock<String> = LazyLock::new(|| hashed_url(JS, "js"));

/// `GET /static/{name}`: the stylesheet or the script under its current name; any other name
/// is not found.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    let url = format!("/static/{name}");
    let (content_type, body) = if url == *CSS_URL {
        ("text/css; charset=utf-8", CSS)
    } else if url == *JS_URL {
        ("text/javascript; charset=utf-8", JS)
    } else {
        return super::not_found_page();
    };
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (CACHE_CONTROL, HeaderValue::from_static(CACHE_ASSET)),
        (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ];
    (StatusCode::OK, headers, body).into_response()
}
