//! The task queue as the API sees it: reading tasks, counting them, cancelling and retrying, and
//! the task runners that work on it with their heartbeats. The runner has its own, richer
//! interface in the store; this port shows neither leases nor fences.

use async_trait::async_trait;

use super::{PageRequest, StoreResult};
use crate::model::{ReleaseKey, RevisionNumber, TaskStatus};

/// A stored task, without the worker's lease and fence.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    pub id: u64,
    /// The task kind's name, such as `analyze`.
    pub kind: String,
    /// The kind's payload.
    pub args: serde_json::Value,
    /// The release the task is about, if any: permissions on the task come from its project.
    pub release: Option<ReleaseKey>,
    pub status: TaskStatus,
    /// Lower runs first.
    pub priority: i32,
    pub attempts: u32,
    pub max_attempts: u32,
    /// Unix milliseconds, as the queue counts.
    pub created_at_ms: i64,
    pub scheduled_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    /// The stored failure, for the service's log: it may carry internal detail and is never
    /// shown to callers as it is.
    pub error: Option<String>,
    /// What the task reported on completion.
    pub result: Option<serde_json::Value>,
}

/// How many tasks of a kind are in a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskCount {
    pub kind: String,
    pub status: TaskStatus,
    pub count: u64,
}

/// A task runner as it registered itself: written when it starts, `last_seen` refreshed by its
/// heartbeat at a fixed interval while it runs, `stopped_at` set when it stops gracefully. A
/// runner that was killed keeps its row and is simply no longer seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerRecord {
    /// Chosen by the runner at start (host, process id and a random part): unique.
    pub id: String,
    /// Its name in the leases of the tasks it claims.
    pub name: String,
    pub host: String,
    pub pid: u32,
    /// The task kinds it handles, such as `analyze`.
    pub kinds: Vec<String>,
    /// The most tasks it runs at once, as of its last heartbeat.
    pub concurrency: u32,
    /// Unix milliseconds, as the queue counts.
    pub started_at_ms: i64,
    pub last_seen_ms: i64,
    /// When it stopped gracefully; `None` while it runs (or if it was killed).
    pub stopped_at_ms: Option<i64>,
}

impl RunnerRecord {
    /// Whether it handles tasks of `kind`.
    pub fn handles(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }
}

/// Most runners [`TaskQueue::runners`] answers.
pub const MAX_RUNNERS_LISTED: u32 = 100;

/// Most tasks of one revision [`TaskQueue::revision_tasks`] answers.
pub const MAX_REVISION_TASKS: u32 = 50;

/// Reading and steering the task queue. Cancelling and retrying are the queue's own writes, as
/// the runner's claims and completions are: they change a task's state and nothing else, record
/// no event, and are guarded in the store (a task that has ended is not cancelled, work already
/// pending is not queued twice).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait TaskQueue: Send + Sync {
    /// The task, or `None`.
    async fn get(&self, id: u64) -> StoreResult<Option<TaskRecord>>;
    /// Tasks in a status ordered by id, oldest first, after the cursor id.
    async fn with_status(&self, status: TaskStatus, page: PageRequest<u64>) -> StoreResult<Vec<TaskRecord>>;
    /// How many tasks of each kind are in each status (statuses without tasks may be left out).
    async fn counts(&self) -> StoreResult<Vec<TaskCount>>;
    /// Cancels a queued or active task (its worker notices at its next heartbeat), at the
    /// store's clock. False if the task had already ended; `NotFound` for an unknown task.
    async fn cancel(&self, id: u64) -> StoreResult<bool>;
    /// Queues a failed or cancelled task again with fresh attempts, at the store's clock. MUST
    /// return `Conflict` if the task has not ended or the same work is already queued or active,
    /// and `NotFound` for an unknown task.
    async fn retry(&self, id: u64) -> StoreResult<TaskRecord>;
    /// The tasks about one revision of a release (any kind, any status), newest first, at most
    /// [`MAX_REVISION_TASKS`]. Empty for an unknown release.
    async fn revision_tasks(&self, release: &ReleaseKey, revision: RevisionNumber) -> StoreResult<Vec<TaskRecord>>;
    /// The runners registered against this database, stopped ones included, the most recently
    /// seen first, at most [`MAX_RUNNERS_LISTED`]. The store MAY forget runners unseen for long,
    /// but MUST keep the most recently seen one.
    async fn runners(&self) -> StoreResult<Vec<RunnerRecord>>;
}
