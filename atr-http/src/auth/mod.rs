//! Who is calling, and how they sign in.
//!
//! A request carries at most one credential:
//!
//! - `Authorization: Bearer atr_<id>_<secret>`: a personal access token. The id is public and
//!   finds the stored grant; the secret's SHA-256 is compared in constant time with the stored
//!   hash. An unknown, garbled, revoked or expired token is refused with 401: a caller who sends
//!   a token learns why it does not work rather than silently being anonymous.
//! - the `atr_session` cookie: a browser session from `POST /api/session`. Only the SHA-256 of
//!   its secret is stored. A stale or unknown cookie is ignored (the caller is anonymous), so
//!   public pages keep working for a browser with an old cookie.
//!
//! Without either the caller is [`Principal::Anonymous`]. Secrets are never logged.
//!
//! Every decision (which credential is good, who may create what, the admin check) is made by
//! `atr_core::services`; this module parses credentials and bodies and shapes the answers.
//!
//! Routes (JSON): `POST|DELETE /api/session`, `GET /api/me`, `POST|GET /api/tokens`,
//! `DELETE /api/tokens/{id}`, and for admins `POST /api/admin/accounts`,
//! `PUT /api/admin/committees/{key}`, `POST /api/admin/committees/{key}/people` (one person's
//! role, added or removed atomically), `POST /api/admin/committees/import` (the document's
//! format is described in [`admin`]) and `GET /api/admin/audit/verify`.

pub mod admin;
mod body;
mod secrets;
mod session;
mod tokens;

use std::time::{SystemTime, UNIX_EPOCH};

use atr_core::auth::{Principal, Secret};
use atr_core::types::Timestamp;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};

pub use admin::{CommitteeImport, ensure_admin, import_report};
pub use atr_core::auth::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
pub use atr_store::credentials::hash_password;
pub use secrets::{SESSION_COOKIE, TOKEN_PREFIX};
pub(crate) use secrets::{clear_session_cookie, session_cookie, set_session_cookie};

use crate::routes::Routes;
use crate::{ApiError, AppState};

/// The caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let now = now();
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            return token_principal(state, value, now).await.map(Caller);
        }
        if let Some(secret) = secrets::session_cookie(&parts.headers) {
            return Ok(Caller(state.services.session_principal(&Secret::new(secret), now).await?));
        }
        Ok(Caller(Principal::Anonymous))
    }
}

/// The principal of an `Authorization` header, or why it is refused.
async fn token_principal(state: &AppState, value: &HeaderValue, now: Timestamp) -> Result<Principal, ApiError> {
    let malformed = || {
        ApiError::unauthenticated(format!(
            "the Authorization header is malformed: expected Bearer {TOKEN_PREFIX}<id>_<secret>"
        ))
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, credential) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthenticated("only Bearer tokens are accepted in the Authorization header"));
    }
    let (principal, unnoted) = state.services.bearer_principal(credential.trim(), now).await?;
    if let Some(error) = unnoted {
        let token = match &principal {
            Principal::Token { token, .. } => token.id(),
            _ => "",
        };
        tracing::warn!(token, %error, "could not record the token's use");
    }
    Ok(principal)
}

/// The current time, to the second.
pub(crate) fn now() -> Timestamp {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Timestamp::from_unix(i64::try_from(seconds).unwrap_or(i64::MAX))
}

/// The sign-in, token and account routes, registered from the catalogue of `atr-api`.
pub(crate) fn routes() -> Routes {
    use atr_api::endpoints as op;
    Routes::new()
        .serve(op::SignInWithPassword, session::sign_in)
        .serve(op::SignOut, session::sign_out)
        .serve(op::WhoAmI, session::me)
        .serve(op::CreateToken, tokens::create)
        .serve(op::ListTokens, tokens::list)
        .serve(op::RevokeToken, tokens::revoke)
        .serve(op::CreateAccount, admin::create_account)
        .serve(op::ImportCommittees, admin::import_committees)
        .serve(op::PutCommittee, admin::put_committee)
        .serve(op::ChangeCommitteeRole, admin::change_role)
        .serve(op::VerifyAudit, admin::verify_audit)
}
