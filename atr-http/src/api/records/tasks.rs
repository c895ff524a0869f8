//! The task queue seen through the API: one task, tasks by status, queue counts, cancelling and
//! retrying, and queueing the Analyze checks of a revision. Only signed-in callers read tasks;
//! cancelling and retrying a release's task needs `perform_actions` on its project, and a task
//! of no release is an admin's.

use std::collections::BTreeMap;

use atr_core::auth::{Activity, Principal};
use atr_core::model::{ReleaseKey, RevisionNumber, TaskDescriptor, TaskStatus};
use atr_core::ports::{ProjectRepository, ReleaseRepository, RevisionRepository, TaskRepository};
use atr_store::sql::QueuedTask;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::{ProductQuery, SignedIn, json_error, query_error, release_key};
use super::{ApiResult, authorize_project};
use crate::{ApiError, AppState};

const STATUSES: [TaskStatus; 5] =
    [TaskStatus::Queued, TaskStatus::Active, TaskStatus::Completed, TaskStatus::Failed, TaskStatus::Cancelled];

fn status_name(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Queued => "queued",
        TaskStatus::Active => "active",
        TaskStatus::Completed => "completed",
        TaskStatus::Failed => "failed",
        TaskStatus::Cancelled => "cancelled",
    }
}

fn status_of(text: &str) -> Option<TaskStatus> {
    STATUSES.into_iter().find(|s| status_name(*s) == text)
}

/// The current time in milliseconds, as the queue counts it.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A task as the API shows it (the worker's lease and fence stay inside).
fn view(task: &QueuedTask) -> Value {
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
        "error": task.error,
        "result": task.result,
    })
}

fn task_id(text: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::bad_request(format!("id: {text} is not a task id")))
}

async fn load(state: &AppState, id: i64) -> ApiResult<QueuedTask> {
    state.storage.sql.task(id).await?.ok_or_else(|| ApiError::not_found(format!("task {id} not found")))
}

/// The release a task is about, from its arguments.
fn release_of(task: &QueuedTask) -> Option<ReleaseKey> {
    serde_json::from_value(task.args.get("release")?.clone()).ok()
}

/// Checks that the caller may cancel or retry the task.
async fn authorize_task(state: &AppState, caller: &Principal, task: &QueuedTask) -> ApiResult<()> {
    if let Some(release) = release_of(task)
        && ProjectRepository::get(&state.storage.sql, &release.project).await?.is_some()
    {
        authorize_project(state, caller, Activity::PerformActions, &release.project).await?;
        return Ok(());
    }
    if matches!(caller, Principal::Person(p) if p.admin) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("permission denied: task {} belongs to no project; only an admin manages it", task.id),
        ))
    }
}

/// One task.
pub(crate) async fn task(
    State(state): State<AppState>,
    SignedIn(_): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = task_id(&id)?;
    Ok(Json(view(&load(&state, id).await?)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TasksQuery {
    /// `queued`, `active`, `completed`, `failed` or `cancelled`.
    status: Option<String>,
    limit: Option<u32>,
}

/// Tasks in a status, oldest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    SignedIn(_): SignedIn,
    query: Result<Query<TasksQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<Value>>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let text = query
        .status
        .ok_or_else(|| ApiError::bad_request("status: say ?status=queued, active, completed, failed or cancelled"))?;
    let status =
        status_of(&text).ok_or_else(|| ApiError::bad_request(format!("status: unknown task status {text}")))?;
    let tasks = state.storage.sql.tasks_with_status(status, query.limit.unwrap_or(100)).await?;
    Ok(Json(tasks.iter().map(view).collect()))
}

/// How many tasks of each kind are in each status, every status named (0 when none).
pub(crate) async fn status(State(state): State<AppState>, SignedIn(_): SignedIn) -> ApiResult<Json<Value>> {
    let zero = || STATUSES.iter().map(|s| (status_name(*s), 0u64)).collect::<BTreeMap<_, _>>();
    let mut kinds: BTreeMap<String, BTreeMap<&str, u64>> = BTreeMap::new();
    let mut total = zero();
    for count in state.storage.sql.queue_counts().await? {
        *kinds.entry(count.kind).or_insert_with(zero).entry(status_name(count.status)).or_insert(0) += count.count;
        *total.entry(status_name(count.status)).or_insert(0) += count.count;
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
    let task = load(&state, id).await?;
    authorize_task(&state, &caller, &task).await?;
    if !state.storage.sql.cancel_task(id, now_ms()).await? {
        let now = load(&state, id).await?;
        return Err(ApiError::conflict(format!("task {id} has already ended: it is {}", status_name(now.status))));
    }
    Ok(Json(view(&load(&state, id).await?)))
}

/// Queues a failed or cancelled task again with fresh attempts; 409 if it has not ended or the
/// same work is already queued.
pub(crate) async fn retry(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = task_id(&id)?;
    let task = load(&state, id).await?;
    authorize_task(&state, &caller, &task).await?;
    let retried = state.storage.sql.retry_task(id, now_ms()).await.map_err(|e| match e {
        atr_core::ports::StoreError::Refused(what) => ApiError::conflict(what),
        other => ApiError::from(other),
    })?;
    Ok(Json(view(&retried)))
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
    authorize_project(&state, &caller, Activity::ManageRelease, &key.project).await?;
    let sql = &state.storage.sql;
    if ReleaseRepository::get(sql, &key).await?.is_none() {
        return Err(ApiError::not_found(format!("release {key} not found")));
    }
    if RevisionRepository::get(sql, &key, revision).await?.is_none() {
        return Err(ApiError::not_found(format!("revision {revision} of {key} not found")));
    }
    let descriptor = TaskDescriptor::of(&atr_core::model::Analyze { release: key, revision })
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let task = TaskRepository::enqueue(sql, &descriptor).await?;
    let id = i64::try_from(task.id).map_err(|e| ApiError::internal(&e))?;
    Ok((StatusCode::CREATED, Json(view(&load(&state, id).await?))))
}
