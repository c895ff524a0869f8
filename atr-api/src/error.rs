//! The one error shape of the API.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every refusal and failure: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code: `bad_request`, `unauthenticated`, `forbidden`, `not_found`, `conflict`,
    /// `too_large`, `too_many_requests`, `invalid`, `unsupported_media_type`, `uri_too_long`, `internal`.
    pub code: String,
    /// For people: what is wrong, naming the value at fault.
    pub message: String,
    /// Machine-readable particulars (the field at fault, the missing permission, ...), or `null`.
    #[schema(required = true)]
    pub details: serde_json::Value,
    /// The request's id, as in the answer's `x-request-id` header and the service's log line of
    /// the request: what to quote when reporting a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A request field whose value the core refuses: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &'static str, reason: impl std::fmt::Display) -> Self {
        Self { field, reason: reason.to_string() }
    }
}
