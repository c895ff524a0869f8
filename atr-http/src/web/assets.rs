//! The static assets of the pages: one stylesheet, served under a name that carries a digest of
//! its content, so that it can be cached for a year and a new version is a new URL.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The stylesheet's bytes, compiled in.
const CSS: &str = include_str!("../../static/atr.css");

/// How long a content-named asset may be cached: a year, never revalidated.
pub(crate) const CACHE_ASSET: &str = "public, max-age=31536000, immutable";

/// The stylesheet's URL, `/static/atr-<first 16 hex digits of its SHA-256>.css`.
pub(crate) static CSS_URL: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(CSS.as_bytes());
    let hex = super::view::hex(&digest[..8]);
    format!("/static/atr-{hex}.css")
});

/// `GET /static/{name}`: the stylesheet under its current name; any other name is not found.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    if format!("/static/{name}") != *CSS_URL {
        return super::not_found_page();
    }
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
        (CACHE_CONTROL, HeaderValue::from_static(CACHE_ASSET)),
        (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ];
    (StatusCode::OK, headers, CSS).into_response()
}
