//! The task queue as the API shows it (the worker's lease and fence stay inside).

use std::collections::BTreeMap;

use atr_core::model;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A task's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    Queued,
    Active,
    Completed,
    Failed,
    Cancelled,
}

impl From<model::TaskStatus> for TaskStatus {
    fn from(status: model::TaskStatus) -> Self {
        match status {
            model::TaskStatus::Queued => Self::Queued,
            model::TaskStatus::Active => Self::Active,
            model::TaskStatus::Completed => Self::Completed,
            model::TaskStatus::Failed => Self::Failed,
            model::TaskStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// A task of the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Task {
    pub id: u64,
    /// Such as `analyze`.
    pub kind: String,
    /// The task's arguments, as its kind defines them (for `analyze`: `release`, `revision`).
    pub args: serde_json::Value,
    pub status: TaskStatus,
    /// Lower runs first.
    pub priority: i32,
    pub attempts: u32,
    pub max_attempts: u32,
    /// Unix milliseconds.
    pub created_at_ms: i64,
    /// Unix milliseconds.
    pub scheduled_at_ms: i64,
    /// Unix milliseconds.
    pub started_at_ms: Option<i64>,
    /// Unix milliseconds.
    pub finished_at_ms: Option<i64>,
    /// Why the last attempt failed, for people (never the stored failure text).
    pub error: Option<String>,
    /// Why the last attempt failed: `timed_out`, `no_handler` or `failed`.
    pub error_code: Option<String>,
    /// What the task answered, as its kind defines it.
    pub result: Option<serde_json::Value>,
}

impl From<&atr_core::services::TaskView> for Task {
    fn from(view: &atr_core::services::TaskView) -> Self {
        let task = &view.task;
        Self {
            id: task.id,
            kind: task.kind.clone(),
            args: task.args.clone(),
            status: task.status.into(),
            priority: task.priority,
            attempts: task.attempts,
            max_attempts: task.max_attempts,
            created_at_ms: task.created_at_ms,
            scheduled_at_ms: task.scheduled_at_ms,
            started_at_ms: task.started_at_ms,
            finished_at_ms: task.finished_at_ms,
            error: view.failure.map(|f| f.message.to_owned()),
            error_code: view.failure.map(|f| f.code.to_owned()),
            result: task.result.clone(),
        }
    }
}

/// How many tasks are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusCounts {
    pub queued: u64,
    pub active: u64,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
}

/// `GET /api/tasks/status`: counts by kind and status, every status named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueueStatus {
    pub kinds: BTreeMap<String, StatusCounts>,
    pub total: StatusCounts,
}

/// `GET /api/tasks`: the tasks in a status, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TasksQuery {
    #[param(required = true)]
    pub status: Option<TaskStatus>,
    /// Most tasks answered (100 when absent).
    pub limit: Option<u32>,
}

/// The arguments of a task about one revision of a release, such as `analyze`:
/// `{"release", "revision"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevisionTaskArgs {
    pub release: crate::releases::ReleaseKey,
    pub revision: u32,
}

impl Task {
    /// The release revision the task is about, when its arguments name one.
    pub fn revision_args(&self) -> Option<RevisionTaskArgs> {
        serde_json::from_value(self.args.clone()).ok()
    }
}

impl From<TaskStatus> for model::TaskStatus {
    fn from(status: TaskStatus) -> Self {
        match status {
            TaskStatus::Queued => Self::Queued,
            TaskStatus::Active => Self::Active,
            TaskStatus::Completed => Self::Completed,
            TaskStatus::Failed => Self::Failed,
            TaskStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl StatusCounts {
    fn add(&mut self, status: model::TaskStatus, count: u64) {
        let slot = match status {
            model::TaskStatus::Queued => &mut self.queued,
            model::TaskStatus::Active => &mut self.active,
            model::TaskStatus::Completed => &mut self.completed,
            model::TaskStatus::Failed => &mut self.failed,
            model::TaskStatus::Cancelled => &mut self.cancelled,
        };
        *slot += count;
    }
}

impl FromIterator<atr_core::ports::TaskCount> for QueueStatus {
    /// The queue's counts by kind and status, summed into the totals.
    fn from_iter<I: IntoIterator<Item = atr_core::ports::TaskCount>>(counts: I) -> Self {
        let mut status = Self::default();
        for count in counts {
            status.kinds.entry(count.kind).or_default().add(count.status, count.count);
            status.total.add(count.status, count.count);
        }
        status
    }
}
