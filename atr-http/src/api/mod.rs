//! The JSON API under `/api`: projects, releases, files, revisions and checks, votes, actions,
//! events. Every change goes through `atr_core::services`; reads check the visibility rules.

mod body;
mod events;
mod keys;
mod openapi;
mod records;
mod releases;

use atr_core::model::ReleaseKey;
use atr_core::types::{ProductKey, ProjectKey, Timestamp, Version};
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::routing::{get, post, put};
use serde::Deserialize;

use crate::{ApiError, AppState};

/// The API routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/committees", get(releases::committees))
        .route("/api/committees/{key}", get(releases::committee))
        .route("/api/projects", get(releases::projects).post(releases::create_project))
        .route("/api/projects/{project}", get(releases::project))
        .route("/api/projects/{project}/releases", get(releases::releases).post(releases::start_release))
        .route("/api/projects/{project}/releases/{version}", get(releases::release).delete(releases::revoke))
        .route(
            "/api/projects/{project}/releases/{version}/files/{*path}",
            put(releases::put_file).delete(releases::delete_file),
        )
        .route("/api/projects/{project}/releases/{version}/moves", post(releases::move_file))
        .route("/api/projects/{project}/releases/{version}/sboms", get(releases::sboms))
        .route("/api/projects/{project}/releases/{version}/revisions", get(releases::revisions))
        .route("/api/projects/{project}/releases/{version}/revisions/{number}", get(releases::revision))
        .route("/api/projects/{project}/releases/{version}/revisions/{number}/checks", get(releases::checks))
        .route("/api/projects/{project}/releases/{version}/vote", post(releases::start_vote))
        .route("/api/projects/{project}/releases/{version}/ballots", post(releases::cast_ballot))
        .route("/api/projects/{project}/releases/{version}/tally", get(releases::tally))
        .route("/api/projects/{project}/releases/{version}/resolve", post(releases::resolve_vote))
        .route("/api/projects/{project}/releases/{version}/announce", post(releases::announce))
        .route("/api/events", get(events::events))
        .merge(keys::routes())
        .merge(records::routes())
}

/// A caller who signed in or sent a token: write endpoints refuse anonymous calls with 401
/// before any permission is looked at.
pub(crate) struct SignedIn(pub atr_core::auth::Principal);

impl axum::extract::FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, ApiError> {
        let crate::auth::Caller(principal) = crate::auth::Caller::from_request_parts(parts, state).await?;
        if matches!(principal, atr_core::auth::Principal::Anonymous) {
            return Err(ApiError::unauthenticated("sign in, or send a token as Authorization: Bearer ..."));
        }
        Ok(SignedIn(principal))
    }
}

/// The release a route names: `{project}` and `{version}` in the path, `?product=` for a
/// sub-product's release.
pub(crate) struct ReleaseAt(pub ReleaseKey);

impl axum::extract::FromRequestParts<AppState> for ReleaseAt {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, ApiError> {
        use axum::extract::{Path, Query};
        let Path(params) = Path::<std::collections::BTreeMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let Query(query) =
            Query::<ProductQuery>::from_request_parts(parts, state).await.map_err(|e| query_error(&e))?;
        let (Some(project), Some(version)) = (params.get("project"), params.get("version")) else {
            return Err(ApiError::bad_request("the path names no release"));
        };
        Ok(ReleaseAt(release_key(project, version, query.product.as_deref())?))
    }
}

/// The current time, for the services (which never read a clock).
pub(crate) fn now() -> Timestamp {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// `?product=` on release routes: the sub-product, absent for the main one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProductQuery {
    pub product: Option<String>,
}

pub(crate) fn project_key(text: &str) -> Result<ProjectKey, ApiError> {
    ProjectKey::parse(text).map_err(|e| ApiError::bad_request(format!("project: {e}")))
}

/// The release named by the path and the `product` query.
pub(crate) fn release_key(project: &str, version: &str, product: Option<&str>) -> Result<ReleaseKey, ApiError> {
    let project = project_key(project)?;
    let version = Version::parse(version).map_err(|e| ApiError::bad_request(format!("version: {e}")))?;
    let product = product
        .map(|p| ProductKey::parse(p).map_err(|e| ApiError::bad_request(format!("product: {e}"))))
        .transpose()?;
    Ok(ReleaseKey::new(project, product, version))
}

/// Maps axum's JSON rejections to the API's error shape, naming what is wrong.
pub(crate) fn json_error(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::invalid(format!("the body does not fit: {}", e.body_text())),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(format!("the body is not JSON: {}", e.body_text())),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send JSON with Content-Type: application/json",
        ),
        other => ApiError::bad_request(other.body_text()),
    }
}

pub(crate) fn query_error(rejection: &QueryRejection) -> ApiError {
    ApiError::bad_request(format!("the query is invalid: {}", rejection.body_text()))
}
