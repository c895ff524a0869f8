//! JSON request bodies whose refusals have the API's error shape and name the field at fault.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::ApiError;

/// A JSON body. Invalid JSON is a 400; a body that does not fit the expected shape (a missing,
/// unknown or ill-typed field) is a 422 whose message and `details.field` name the field.
#[derive(Debug, Clone)]
pub(crate) struct Body<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(refusal(&rejection)),
        }
    }
}

/// The part of axum's message after its fixed preamble.
fn cause(text: &str) -> &str {
    text.split_once(": ").map_or(text, |(_, rest)| rest)
}

/// The field a deserialization message is about: the path before `": "`, or the name quoted in
/// "missing field `x`" / "unknown field `x`".
fn field_of(message: &str) -> Option<String> {
    if let Some((path, _)) = message.split_once(": ")
        && !path.is_empty()
        && !path.contains(' ')
    {
        return Some(path.to_owned());
    }
    let (_, rest) = message.split_once('`')?;
    let (name, _) = rest.split_once('`')?;
    Some(name.to_owned())
}

fn refusal(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(error) => {
            let text = error.body_text();
            let message = cause(&text);
            let error = ApiError::invalid(format!("the request body does not fit: {message}"));
            match field_of(message) {
                Some(field) => error.with_details(json!({ "field": field })),
                None => error,
            }
        }
        JsonRejection::JsonSyntaxError(error) => {
            ApiError::bad_request(format!("the request body is not valid JSON: {}", cause(&error.body_text())))
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the request body must be JSON, sent with Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::too_large("the request body is larger than this operation takes")
        }
        other => ApiError::bad_request(format!("the request body cannot be read: {}", other.body_text())),
    }
}
