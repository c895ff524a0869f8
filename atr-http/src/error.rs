//! The one error shape of the API: `{"error": {"code", "message", "details"}}`.

use atr_core::auth::Denied;
use atr_core::ports::StoreError;
use atr_core::services::{KeyRefusal, ServiceError};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An API error: an HTTP status, a stable code, a message for people, and optional details.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    /// An error whose message is for people: parser texts that name the service's own types
    /// (`expected struct NewRelease`) are reworded here, once for every refusal.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: without_type_names(&message.into()), details: Value::Null }
    }

    #[must_use]
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// A failure whose cause is for the logs only.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let request_id = crate::log::current_request_id().unwrap_or_default();
        tracing::error!(%cause, request_id, "request failed");
        let message = if request_id.is_empty() {
            "the request failed; the cause is in the service's log".to_owned()
        } else {
            format!("the request failed; the cause is in the service's log, under request id {request_id}")
        };
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        if denied.reason == atr_core::auth::DenyReason::NotSignedIn {
            return Self::unauthenticated(format!("{denied}; sign in, or send a token as Authorization: Bearer ..."));
        }
        let details = json!({ "activity": denied.activity.as_str(), "target": denied.target });
        Self::new(StatusCode::FORBIDDEN, "forbidden", denied.to_string()).with_details(details)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Self::not_found(format!("{what} not found")),
            StoreError::Conflict(what) => Self::conflict(what),
            StoreError::Refused(what) => Self::invalid(what),
            StoreError::TooLarge(what) => Self::too_large(what),
            StoreError::Backend(cause) => Self::internal(&cause),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Denied(denied) => denied.into(),
            ServiceError::Transition(t) => Self::conflict(t.to_string()),
            ServiceError::Policy(p) => Self::invalid(p.to_string()),
            ServiceError::NotFound(what) => Self::not_found(format!("{what} not found")),
            ServiceError::Conflict(what) => Self::conflict(what),
            ServiceError::Invalid(what) => Self::invalid(what),
            ServiceError::TooLarge(what) => Self::too_large(what),
            ServiceError::Store(cause) => Self::internal(&cause),
            ServiceError::Field { field, message } => {
                Self::invalid(format!("{field}: {message}")).with_details(json!({ "field": field }))
            }
            ServiceError::Unauthenticated(why) => Self::unauthenticated(why),
            ServiceError::Key(refusal) => refusal.into(),
            ServiceError::Throttled { retry_after_secs } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!("too many refused sign-ins; try again in {retry_after_secs} seconds"),
            )
            .with_details(json!({ "retry_after": retry_after_secs })),
        }
    }
}

impl From<KeyRefusal> for ApiError {
    fn from(refusal: KeyRefusal) -> Self {
        match &refusal {
            KeyRefusal::NoUsableKey(readings) => {
                let reasons: Vec<&str> = readings.iter().map(|r| r.reason.as_str()).collect();
                let message = if reasons.is_empty() {
                    "the body holds no OpenPGP public key; send an ASCII-armored public key".to_owned()
                } else {
                    format!("the body holds no usable OpenPGP public key: {}", reasons.join("; "))
                };
                let details: Vec<Value> = readings
                    .iter()
                    .map(|r| json!({ "fingerprint": r.fingerprint, "user_ids": r.user_ids, "reason": r.reason }))
                    .collect();
                Self::invalid(message).with_details(json!({ "keys": details }))
            }
            KeyRefusal::SeveralKeys(_) => Self::invalid(refusal.to_string()),
            KeyRefusal::InUse { releases, .. } => Self::conflict(format!("the key cannot be deleted: {refusal}"))
                .with_details(json!({ "releases": releases })),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // A throttled caller is told when to come back, in the header clients and proxies read.
        let retry_after = (self.status == StatusCode::TOO_MANY_REQUESTS)
            .then(|| self.details["retry_after"].as_u64())
            .flatten()
            .map(|secs| (axum::http::header::RETRY_AFTER, secs.to_string()));
        let error = atr_api::ErrorDetail {
            code: self.code.to_owned(),
            message: self.message,
            details: self.details,
            request_id: crate::log::current_request_id(),
        };
        let mut response = (self.status, Json(atr_api::ErrorBody { error })).into_response();
        if let Some((name, value)) = retry_after
            && let Ok(value) = axum::http::HeaderValue::from_str(&value)
        {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// A message of a parser (serde, axum) without the service's own type names: `expected struct
/// NewRelease` reads `expected a JSON object`, `expected enum Stage` reads `expected one of the
/// documented values`.
pub(crate) fn without_type_names(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("expected ") {
        let (before, after) = rest.split_at(at + "expected ".len());
        out.push_str(before);
        let (replacement, kind) = if after.starts_with("struct ") {
            ("a JSON object", "struct ")
        } else if after.starts_with("enum ") {
            ("one of the documented values", "enum ")
        } else {
            rest = after;
            continue;
        };
        let name = &after[kind.len()..];
        let end = name.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(name.len());
        out.push_str(replacement);
        rest = &name[end..];
    }
    out.push_str(rest);
    out
}

/// The stable code of an error status the service answers without a handler's own error.
fn code_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        s if s.is_server_error() => "internal",
        _ => "refused",
    }
}

/// Gives every error answer of the JSON API the error shape: answers that axum's extractors and
/// router make themselves (a path parameter that is not UTF-8, a body over a route's limit, a
/// method the route does not serve) come as plain text or empty, and are rewritten here, their
/// text kept as the message (without type names) when it is short.
pub(crate) async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text =
        axum::body::to_bytes(body, 4096).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let message = match (status, text.trim()) {
        (StatusCode::METHOD_NOT_ALLOWED, _) => "this path does not take this method; see /api/openapi.json".to_owned(),
        (_, "") => status.canonical_reason().unwrap_or("refused").to_owned(),
        (_, text) => text.to_owned(),
    };
    let mut answer = ApiError::new(status, code_of(status), message).into_response();
    if let Some(allow) = parts.headers.get(axum::http::header::ALLOW) {
        answer.headers_mut().insert(axum::http::header::ALLOW, allow.clone());
    }
    answer
}

/// The answer to a path under `/api` that no route serves, in the API's error shape (the web
/// module's fallback answers the other paths with its 404 page).
pub(crate) fn no_route(uri: &axum::http::Uri) -> Response {
    let message = format!("no operation at {}; see /api/openapi.json", uri.path());
    ApiError::new(StatusCode::NOT_FOUND, "no_route", message).into_response()
}

#[cfg(test)]
mod tests {
    use super::without_type_names;

    #[test]
    fn type_names_leave_parser_messages() {
        assert_eq!(
            without_type_names("invalid type: integer `100`, expected struct NewRelease at line 1 column 3"),
            "invalid type: integer `100`, expected a JSON object at line 1 column 3"
        );
        assert_eq!(without_type_names("expected enum Stage"), "expected one of the documented values");
        assert_eq!(without_type_names("expected a string"), "expected a string");
    }
}
