//! Committees, projects, releases, files, revisions, checks, votes and release actions.

use atr_core::model::{
    Ballot, CheckResult, Committee, Project, Release, Revision, RevisionNumber, VoteOutcome, VoteValue,
};
use atr_core::ports::{FileChange, PageRequest};
use atr_core::services::Parent;
use atr_core::tally::Tally;
use atr_core::types::{CommitteeKey, ReleasePath, Stage, Version};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ProductQuery, ReleaseAt, SignedIn, json_error, now, project_key, query_error, release_key};
use crate::auth::Caller;
use crate::{ApiError, AppState};

type ApiResult<T> = Result<T, ApiError>;

/// A listing page: `?after=<cursor>&limit=<n>`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Page {
    after: Option<String>,
    limit: Option<u32>,
}

fn limit(page: &Page) -> u32 {
    page.limit.unwrap_or(100)
}

pub(crate) async fn committees(
    State(state): State<AppState>,
    page: Result<Query<Page>, QueryRejection>,
) -> ApiResult<Json<Vec<Committee>>> {
    let Query(page) = page.map_err(|e| query_error(&e))?;
    let after = page
        .after
        .as_deref()
        .map(|a| CommitteeKey::parse(a).map_err(|e| ApiError::bad_request(format!("after: {e}"))))
        .transpose()?;
    Ok(Json(state.services.list_committees(PageRequest { after, limit: limit(&page) }).await?))
}

pub(crate) async fn committee(State(state): State<AppState>, Path(key): Path<String>) -> ApiResult<Json<Committee>> {
    let key = CommitteeKey::parse(&key).map_err(|e| ApiError::bad_request(format!("committee: {e}")))?;
    Ok(Json(state.services.get_committee(&key).await?))
}

pub(crate) async fn projects(
    State(state): State<AppState>,
    page: Result<Query<Page>, QueryRejection>,
) -> ApiResult<Json<Vec<Project>>> {
    let Query(page) = page.map_err(|e| query_error(&e))?;
    let after = page.after.as_deref().map(project_key).transpose()?;
    Ok(Json(state.services.list_projects(PageRequest { after, limit: limit(&page) }).await?))
}

/// A project with its effective vote policy (the foundation default under its overrides).
pub(crate) async fn project(State(state): State<AppState>, Path(project): Path<String>) -> ApiResult<Json<Value>> {
    let key = project_key(&project)?;
    let view = state.services.get_project(&key).await?;
    Ok(Json(json!({ "project": view.project, "effective_vote_policy": view.effective_vote_policy })))
}

/// Creates a project. Only an admin may (`create project`).
pub(crate) async fn create_project(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    body: Result<Json<Project>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Project>)> {
    let Json(project) = body.map_err(|e| json_error(&e))?;
    Ok((StatusCode::CREATED, Json(state.services.create_project(&caller, project, now()).await?)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReleasesQuery {
    /// `candidate`, `current`, `revoked`, or absent for drafts and previews.
    stage: Option<String>,
    product: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

pub(crate) async fn releases(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(project): Path<String>,
    query: Result<Query<ReleasesQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<Release>>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = project_key(&project)?;
    let wanted_stage = query
        .stage
        .as_deref()
        .map(|s| Stage::parse(s).ok_or_else(|| ApiError::bad_request(format!("stage: unknown stage {s}"))))
        .transpose()?;
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
    Ok(Json(state.services.list_releases(&caller, &key, product, wanted_stage, page, now()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewRelease {
    version: String,
    product: Option<String>,
}

pub(crate) async fn start_release(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(project): Path<String>,
    body: Result<Json<NewRelease>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Release>)> {
    let Json(new) = body.map_err(|e| json_error(&e))?;
    let key = release_key(&project, &new.version, new.product.as_deref())?;
    let release = state.services.start_release(&caller, key, now()).await?;
    Ok((StatusCode::CREATED, Json(release)))
}

/// One release: its state, packages of the latest revision, and the tally of its vote.
pub(crate) async fn release(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ReleaseAt(key): ReleaseAt,
) -> ApiResult<Json<Value>> {
    let view = state.services.release_view(&caller, &key, now()).await?;
    Ok(Json(json!({
        "release": view.release,
        "stage": view.stage,
        "packages": view.packages,
        "tally": view.tally,
    })))
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
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let path = release_path(&path)?;
    let limit = state.config.max_upload_bytes;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::too_large(format!("the upload is larger than {limit} bytes")));
    }
    let parent = expected_parent(&headers)?;
    let change = FileChange::Put { path, content: super::body::stream(body, limit) };
    let new = state.services.add_revision(&caller, &key, parent, vec![change], None, now()).await?;
    Ok((StatusCode::CREATED, Json(json!({ "revision": new.revision, "analyze_task": new.analyze }))))
}

pub(crate) async fn delete_file(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((project, version, path)): Path<(String, String, String)>,
    query: Result<Query<ProductQuery>, QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let path = release_path(&path)?;
    let parent = expected_parent(&headers)?;
    let new =
        state.services.add_revision(&caller, &key, parent, vec![FileChange::Delete { path }], None, now()).await?;
    Ok(Json(json!({ "revision": new.revision, "analyze_task": new.analyze })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Move {
    from: String,
    to: String,
}

/// Moves or renames a file or folder (in a preview: stripping `-rc1` from names): a new revision.
pub(crate) async fn move_file(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
    headers: HeaderMap,
    body: Result<Json<Move>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let (from, to) = (release_path(&body.from)?, release_path(&body.to)?);
    let parent = expected_parent(&headers)?;
    let new =
        state.services.add_revision(&caller, &key, parent, vec![FileChange::Move { from, to }], None, now()).await?;
    Ok((StatusCode::CREATED, Json(json!({ "revision": new.revision, "analyze_task": new.analyze }))))
}

/// The SBOM files of the release's latest revision (`*.cdx.json`, `*.spdx.json`), with the
/// results of their validation.
pub(crate) async fn sboms(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ReleaseAt(key): ReleaseAt,
) -> ApiResult<Json<Value>> {
    let listing = state.services.release_sboms(&caller, &key, now()).await?;
    let sboms: Vec<Value> =
        listing.sboms.iter().map(|sbom| json!({ "file": sbom.file, "checks": sbom.checks })).collect();
    Ok(Json(json!({ "revision": listing.revision, "sboms": sboms })))
}

pub(crate) async fn revisions(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ReleaseAt(key): ReleaseAt,
) -> ApiResult<Json<Vec<Revision>>> {
    Ok(Json(state.services.list_revisions(&caller, &key, PageRequest::first(500), now()).await?))
}

fn revision_number(text: &str) -> ApiResult<RevisionNumber> {
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
) -> ApiResult<Json<Revision>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let number = revision_number(&number)?;
    Ok(Json(state.services.revision(&caller, &key, number, now()).await?))
}

pub(crate) async fn checks(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((project, version, number)): Path<(String, String, String)>,
    query: Result<Query<ProductQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<CheckResult>>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let number = revision_number(&number)?;
    Ok(Json(state.services.revision_checks(&caller, &key, number, now()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartVote {
    revision: u32,
}

pub(crate) async fn start_vote(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
    body: Result<Json<StartVote>, JsonRejection>,
) -> ApiResult<Json<Release>> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let revision =
        RevisionNumber::new(body.revision).ok_or_else(|| ApiError::invalid("revision: numbers start at 1"))?;
    Ok(Json(state.services.start_vote(&caller, &key, revision, now()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CastBallot {
    value: VoteValue,
    comment: Option<String>,
}

pub(crate) async fn cast_ballot(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
    body: Result<Json<CastBallot>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Ballot>)> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let ballot = state.services.cast_ballot(&caller, &key, body.value, body.comment, now()).await?;
    Ok((StatusCode::CREATED, Json(ballot)))
}

pub(crate) async fn tally(State(state): State<AppState>, ReleaseAt(key): ReleaseAt) -> ApiResult<Json<Tally>> {
    Ok(Json(state.services.tally(&key, now()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Resolve {
    outcome: VoteOutcome,
}

pub(crate) async fn resolve_vote(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
    body: Result<Json<Resolve>, JsonRejection>,
) -> ApiResult<Json<Release>> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    Ok(Json(state.services.resolve_vote(&caller, &key, body.outcome, now()).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Announce {
    /// The release manager confirms the pause the policy may ask for.
    #[serde(default)]
    confirmed: bool,
}

pub(crate) async fn announce(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
    body: Result<Json<Announce>, JsonRejection>,
) -> ApiResult<Json<Release>> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    Ok(Json(state.services.announce(&caller, &key, body.confirmed, now()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Revoke {
    reason: String,
}

/// `DELETE` on a release revokes it: a stage, never a removal.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ReleaseAt(key): ReleaseAt,
    body: Result<Json<Revoke>, JsonRejection>,
) -> ApiResult<Json<Release>> {
    let Json(body) = body.map_err(|e| json_error(&e))?;
    Ok(Json(state.services.revoke(&caller, &key, &body.reason, now()).await?))
}
