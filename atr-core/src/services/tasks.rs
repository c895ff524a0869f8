//! The task queue as callers see it: one task, tasks by status, counts, cancelling, retrying,
//! and queueing the Analyze checks of a revision.
//!
//! Who may see a task is decided here, once: a task of a release belongs to that release's
//! project, and is read with `view tasks` on it (its PMC members, release managers, committers,
//! and admins; a token scoped to the project); a task of no release (or of a project no longer
//! known) is the foundation's, read by admins only. Cancelling and retrying a project's task
//! needs `perform actions` on it, the foundation's `manage tasks`.
//!
//! A stored failure may carry internal detail (a storage error, a path); callers see only a
//! [`TaskFailure`]: a stable code and a generic message. The detail stays in the store and the
//! service's log.

use std::collections::BTreeMap;

use super::{ServiceError, ServiceResult, Services};
use crate::auth::{self, Activity, Principal, Target};
use crate::model::{Analyze, ReleaseKey, RevisionNumber, TaskDescriptor, TaskStatus};
use crate::ports::{Change, MAX_PAGE_SIZE, PageRequest, StoreError, TaskCount, TaskRecord};
use crate::types::{ProjectKey, Timestamp};

/// Most tasks one listing answers.
pub const MAX_TASK_LISTING: u32 = 1000;
/// Most stored tasks one listing reads to find those the caller may see.
const MAX_TASKS_SCANNED: usize = 20 * MAX_PAGE_SIZE as usize;

/// What callers are told of a failed task: a stable code and a message without detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskFailure {
    /// `timed_out`, `no_handler` or `failed`.
    pub code: &'static str,
    pub message: &'static str,
}

/// The failure shown for a stored error text. Only the runner's own fixed messages are told
/// apart; anything else (a task's own failure, which may carry storage detail) is `failed`.
pub fn task_failure(stored: &str) -> TaskFailure {
    if stored.starts_with("timed out after ") {
        TaskFailure { code: "timed_out", message: "the task ran out of time; the service's log has the details" }
    } else if stored == "no handler for this task kind" {
        TaskFailure { code: "no_handler", message: "no worker runs tasks of this kind" }
    } else {
        TaskFailure { code: "failed", message: "the task failed; the cause is in the service's log" }
    }
}

/// A task as callers may see it: the stored record without its error text, and the failure as
/// callers are told it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    /// The record; its `error` is always `None`.
    pub task: TaskRecord,
    pub failure: Option<TaskFailure>,
}

impl TaskView {
    fn of(mut task: TaskRecord) -> Self {
        let failure = task.error.take().map(|e| task_failure(&e));
        Self { task, failure }
    }
}

fn not_found(id: u64) -> ServiceError {
    ServiceError::NotFound(format!("task {id}"))
}

/// The decisions of one call, by project (`None`: the foundation), so a listing asks once per
/// project.
type Decisions = BTreeMap<Option<ProjectKey>, bool>;

impl Services {
    /// Checks that the principal may do `activity` on the task's project (its release's), or
    /// `foundation` on the foundation for a task of no known project.
    async fn authorize_task(
        &self,
        principal: &Principal,
        task: &TaskRecord,
        activity: Activity,
        foundation: Activity,
        now: Timestamp,
    ) -> ServiceResult<()> {
        if let Some(release) = &task.release
            && let Some(project) = self.ports.projects.get(&release.project).await?
        {
            let committee = self.committee(&project.committee).await?;
            let target = Target::Project { project: &project.key, committee: &committee };
            return Ok(auth::authorize(principal, activity, &target, now)?);
        }
        Ok(auth::authorize(principal, foundation, &Target::Foundation, now)?)
    }

    async fn may_view(
        &self,
        principal: &Principal,
        task: &TaskRecord,
        decisions: &mut Decisions,
        now: Timestamp,
    ) -> ServiceResult<bool> {
        let project = task.release.as_ref().map(|r| r.project.clone());
        if let Some(known) = decisions.get(&project) {
            return Ok(*known);
        }
        let allowed = match self.authorize_task(principal, task, Activity::ViewTasks, Activity::ViewTasks, now).await {
            Ok(()) => true,
            Err(ServiceError::Denied(_)) => false,
            Err(other) => return Err(other),
        };
        decisions.insert(project, allowed);
        Ok(allowed)
    }

    async fn load_task(&self, id: u64) -> ServiceResult<TaskRecord> {
        self.ports.queue.get(id).await?.ok_or_else(|| not_found(id))
    }

    /// One task, if the principal may see it (`view tasks` on its project; a task of no release
    /// is an admin's). `NotFound` for an unknown task, `Denied` for one the principal may not see.
    pub async fn task(&self, principal: &Principal, id: u64, now: Timestamp) -> ServiceResult<TaskView> {
        let task = self.load_task(id).await?;
        self.authorize_task(principal, &task, Activity::ViewTasks, Activity::ViewTasks, now).await?;
        Ok(TaskView::of(task))
    }

    /// Tasks in a status, oldest first: at most `limit` (1 to [`MAX_TASK_LISTING`]) of those the
    /// principal may see, found among the oldest stored tasks of the status.
    pub async fn tasks(
        &self,
        principal: &Principal,
        status: TaskStatus,
        limit: u32,
        now: Timestamp,
    ) -> ServiceResult<Vec<TaskView>> {
        let wanted = limit.clamp(1, MAX_TASK_LISTING) as usize;
        let mut decisions = Decisions::new();
        let mut found = Vec::new();
        let mut scanned = 0;
        let mut after = None;
        while found.len() < wanted && scanned < MAX_TASKS_SCANNED {
            let page = self.ports.queue.with_status(status, PageRequest { after, limit: MAX_PAGE_SIZE }).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            scanned += page.len();
            let full = page.len() == MAX_PAGE_SIZE as usize;
            for task in page {
                if found.len() < wanted && self.may_view(principal, &task, &mut decisions, now).await? {
                    found.push(TaskView::of(task));
                }
            }
            if !full {
                break;
            }
        }
        Ok(found)
    }

    /// How many tasks of each kind are in each status. Counts name no project and no task, so
    /// every caller the frontend lets in may read them.
    pub async fn task_counts(&self) -> ServiceResult<Vec<TaskCount>> {
        Ok(self.ports.queue.counts().await?)
    }

    /// Cancels a queued or running task. Needs `perform actions` on its project (`manage tasks`
    /// for a task of no release). `Conflict` if the task has already ended.
    pub async fn cancel_task(&self, principal: &Principal, id: u64, now: Timestamp) -> ServiceResult<TaskView> {
        let task = self.load_task(id).await?;
        self.authorize_task(principal, &task, Activity::PerformActions, Activity::ManageTasks, now).await?;
        if !self.ports.queue.cancel(id).await? {
            let ended = self.load_task(id).await?;
            return Err(ServiceError::Conflict(format!(
                "task {id} has already ended: it is {}",
                ended.status.as_str()
            )));
        }
        Ok(TaskView::of(self.load_task(id).await?))
    }

    /// Queues a failed or cancelled task again with fresh attempts. Needs what cancelling needs.
    /// `Conflict` if the task has not ended or the same work is already queued.
    pub async fn retry_task(&self, principal: &Principal, id: u64, now: Timestamp) -> ServiceResult<TaskView> {
        let task = self.load_task(id).await?;
        self.authorize_task(principal, &task, Activity::PerformActions, Activity::ManageTasks, now).await?;
        match task.status {
            TaskStatus::Completed => {
                return Err(ServiceError::Conflict(format!(
                    "task {id} completed: a completed task cannot be retried; queue new checks instead"
                )));
            }
            TaskStatus::Queued | TaskStatus::Active => {
                return Err(ServiceError::Conflict(format!(
                    "task {id} is still {}: only a failed or cancelled task can be retried",
                    task.status.as_str()
                )));
            }
            TaskStatus::Failed | TaskStatus::Cancelled => {}
        }
        match self.ports.queue.retry(id).await {
            Ok(task) => Ok(TaskView::of(task)),
            Err(StoreError::NotFound(_)) => Err(not_found(id)),
            Err(other) => Err(other.into()),
        }
    }

    /// Queues the Analyze checks of a revision, unless the same revision's are already queued or
    /// running: then answers that task. Needs `manage release`.
    pub async fn queue_analyze(
        &self,
        principal: &Principal,
        release: &ReleaseKey,
        revision: RevisionNumber,
        now: Timestamp,
    ) -> ServiceResult<TaskView> {
        self.authorized_release(principal, Activity::ManageRelease, release, now).await?;
        if self.ports.revisions.get(release, revision).await?.is_none() {
            return Err(ServiceError::NotFound(format!("revision {revision} of {release}")));
        }
        let analyze = TaskDescriptor::of(&Analyze { release: release.clone(), revision })
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let committed = self.commit(Change::new().task(analyze)).await?;
        let queued = committed.tasks.first().ok_or_else(|| {
            ServiceError::Store(format!("the Analyze task of {release} revision {revision} was not queued"))
        })?;
        Ok(TaskView::of(self.load_task(queued.id).await?))
    }
}
