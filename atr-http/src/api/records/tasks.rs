//! The task queue seen through the API: one task, tasks by status, queue counts, cancelling and
//! retrying, and queueing the Analyze checks of a revision. Only signed-in callers reach these
//! routes; who may see or steer which task is the core's decision (`atr_core::services`): a
//! release's task is its project's, a task of no release an admin's. A failed task shows a
//! stable `error_code` and a generic `error`, never the stored failure text.

use std::collections::BTreeMap;

use atr_core::model::{RevisionNumber, TaskStatus};
use atr_core::services::TaskView;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::{ProductQuery, SignedIn, json_error, now, query_error, release_key};
use super::ApiResult;
use crate::{ApiError, AppState};

/// A task as the API shows it (the worker's lease and fence stay inside, and so does the stored
/// failure text).
fn view(view: &TaskView) -> Value {
    let task = &view.task;
    json!({
        "id": task.id,
        "kind": task.kind,
        "args": task.args,
        "status": task.status,
        "priority": task.priority,
        "attempts": task.attempts,
        "max_attempts": task.max_attempts,
        "created_at_ms": task.created_at_ms,
        "scheduled_at_ms": task.scheduled_at_ms,
        "started_at_ms": task.started_at_ms,
        "finished_at_ms": task.finished_at_ms,
        "error": view.failure.map(|f| f.message),
        "error_code": view.failure.map(|f| f.code),
        "result": task.result,
    })
}

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
) -> ApiResult<Json<Value>> {
    let id = task_id(&id)?;
    Ok(Json(view(&state.services.task(&caller, id, now()).await?)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TasksQuery {
    /// `queued`, `active`, `completed`, `failed` or `cancelled`.
    status: Option<String>,
    limit: Option<u32>,
}

/// Tasks in a status that the caller may see, oldest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    query: Result<Query<TasksQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<Value>>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let text = query
        .status
        .ok_or_else(|| ApiError::bad_request("status: say ?status=queued, active, completed, failed or cancelled"))?;
    let status =
        TaskStatus::parse(&text).ok_or_else(|| ApiError::bad_request(format!("status: unknown task status {text}")))?;
    let tasks = state.services.tasks(&caller, status, query.limit.unwrap_or(100), now()).await?;
    Ok(Json(tasks.iter().map(view).collect()))
}

/// How many tasks of each kind are in each status, every status named (0 when none).
pub(crate) async fn status(State(state): State<AppState>, SignedIn(_): SignedIn) -> ApiResult<Json<Value>> {
    let zero = || TaskStatus::ALL.iter().map(|s| (s.as_str(), 0u64)).collect::<BTreeMap<_, _>>();
    let mut kinds: BTreeMap<String, BTreeMap<&str, u64>> = BTreeMap::new();
    let mut total = zero();
    for count in state.services.task_counts().await? {
        *kinds.entry(count.kind).or_insert_with(zero).entry(count.status.as_str()).or_insert(0) += count.count;
        *total.entry(count.status.as_str()).or_insert(0) += count.count;
    }
    Ok(Json(json!({ "kinds": kinds, "total": total })))
}

/// Cancels a queued or running task; 409 if it has ended.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = task_id(&id)?;
    Ok(Json(view(&state.services.cancel_task(&caller, id, now()).await?)))
}

/// Queues a failed or cancelled task again with fresh attempts; 409 if it has not ended or the
/// same work is already queued.
pub(crate) async fn retry(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = task_id(&id)?;
    Ok(Json(view(&state.services.retry_task(&caller, id, now()).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Analyze {
    revision: u32,
}

/// Queues the Analyze checks of a revision: 201 with the task. The same revision already queued
/// or running answers that task.
pub(crate) async fn analyze(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((project, version)): Path<(String, String)>,
    query: Result<Query<ProductQuery>, QueryRejection>,
    body: Result<Json<Analyze>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let revision =
        RevisionNumber::new(body.revision).ok_or_else(|| ApiError::invalid("revision: numbers start at 1"))?;
    let task = state.services.queue_analyze(&caller, &key, revision, now()).await?;
    Ok((StatusCode::CREATED, Json(view(&task))))
}
