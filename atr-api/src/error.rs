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
    /// `too_large`, `invalid`, `unsupported_media_type`, `uri_too_long`, `internal`.
    pub code: String,
    /// For people: what is wrong, naming the value at fault.
    pub message: String,
    /// Machine-readable particulars (the field at fault, the missing permission, ...), or `null`.
    #[schema(required = true)]
    pub details: serde_json::Value,
}
