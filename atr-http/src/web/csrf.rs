//! Protection of every form against cross-site requests.
//!
//! A form carries a token that only a page of this site could have given the browser: the
//! SHA-256 of a fixed label and the browser's secret, which lives in an `HttpOnly` cookie another
//! site cannot read. A signed-in browser's secret is its session; before sign-in it is the
//! `atr_csrf` cookie, set on the first page (so the sign-in form is protected too). A posted token
//! is compared with the expected one in constant time; a missing or wrong token changes nothing.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::auth::session_cookie;

/// The cookie that ties forms to a browser before it signs in.
pub(crate) const CSRF_COOKIE: &str = "atr_csrf";
/// Random bytes of the pre-sign-in secret.
const SECRET_BYTES: usize = 32;

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

use super::view::hex;

/// The value of the `atr_csrf` cookie, if it has the shape of a secret.
fn csrf_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CSRF_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| is_lower_hex(value, SECRET_BYTES * 2))
}

/// The browser secret forms are tied to: the session if there is one, else the `atr_csrf`
/// cookie.
pub(crate) fn binding(headers: &HeaderMap) -> Option<String> {
    session_cookie(headers).or_else(|| csrf_cookie(headers)).map(str::to_owned)
}

/// The token of the forms of a browser whose secret is `binding`.
pub(crate) fn token(binding: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"atr form token v1\n");
    hasher.update(binding.as_bytes());
    hex(&hasher.finalize())
}

/// Whether `posted` is the token of `binding`, compared in constant time.
pub(crate) fn verify(binding: Option<&str>, posted: Option<&str>) -> bool {
    let (Some(binding), Some(posted)) = (binding, posted) else {
        return false;
    };
    let expected = token(binding);
    expected.len() == posted.len() && bool::from(expected.as_bytes().ct_eq(posted.as_bytes()))
}

/// Gives a browser that has neither a session nor an `atr_csrf` cookie a fresh secret: in the
/// request (so this page's forms carry its token) and in a `Set-Cookie` of the answer.
pub(crate) async fn ensure_cookie(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if binding(request.headers()).is_some() {
        return next.run(request).await;
    }
    let mut secret = [0u8; SECRET_BYTES];
    if getrandom::fill(&mut secret).is_err() {
        // Without randomness no form can be protected; the pages still render, their forms are
        // refused when posted.
        return next.run(request).await;
    }
    let value = hex(&secret);
    if let Ok(cookie) = HeaderValue::from_str(&format!("{CSRF_COOKIE}={value}")) {
        request.headers_mut().append(header::COOKIE, cookie);
    }
    let mut response = next.run(request).await;
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let set = format!("{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{secure}");
    if let Ok(set) = HeaderValue::from_str(&set) {
        response.headers_mut().append(header::SET_COOKIE, set);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_for_its_binding() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let token_a = token(&a);
        assert_eq!(token_a.len(), 64);
        assert!(verify(Some(&a), Some(&token_a)));
        assert!(!verify(Some(&b), Some(&token_a)));
        assert!(!verify(Some(&a), Some(&token_a[..63])));
        assert!(!verify(Some(&a), None));
        assert!(!verify(None, Some(&token_a)));
        assert!(!verify(Some(&a), Some(&a)));
    }

    #[test]
    fn the_binding_prefers_the_session() {
        let mut headers = HeaderMap::new();
        let session = "1".repeat(64);
        let csrf = "2".repeat(64);
        headers.insert(header::COOKIE, HeaderValue::from_str(&format!("atr_csrf={csrf}")).unwrap());
        assert_eq!(binding(&headers).as_deref(), Some(csrf.as_str()));
        headers.append(header::COOKIE, HeaderValue::from_str(&format!("atr_session={session}")).unwrap());
        assert_eq!(binding(&headers).as_deref(), Some(session.as_str()));
        let mut garbled = HeaderMap::new();
        garbled.insert(header::COOKIE, HeaderValue::from_static("atr_csrf=short"));
        assert_eq!(binding(&garbled), None);
    }
}
