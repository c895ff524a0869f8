//! The session cookie, the wire form of a session's secret. (The bearer-token format is the
//! core's, [`atr_core::auth::bearer`], shared with the other frontends.)
//!
//! A secret is shown once (a cookie, a token string); the core keeps only its SHA-256 and
//! compares presented secrets in constant time. Here secrets are only parsed and written out.

use atr_core::auth::bearer::is_secret_shaped;
use axum::http::{HeaderMap, HeaderValue, header};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "atr_session";
/// How every bearer token starts (the format is the core's, [`atr_core::auth::bearer`]).
pub use atr_core::auth::bearer::TOKEN_PREFIX;

/// The session secret of the request's cookies, if one has the shape of a secret.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| is_secret_shaped(value))
}

fn cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&text).expect("a cookie of hex digits is a valid header value")
}

/// The `Set-Cookie` value that gives the browser its session secret.
pub(crate) fn set_session_cookie(secret: &str, max_age: u64, secure: bool) -> HeaderValue {
    cookie(secret, max_age, secure)
}

/// The `Set-Cookie` value that makes the browser forget its session.
pub(crate) fn clear_session_cookie(secure: bool) -> HeaderValue {
    cookie("", 0, secure)
}
