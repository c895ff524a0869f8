//! From a URL path to what it serves, as the services decide it, and the answers for what it
//! does not serve.

use atr_core::services::{NotServed, Public};
use axum::http::StatusCode;
use serde_json::json;

use super::MAX_URL_PATH;
use crate::{ApiError, AppState};

/// Resolves a URL path (still percent-encoded, as received).
pub(super) async fn resolve(app: &AppState, url_path: &str) -> Result<Public, ApiError> {
    if url_path.len() > MAX_URL_PATH {
        return Err(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the path is longer than {MAX_URL_PATH} bytes"),
        ));
    }
    app.services.public_path(url_path).await.map_err(not_served)
}

/// The answer for a path that serves nothing: a 400 for a path that is not coordinates, a 404
/// naming what is missing otherwise.
fn not_served(error: NotServed) -> ApiError {
    let message = error.to_string();
    match error {
        NotServed::BadPath(_) => ApiError::bad_request(message).with_details(json!({
            "expected": "/<stage>/<project>/[<product>/]<version>/<path>",
        })),
        NotServed::NoProject(_) => missing("project", message),
        NotServed::NoRelease { .. } | NotServed::NoFiles(_) | NotServed::NotInStage { public: None, .. } => {
            missing("release", message)
        }
        NotServed::NotInStage { public: Some(public), .. } => {
            ApiError::not_found(message).with_details(json!({ "missing": "release", "stage": public.as_str() }))
        }
        NotServed::NoFolder { .. } => missing("folder", message),
        NotServed::NoFile { path, is_folder: true, .. } => {
            ApiError::not_found(message).with_details(json!({ "missing": "file", "folder": format!("{path}/") }))
        }
        NotServed::NoFile { .. } => missing("file", message),
        NotServed::Failed(error) => error.into(),
    }
}

/// A 404 naming what is missing.
fn missing(what: &str, message: String) -> ApiError {
    ApiError::not_found(message).with_details(json!({ "missing": what }))
}
