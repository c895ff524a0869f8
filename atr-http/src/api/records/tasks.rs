//! The task queue seen through the API: one task, tasks by status, queue counts with the task
//! runners, cancelling and retrying, queueing the Analyze checks of a revision, and where those
//! checks stand. Only signed-in callers reach the queue's routes; who may see or steer which task
//! is the core's decision (`atr_core::services`): a release's task is its project's, a task of no
//! release an admin's. A failed task shows a stable `error_code` and a generic `error`, never the
//! stored failure text. Where a revision's checks stand is read as its check results are, by
//! whoever may read the release; whether a runner is there is decided by the core, once.

use atr_api as api;
use atr_core::model::RevisionNumber;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

use super::super::{ProductQuery, SignedIn, json_error, now, query_error, release_key};
use super::ApiResult;
use crate::auth::Caller;
use crate::{ApiError, AppState};

fn task_id(text: &str) -> ApiResult<u64> {
    text.parse::<u64>()
        .ok()
        .filter(|id| *id > 0 && i64::try_from(*id).is_ok())
        .ok_or_else(|| ApiError::bad_request(format!("id: {text} is not a task id")))
}

/// One task, if the caller may see its project's tasks.
pub(crate) async fn task(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<api::Task>> {
    let id = task_id(&id)?;
    Ok(Json(api::Task::from(&state.services.task(&caller, id, now()).await?)))
}

/// Tasks in a status that the caller may see, oldest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    query: Result<Query<api::TasksQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<api::Task>>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let status = query
        .status
        .ok_or_else(|| ApiError::bad_request("status: say ?status=queued, active, completed, failed or cancelled"))?;
    let tasks = state.services.tasks(&caller, status.into(), query.limit.unwrap_or(100), now()).await?;
    Ok(Json(tasks.iter().map(api::Task::from).collect()))
}

/// How many tasks of each kind are in each status, every status named (0 when none), the task
/// runners with their last heartbeat, and the kinds whose pending tasks have no runner.
pub(crate) async fn status(State(state): State<AppState>, SignedIn(_): SignedIn) -> ApiResult<Json<api::QueueStatus>> {
    Ok(Json(api::QueueStatus::from(&state.services.queue_report(now()).await?)))
}

/// Where the checks of a revision stand, for whoever may read the release.
pub(crate) async fn checks_status(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((project, version, number)): Path<(String, String, String)>,
    query: Result<Query<ProductQuery>, QueryRejection>,
) -> ApiResult<Json<api::ChecksStatus>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let number = super::super::releases::revision_number(&number)?;
    Ok(Json(api::ChecksStatus::from(&state.services.checks_status(&caller, &key, number, now()).await?)))
}

/// Cancels a queued or running task; 409 if it has ended.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<api::Task>> {
    let id = task_id(&id)?;
    Ok(Json(api::Task::from(&state.services.cancel_task(&caller, id, now()).await?)))
}

/// Queues a failed or cancelled task again with fresh attempts; 409 if it has not ended or the
/// same work is already queued.
pub(crate) async fn retry(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<api::Task>> {
    let id = task_id(&id)?;
    Ok(Json(api::Task::from(&state.services.retry_task(&caller, id, now()).await?)))
}

/// Queues the Analyze checks of a revision: 201 with the task. The same revision already queued
/// or running answers that task.
pub(crate) async fn analyze(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((project, version)): Path<(String, String)>,
    query: Result<Query<ProductQuery>, QueryRejection>,
    body: Result<Json<api::Analyze>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<api::Task>)> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let revision =
        RevisionNumber::new(body.revision).ok_or_else(|| ApiError::invalid("revision: numbers start at 1"))?;
    let task = state.services.queue_analyze(&caller, &key, revision, body.force, now()).await?;
    Ok((StatusCode::CREATED, Json(api::Task::from(&task))))
}
