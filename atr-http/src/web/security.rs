//! The headers every page carries.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

/// The pages' content security policy: scripts, styles and images from this origin only (no
/// inline script; the pages work without any), requests made by a script only to this origin
/// (the upload progress), forms posted only here, never framed.
pub(crate) const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
                                   img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the pages' security headers to `headers`, keeping a `Cache-Control` already chosen.
pub(crate) fn page_headers(headers: &mut HeaderMap) {
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Pages show who is signed in and what they may do: never stored by a shared cache.
    headers.entry(CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
}

/// The middleware form of [`page_headers`].
pub(crate) async fn headers(mut response: Response) -> Response {
    page_headers(response.headers_mut());
    response
}
