//! The task queue as the API shows it (the worker's lease and fence stay inside), the task
//! runners with their heartbeats, and where the checks of a revision stand.

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
    /// Why the last attempt failed: `timed_out`, `no_handler`, `runner_lost` or `failed`.
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

/// `GET /api/tasks/status`: counts by kind and status, every status named; the task runners;
/// and the kinds whose pending tasks wait for a runner that is not there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueueStatus {
    pub kinds: BTreeMap<String, StatusCounts>,
    pub total: StatusCounts,
    /// The runners registered against the database, stopped ones included, the most recently
    /// seen first.
    #[serde(default)]
    pub runners: Vec<Runner>,
    /// One entry per kind with pending tasks that no live runner handles.
    #[serde(default)]
    pub waiting: Vec<NoRunner>,
}

/// A task runner as it registered itself, with its last heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Runner {
    /// Chosen at its start: host, process id and a random part.
    pub id: String,
    /// Its name in the leases of the tasks it claims.
    pub name: String,
    pub host: String,
    pub pid: u32,
    /// The task kinds it handles, such as `analyze`.
    pub kinds: Vec<String>,
    /// The most tasks it runs at once, as of its last heartbeat.
    pub concurrency: u32,
    /// Unix milliseconds.
    pub started_at_ms: i64,
    /// Its last heartbeat, unix milliseconds.
    pub last_seen_ms: i64,
    /// When it stopped gracefully, unix milliseconds; `null` while it runs or after it was killed.
    pub stopped_at_ms: Option<i64>,
    /// Whether it counts as there now: not stopped, and seen within the service's limit (60 s
    /// by default).
    pub live: bool,
}

impl From<&atr_core::services::RunnerView> for Runner {
    fn from(view: &atr_core::services::RunnerView) -> Self {
        let r = &view.runner;
        Self {
            id: r.id.clone(),
            name: r.name.clone(),
            host: r.host.clone(),
            pid: r.pid,
            kinds: r.kinds.clone(),
            concurrency: r.concurrency,
            started_at_ms: r.started_at_ms,
            last_seen_ms: r.last_seen_ms,
            stopped_at_ms: r.stopped_at_ms,
            live: view.live,
        }
    }
}

/// Pending tasks of a kind that no task runner is there to take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NoRunner {
    /// Such as `analyze`.
    pub kind: String,
    /// When a runner handling the kind was last seen, unix seconds; `null` when none ever ran
    /// against this database.
    pub last_seen: Option<i64>,
    /// In words: "waiting for a task runner; none has been seen since ..." or "... none has ever
    /// run against this database".
    pub message: String,
}

impl From<&atr_core::services::NoRunner> for NoRunner {
    fn from(no: &atr_core::services::NoRunner) -> Self {
        Self {
            kind: no.kind.clone(),
            last_seen: no.last_seen.map(atr_core::types::Timestamp::unix),
            message: no.to_string(),
        }
    }
}

impl From<&atr_core::services::QueueReport> for QueueStatus {
    fn from(report: &atr_core::services::QueueReport) -> Self {
        let mut status: Self = report.counts.iter().cloned().collect();
        status.runners = report.runners.iter().map(Runner::from).collect();
        status.waiting = report.waiting.iter().map(NoRunner::from).collect();
        status
    }
}

/// Where the checks of a revision stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChecksState {
    /// They ran to completion and nothing is pending.
    Completed,
    /// A task runner runs them now.
    Running,
    /// They wait in the queue; a live runner takes them when it has a free slot.
    Queued,
    /// They wait for a task runner, and none is there.
    WaitingForRunner,
    /// Their last task failed for good and they never completed.
    Failed,
    /// Their last task was cancelled and they never completed.
    Cancelled,
    /// No check task of the revision is known.
    NotQueued,
}

/// `GET .../revisions/{number}/checks/status`: where the checks of a revision stand, decided by
/// the service, in words too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChecksStatus {
    pub revision: u32,
    pub state: ChecksState,
    /// True only for `completed`: the revision's checks ran to completion with nothing pending.
    pub completed: bool,
    /// Whether waiting can end with the checks completed by itself (`running`, `queued`); false
    /// when they wait for a runner that is not there, and once they ended without completing.
    pub moving: bool,
    /// Check tasks of the revision still queued or running.
    pub pending: u32,
    /// In words, for a release manager, such as "waiting for a task runner; none has been seen
    /// since 2026-12-03T08:10:00Z".
    pub message: String,
    /// For `completed`: when, unix seconds.
    pub completed_at: Option<i64>,
    /// For `waiting_for_runner`: when a runner was last seen, unix seconds (`null`: never).
    pub runner_last_seen: Option<i64>,
    /// For `failed` and `cancelled`: the task that ended.
    pub task: Option<u64>,
    /// For `failed`: `timed_out`, `no_handler`, `runner_lost` or `failed`.
    pub error_code: Option<String>,
}

impl From<&atr_core::services::ChecksStatus> for ChecksStatus {
    fn from(status: &atr_core::services::ChecksStatus) -> Self {
        use atr_core::services::ChecksProgress as P;
        let progress = &status.progress;
        let (state, pending) = match progress {
            P::Completed { .. } => (ChecksState::Completed, 0),
            P::Running { pending } => (ChecksState::Running, *pending),
            P::Queued { pending } => (ChecksState::Queued, *pending),
            P::WaitingForRunner { pending, .. } => (ChecksState::WaitingForRunner, *pending),
            P::Failed { .. } => (ChecksState::Failed, 0),
            P::Cancelled { .. } => (ChecksState::Cancelled, 0),
            P::NotQueued => (ChecksState::NotQueued, 0),
        };
        Self {
            revision: status.revision.get(),
            state,
            completed: progress.completed(),
            moving: progress.moving(),
            pending,
            message: progress.to_string(),
            completed_at: match progress {
                P::Completed { at } => Some(at.unix()),
                _ => None,
            },
            runner_last_seen: match progress {
                P::WaitingForRunner { runner, .. } => runner.last_seen.map(atr_core::types::Timestamp::unix),
                _ => None,
            },
            task: match progress {
                P::Failed { task, .. } | P::Cancelled { task } => Some(*task),
                _ => None,
            },
            error_code: match progress {
                P::Failed { failure, .. } => Some(failure.code.to_owned()),
                _ => None,
            },
        }
    }
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
