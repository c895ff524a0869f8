//! The wire forms of secrets: the bearer-token format and the session cookie.
//!
//! A secret is shown once (a cookie, a token string); the core keeps only its SHA-256 and
//! compares presented secrets in constant time. Here secrets are only parsed and written out.

use axum::http::{HeaderMap, HeaderValue, header};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "atr_session";
/// How every bearer token starts.
pub const TOKEN_PREFIX: &str = "atr_";
/// Random bytes of a token id (public), as the credentials port makes them.
const ID_BYTES: usize = 12;
/// Random bytes of a secret, as the credentials port makes them.
const SECRET_BYTES: usize = 32;

/// The bearer string of a token: `atr_<id>_<secret>`.
pub(crate) fn bearer(id: &str, secret: &str) -> String {
    format!("{TOKEN_PREFIX}{id}_{secret}")
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The id and secret of a bearer string, if it has the shape `atr_<24 hex>_<64 hex>`.
pub(crate) fn parse_bearer(text: &str) -> Option<(&str, &str)> {
    let (id, secret) = text.strip_prefix(TOKEN_PREFIX)?.split_once('_')?;
    (is_lower_hex(id, ID_BYTES * 2) && is_lower_hex(secret, SECRET_BYTES * 2)).then_some((id, secret))
}

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
        .filter(|value| is_lower_hex(value, SECRET_BYTES * 2))
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
