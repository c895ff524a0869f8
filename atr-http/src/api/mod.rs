//! The JSON API under `/api`: projects, releases, files, revisions and checks, votes, actions,
//! events. Every change goes through `atr_core::services`; reads check the visibility rules.

mod body;
mod events;
pub(crate) mod keys;
mod openapi;
mod records;
mod releases;
mod search;
mod slots;

pub(crate) use slots::UploadSlots;

use atr_core::model::ReleaseKey;
use atr_core::types::{ProductKey, ProjectKey, Timestamp, Version};
use axum::extract::rejection::{JsonRejection, QueryRejection};

use crate::routes::Routes;
use crate::{ApiError, AppState};

/// The API routes, registered from the catalogue of `atr-api`.
pub(crate) fn routes() -> Routes {
    use atr_api::endpoints as op;
    Routes::new()
        .serve(op::Document, openapi::document)
        .serve(op::ListCommittees, releases::committees)
        .serve(op::GetCommittee, releases::committee)
        .serve(op::ListProjects, releases::projects)
        .serve(op::CreateProject, releases::create_project)
        .serve(op::GetProject, releases::project)
        .serve(op::ListReleases, releases::releases)
        .serve(op::StartRelease, releases::start_release)
        .serve(op::GetRelease, releases::release)
        .serve(op::RevokeRelease, releases::revoke)
        .serve(op::DeleteDraft, releases::delete_draft)
        .serve(op::SetSource, releases::set_source)
        .serve(op::ClearSource, releases::clear_source)
        .serve(op::PutFile, releases::put_file)
        .serve(op::DeleteFile, releases::delete_file)
        .serve(op::MoveReleaseFile, releases::move_file)
        .serve(op::ListSboms, releases::sboms)
        .serve(op::ListRevisions, releases::revisions)
        .serve(op::GetRevision, releases::revision)
        .serve(op::ListChecks, releases::checks)
        .serve(op::StartReleaseVote, releases::start_vote)
        .serve(op::CastReleaseBallot, releases::cast_ballot)
        .serve(op::GetTally, releases::tally)
        .serve(op::ResolveReleaseVote, releases::resolve_vote)
        .serve(op::AnnounceRelease, releases::announce)
        .serve(op::ListEvents, events::events)
        .serve(op::Search, search::search)
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

pub(crate) use atr_api::ProductQuery;

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
        other if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::too_large("the request body is larger than this operation takes")
        }
        other => ApiError::bad_request(other.body_text()),
    }
}

pub(crate) fn query_error(rejection: &QueryRejection) -> ApiError {
    ApiError::bad_request(format!("the query is invalid: {}", rejection.body_text()))
}
