//! Committees, projects, releases, files, revisions, checks, votes and release actions.

use atr_api as api;
use atr_core::model::RevisionNumber;
use atr_core::ports::{FileChange, PageRequest};
use atr_core::services::Parent;
use atr_core::types::{CommitteeKey, ReleasePath, Stage, Version};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};

use super::{ProductQuery, ReleaseAt, SignedIn, json_error, now, project_key, query_error, release_key};
use crate::auth::Caller;
use crate::{ApiError, AppState};

type ApiResult<T> = Result<T, ApiError>;

fn limit(page: &api::PageQuery) -> u32 {
    page.limit.unwrap_or(100)
}

pub(crate) async fn committees(
    State(state): State<AppState>,
    page: Result<Query<api::PageQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<api::Committee>>> {
    let Query(page) = page.map_err(|e| query_error(&e))?;
    let after = page
        .after
        .as_deref()
        .map(|a| CommitteeKey::parse(a).map_err(|e| ApiError::bad_request(format!("after: {e}"))))
        .transpose()?;
    let committees = state.services.list_committees(PageRequest { after, limit: limit(&page) }).await?;
    Ok(Json(committees.iter().map(api::Committee::from).collect()))
}

pub(crate) async fn committee(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<Json<api::Committee>> {
    let key = CommitteeKey::parse(&key).map_err(|e| ApiError::bad_request(format!("committee: {e}")))?;
    Ok(Json((&state.services.get_committee(&key).await?).into()))
}

pub(crate) async fn projects(
    State(state): State<AppState>,
    page: Result<Query<api::PageQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<api::Project>>> {
    let Query(page) = page.map_err(|e| query_error(&e))?;
    let after = page.after.as_deref().map(project_key).transpose()?;
    let projects = state.services.list_projects(PageRequest { after, limit: limit(&page) }).await?;
    Ok(Json(projects.iter().map(api::Project::from).collect()))
}

/// A project with its effective vote policy (the foundation default under its overrides).
pub(crate) async fn project(
    State(state): State<AppState>,
    Path(project): Path<String>,
) -> ApiResult<Json<api::ProjectDetails>> {
    let key = project_key(&project)?;
    Ok(Json((&state.services.get_project(&key).await?).into()))
}

/// Creates a project. Only an admin may (`create project`).
pub(crate) async fn create_project(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    body: Result<Json<api::Project>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<api::Project>)> {
    let Json(project) = body.map_err(|e| json_error(&e))?;
    let project = project.try_into().map_err(|e: api::FieldError| ApiError::bad_request(e.to_string()))?;
    let created = state.services.create_project(&caller, project, now()).await?;
    Ok((StatusCode::CREATED, Json((&created).into())))
}

pub(crate) async fn releases(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(project): Path<String>,
    query: Result<Query<api::ReleasesQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<api::Release>>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = project_key(&project)?;
    let wanted_stage = query.stage.map(Stage::from);
    let product = query
        .product
        .as_deref()
        .map(|p| atr_core::types::ProductKey::parse(p).map_err(|e| ApiError::bad_request(format!("product: {e}"))))
        .transpose()?;
    let after = query
        .after
        .as_deref()
        .map(|v| Version::parse(v).map_err(|e| ApiError::bad_request(format!("after: {e}"))))
        .transpose()?;
    let page = PageRequest { after, limit: query.limit.unwrap_or(100) };
    let releases = state.services.list_releases(&caller, &key, product, wanted_stage, page, now()).await?;
    Ok(Json(releases.iter().map(api::Release::from).collect()))
}

pub(crate) async fn start_release(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(project): Path<String>,
    body: Result<Json<api::NewRelease>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<api::Release>)> {
    let Json(new) = body.map_err(|e| json_error(&e))?;
    let key = release_key(&project, &new.version, new.product.as_deref())?;
    let release = state.services.start_release(&caller, key, now()).await?;
    Ok((StatusCode::CREATED, Json((&release).into())))
}

/// One release: its state, packages of the latest revision, and the tally of its vote.
pub(crate) async fn release(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ReleaseAt(key): ReleaseAt,
) -> ApiResult<Json<api::ReleaseDetails>> {
    Ok(Json((&state.services.release_view(&caller, &key, now()).await?).into()))
}

/// Which revision the caller expects to be the latest: the `If-Match` header (`"00003"` or `3`),
/// else whatever is the latest.
fn expected_parent(headers: &HeaderMap) -> ApiResult<Parent> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(Parent::Latest);
    };
    let text = value.to_str().map_err(|_| ApiError::bad_request("If-Match is not text"))?.trim().trim_matches('"');
    if text == "none" {
        return Ok(Parent::Exactly(None));
    }
    let n: u32 =
        text.parse().map_err(|_| ApiError::bad_request("If-Match names a revision number, such as \"00003\""))?;
    RevisionNumber::new(n)
        .map(|n| Parent::Exactly(Some(n)))
        .ok_or_else(|| ApiError::bad_request("revision numbers start at 1"))
}

/// A slot of the caller's concurrent uploads, held until the upload ends; 429 when all are taken.
fn upload_slot(state: &AppState, caller: &atr_core::auth::Principal) -> ApiResult<super::slots::Slot> {
    let who = match caller {
        atr_core::auth::Principal::Person(person) => person.id.as_str(),
        atr_core::auth::Principal::Token { owner, .. } => owner.id.as_str(),
        atr_core::auth::Principal::Anonymous => "",
    };
    state.uploads.take(who).ok_or_else(|| {
        let most = state.config.max_uploads_per_person;
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("{who} already runs {most} uploads; wait for one to finish"),
        )
        .with_details(serde_json::json!({ "retry_after": 5 }))
    })
}

fn release_path(path: &str) -> ApiResult<ReleasePath> {
    ReleasePath::parse(path).map_err(|e| ApiError::bad_request(format!("path: {e}")))
}

/// Uploads one file (the raw body, streamed, any size up to the configured bound) as a new
/// revision of the draft.
pub(crate) async fn put_file(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((project, version, path)): Path<(String, String, String)>,
    query: Result<Query<ProductQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<api::NewRevision>)> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let path = release_path(&path)?;
    let limit = state.config.max_upload_bytes;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::too_large(format!("the upload is larger than {limit} bytes")));
    }
    let parent = expected_parent(&headers)?;
    let _slot = upload_slot(&state, &caller)?;
    let change = FileChange::Put { path, content: super::body::stream(body, limit, state.config.body_stall_timeout) };
    let new = state.services.add_revision(&caller, &key, parent, vec![change], None, now()).await?;
    Ok((StatusCode::CREATED, Json((&new).into())))
}

pub(crate) async fn delete_file(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((project, version, path)): Path<(String, String, String)>,
    query: Result<Query<ProductQuery>, QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Json<api::NewRevision>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let path = release_path(&path)?;
    let parent = expected_parent(&headers)?;
    let new =
        state.services.add_revision(&caller, &key, parent, vec![FileChange::Delete { path }], None, now()).await?;
    Ok(Json((&new).into()))
}

/// Moves or renames a file or folder (in a preview: stripping `-rc1` from names): a new revision.
pub(crate) async fn move_file(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
    headers: HeaderMap,
    body: Result<Json<api::MoveFile>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<api::NewRevision>)> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let (from, to) = (release_path(&body.from)?, release_path(&body.to)?);
    let parent = expected_parent(&headers)?;
    let new =
        state.services.add_revision(&caller, &key, parent, vec![FileChange::Move { from, to }], None, now()).await?;
    Ok((StatusCode::CREATED, Json((&new).into())))
}

/// The SBOM files of the release's latest revision (`*.cdx.json`, `*.spdx.json`), with the
/// results of their validation.
pub(crate) async fn sboms(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ReleaseAt(key): ReleaseAt,
) -> ApiResult<Json<api::SbomListing>> {
    Ok(Json((&state.services.release_sboms(&caller, &key, now()).await?).into()))
}

pub(crate) async fn revisions(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ReleaseAt(key): ReleaseAt,
) -> ApiResult<Json<Vec<api::Revision>>> {
    let revisions = state.services.list_revisions(&caller, &key, PageRequest::first(500), now()).await?;
    Ok(Json(revisions.iter().map(api::Revision::from).collect()))
}

pub(crate) fn revision_number(text: &str) -> ApiResult<RevisionNumber> {
    text.parse::<u32>()
        .ok()
        .and_then(RevisionNumber::new)
        .ok_or_else(|| ApiError::bad_request(format!("revision: {text} is not a revision number")))
}

pub(crate) async fn revision(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((project, version, number)): Path<(String, String, String)>,
    query: Result<Query<ProductQuery>, QueryRejection>,
) -> ApiResult<Json<api::Revision>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let number = revision_number(&number)?;
    Ok(Json((&state.services.revision(&caller, &key, number, now()).await?).into()))
}

pub(crate) async fn checks(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((project, version, number)): Path<(String, String, String)>,
    query: Result<Query<ProductQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<api::CheckResult>>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let number = revision_number(&number)?;
    let checks = state.services.reviewed_checks(&caller, &key, number, now()).await?;
    Ok(Json(checks.iter().map(api::CheckResult::from).collect()))
}

pub(crate) async fn start_vote(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
    body: Result<Json<api::StartVote>, JsonRejection>,
) -> ApiResult<Json<api::Release>> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let revision =
        RevisionNumber::new(body.revision).ok_or_else(|| ApiError::invalid("revision: numbers start at 1"))?;
    Ok(Json((&state.services.start_vote(&caller, &key, revision, now()).await?).into()))
}

pub(crate) async fn cast_ballot(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
    body: Result<Json<api::CastBallot>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<api::Ballot>)> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let ballot = state.services.cast_ballot(&caller, &key, body.value.into(), body.comment, now()).await?;
    Ok((StatusCode::CREATED, Json((&ballot).into())))
}

pub(crate) async fn tally(State(state): State<AppState>, ReleaseAt(key): ReleaseAt) -> ApiResult<Json<api::Tally>> {
    Ok(Json((&state.services.tally(&key, now()).await?).into()))
}

pub(crate) async fn resolve_vote(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
    body: Result<Json<api::ResolveVote>, JsonRejection>,
) -> ApiResult<Json<api::Release>> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    Ok(Json((&state.services.resolve_vote(&caller, &key, body.outcome.into(), now()).await?).into()))
}

pub(crate) async fn announce(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
    body: Result<Json<api::Announce>, JsonRejection>,
) -> ApiResult<Json<api::Release>> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    Ok(Json((&state.services.announce(&caller, &key, body.confirmed, now()).await?).into()))
}

/// Deletes a draft; files the service could not remove are logged (the next start removes them).
pub(crate) async fn delete_draft(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
) -> ApiResult<Json<api::Release>> {
    let deleted = state.services.delete_draft(&caller, &key, now()).await?;
    if let Some(error) = &deleted.files_left {
        tracing::warn!(release = %key, %error, "the files of a deleted draft were left; the next start removes them");
    }
    Ok(Json((&deleted.release).into()))
}

/// Sets the repository and commit the release's source archive was made from.
pub(crate) async fn set_source(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
    body: Result<Json<api::SourceOrigin>, JsonRejection>,
) -> ApiResult<Json<api::SourceSet>> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let origin = atr_core::model::SourceOrigin::try_from(&body)
        .map_err(|e| atr_core::services::ServiceError::field(e.field(), &e))?;
    let set = state.services.set_release_source(&caller, &key, Some(origin), now()).await?;
    Ok(Json((&set).into()))
}

/// Clears the release's source repository and commit.
pub(crate) async fn clear_source(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
) -> ApiResult<Json<api::SourceSet>> {
    Ok(Json((&state.services.set_release_source(&caller, &key, None, now()).await?).into()))
}

/// `DELETE` on a release revokes it: a stage, never a removal.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
    body: Result<Json<api::Revoke>, JsonRejection>,
) -> ApiResult<Json<api::Release>> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    Ok(Json((&state.services.revoke(&caller, &key, &body.reason, now()).await?).into()))
}
