//! The task queue as callers see it: one task, tasks by status, counts, cancelling, retrying,
//! and queueing the Analyze checks of a revision; the task runners with their heartbeats, and
//! where the checks of a revision stand.
//!
//! Who may see a task is decided here, once: a task of a release belongs to that release's
//! project, and is read with `view tasks` on it (its PMC members, release managers, committers,
//! and admins; a token scoped to the project); a task of no release (or of a project no longer
//! known) is the foundation's, read by admins only. Cancelling and retrying a project's task
//! needs `perform actions` on it, the foundation's `manage tasks`.
//!
//! A stored failure may carry internal detail (a storage error, a path); callers see only a
//! [`TaskFailure`]: a stable code and a message that says what to do, without the detail. The
//! detail stays in the store and the service's log.
//!
//! Whether waiting work has a runner is decided here, once ([`waiting_for_runner`]): a runner is
//! *live* while it has not stopped and its heartbeat was seen within the services'
//! `stale_runner_after` ([`DEFAULT_STALE_RUNNER_AFTER`]); pending tasks of a kind that no live
//! runner handles wait for a runner, and callers are told so in words, with when one was last
//! seen. [`checks_progress`] uses it to say where the checks of a revision stand.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::{ServiceError, ServiceResult, Services};
use crate::auth::{self, Activity, Principal, Target};
use crate::model::{Analyze, CheckRun, ReleaseKey, RevisionNumber, TaskDescriptor, TaskStatus};
use crate::ports::{Change, MAX_PAGE_SIZE, PageRequest, RunnerRecord, StoreError, TaskCount, TaskRecord};
use crate::types::{ProjectKey, Timestamp};

/// How long a runner may go unseen before waiting work is said to have no runner: six
/// heartbeats of a runner at its default interval (10 s).
pub const DEFAULT_STALE_RUNNER_AFTER: Duration = Duration::from_mins(1);

/// Most tasks one listing answers.
pub const MAX_TASK_LISTING: u32 = 1000;
/// Most stored tasks one listing reads to find those the caller may see.
const MAX_TASKS_SCANNED: usize = 20 * MAX_PAGE_SIZE as usize;

/// What callers are told of a failed task: a stable code and a message without detail that says
/// what happened and what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskFailure {
    /// `timed_out`, `no_handler`, `runner_lost` or `failed`.
    pub code: &'static str,
    pub message: &'static str,
}

/// The failure shown for a stored error text. Only the runner's and the queue's own fixed
/// messages are told apart; anything else (a task's own failure, which may carry storage detail)
/// is `failed`.
pub fn task_failure(stored: &str) -> TaskFailure {
    if stored.starts_with("timed out after ") {
        TaskFailure {
            code: "timed_out",
            message: "the last attempt ran longer than the task time limit (a very large release, or an overloaded \
                      task runner); retry the task, and if it times out again ask the platform's operators, whose \
                      runner log has the details",
        }
    } else if stored == "no handler for this task kind" {
        TaskFailure {
            code: "no_handler",
            message: "no task runner handles tasks of this kind; ask the platform's operators to start one that \
                      does, then retry the task",
        }
    } else if stored == "the worker running the last attempt stopped answering" {
        TaskFailure {
            code: "runner_lost",
            message: "the task runner of the last attempt stopped answering (stopped, killed or out of memory); \
                      retry the task, and if this happens again ask the platform's operators to look at the runner",
        }
    } else {
        TaskFailure {
            code: "failed",
            message: "the task failed; retry it, and if it fails again ask the platform's operators, who find the \
                      cause in the service's log",
        }
    }
}

/// Whether a runner counts as there: it has not stopped, and its heartbeat was seen within
/// `stale_after` of `now` (a heartbeat from a clock slightly ahead counts as seen now).
pub fn runner_live(runner: &RunnerRecord, now: Timestamp, stale_after: Duration) -> bool {
    let stale_ms = i64::try_from(stale_after.as_millis()).unwrap_or(i64::MAX);
    let now_ms = now.unix().saturating_mul(1000);
    runner.stopped_at_ms.is_none() && now_ms.saturating_sub(runner.last_seen_ms) <= stale_ms
}

/// Pending work that no runner is there to take: what callers are told instead of "running".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRunner {
    /// The kind of the tasks that wait, such as `analyze`.
    pub kind: String,
    /// When a runner handling that kind was last seen; `None` when none ever ran against this
    /// database.
    pub last_seen: Option<Timestamp>,
}

impl fmt::Display for NoRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.last_seen {
            Some(at) => write!(f, "waiting for a task runner; none has been seen since {at}"),
            None => f.write_str("waiting for a task runner; none has ever run against this database"),
        }
    }
}

/// The rule, decided here only: pending tasks (`(kind, status)`, queued or active) wait for a
/// runner when no live runner ([`runner_live`]) handles their kind. Answers the first such kind,
/// with when a runner handling it was last seen, or `None` when every pending task has a runner
/// (or nothing is pending). A task still shown active whose kind no live runner handles is not
/// being run either: its runner stopped being seen, and its lease runs out for the next runner to
/// claim it again.
pub fn waiting_for_runner<'a>(
    pending: impl IntoIterator<Item = (&'a str, TaskStatus)>,
    runners: &[RunnerRecord],
    now: Timestamp,
    stale_after: Duration,
) -> Option<NoRunner> {
    pending
        .into_iter()
        .filter(|(_, status)| matches!(status, TaskStatus::Queued | TaskStatus::Active))
        .find(|(kind, _)| !runners.iter().any(|r| r.handles(kind) && runner_live(r, now, stale_after)))
        .map(|(kind, _)| NoRunner {
            kind: kind.to_owned(),
            last_seen: runners
                .iter()
                .filter(|r| r.handles(kind))
                .map(|r| r.last_seen_ms)
                .max()
                .map(|ms| Timestamp::from_unix(ms.div_euclid(1000))),
        })
}

/// Where the checks of a revision stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChecksProgress {
    /// They ran to completion (a check run is recorded) and nothing is pending.
    Completed { at: Timestamp },
    /// A live runner holds at least one of the pending tasks.
    Running { pending: u32 },
    /// The pending tasks wait in the queue; a live runner handles them and takes them when it has
    /// a free slot (or when a retry's backoff is over).
    Queued { pending: u32 },
    /// The pending tasks wait for a runner, and none is there.
    WaitingForRunner { pending: u32, runner: NoRunner },
    /// Nothing is pending and they never completed: their last task failed for good.
    Failed { task: u64, failure: TaskFailure },
    /// Nothing is pending and they never completed: their last task was cancelled.
    Cancelled { task: u64 },
    /// No check task of the revision is known and none completed.
    NotQueued,
}

impl ChecksProgress {
    /// `completed`, `running`, `queued`, `waiting_for_runner`, `failed`, `cancelled` or
    /// `not_queued`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Completed { .. } => "completed",
            Self::Running { .. } => "running",
            Self::Queued { .. } => "queued",
            Self::WaitingForRunner { .. } => "waiting_for_runner",
            Self::Failed { .. } => "failed",
            Self::Cancelled { .. } => "cancelled",
            Self::NotQueued => "not_queued",
        }
    }

    /// Whether the checks ran to completion with nothing pending.
    pub fn completed(&self) -> bool {
        matches!(self, Self::Completed { .. })
    }

    /// Whether waiting can end with the checks completed by itself: they are running or queued
    /// with a runner there. Not when they wait for a runner that is not there, nor once they
    /// ended without completing.
    pub fn moving(&self) -> bool {
        matches!(self, Self::Running { .. } | Self::Queued { .. })
    }
}

/// In words, for a release manager.
impl fmt::Display for ChecksProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Completed { at } => write!(f, "the checks completed at {at}"),
            Self::Running { pending } => write!(f, "the checks are running ({pending} task(s) pending)"),
            Self::Queued { pending } => write!(
                f,
                "the checks are queued ({pending} task(s) pending); a task runner takes them when it has a free slot"
            ),
            Self::WaitingForRunner { runner, .. } => runner.fmt(f),
            Self::Failed { task, failure } => {
                write!(f, "the checks failed for good (task {task}): {}", failure.message)
            }
            Self::Cancelled { task } => {
                write!(f, "the checks were cancelled (task {task}) before they completed; queue them again")
            }
            Self::NotQueued => f.write_str("no checks were queued for this revision; queue them"),
        }
    }
}

/// Where the checks of a revision stand, from its tasks (newest first, as
/// [`crate::ports::TaskQueue::revision_tasks`] answers them), its recorded check run and the
/// runners: pending tasks first (running, queued or waiting for a runner by
/// [`waiting_for_runner`]), then a completed run, then how the last task ended.
pub fn checks_progress(
    tasks: &[TaskRecord],
    run: Option<&CheckRun>,
    runners: &[RunnerRecord],
    now: Timestamp,
    stale_after: Duration,
) -> ChecksProgress {
    let pending: Vec<&TaskRecord> =
        tasks.iter().filter(|t| matches!(t.status, TaskStatus::Queued | TaskStatus::Active)).collect();
    if !pending.is_empty() {
        let count = u32::try_from(pending.len()).unwrap_or(u32::MAX);
        if let Some(runner) =
            waiting_for_runner(pending.iter().map(|t| (t.kind.as_str(), t.status)), runners, now, stale_after)
        {
            return ChecksProgress::WaitingForRunner { pending: count, runner };
        }
        return if pending.iter().any(|t| t.status == TaskStatus::Active) {
            ChecksProgress::Running { pending: count }
        } else {
            ChecksProgress::Queued { pending: count }
        };
    }
    if let Some(run) = run {
        return ChecksProgress::Completed { at: run.completed_at };
    }
    match tasks.first() {
        Some(task) if task.status == TaskStatus::Cancelled => ChecksProgress::Cancelled { task: task.id },
        Some(task) => {
            ChecksProgress::Failed { task: task.id, failure: task_failure(task.error.as_deref().unwrap_or_default()) }
        }
        None => ChecksProgress::NotQueued,
    }
}

/// The checks of a revision as callers are told: where they stand, in words too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksStatus {
    pub release: ReleaseKey,
    pub revision: RevisionNumber,
    pub progress: ChecksProgress,
}

/// A runner as callers see it, with whether it counts as there now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerView {
    pub runner: RunnerRecord,
    /// [`runner_live`] at the time of the call.
    pub live: bool,
}

/// The queue as a whole: counts by kind and status, the runners, and the kinds whose pending
/// tasks wait for a runner that is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueReport {
    pub counts: Vec<TaskCount>,
    pub runners: Vec<RunnerView>,
    /// One per kind with pending tasks and no live runner, by kind.
    pub waiting: Vec<NoRunner>,
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

    /// The queue's counts with the runners registered against it (whether each is live at `now`)
    /// and, for each kind with pending tasks, whether they wait for a runner that is not there.
    /// Like the counts, it names no project and no task.
    pub async fn queue_report(&self, now: Timestamp) -> ServiceResult<QueueReport> {
        let counts = self.ports.queue.counts().await?;
        let records = self.ports.queue.runners().await?;
        let stale_after = self.stale_runner_after();
        let kinds: std::collections::BTreeSet<&str> = counts
            .iter()
            .filter(|c| c.count > 0 && matches!(c.status, TaskStatus::Queued | TaskStatus::Active))
            .map(|c| c.kind.as_str())
            .collect();
        let waiting = kinds
            .into_iter()
            .filter_map(|kind| waiting_for_runner([(kind, TaskStatus::Queued)], &records, now, stale_after))
            .collect();
        let runners = records
            .into_iter()
            .map(|runner| RunnerView { live: runner_live(&runner, now, stale_after), runner })
            .collect();
        Ok(QueueReport { counts, runners, waiting })
    }

    /// Where the checks of a revision stand ([`checks_progress`]): completed, running, queued,
    /// waiting for a task runner that is not there, or ended without completing and why. Read by
    /// whoever may read the release, as its check results are; `NotFound` for a release they may
    /// not read or a revision it does not have.
    pub async fn checks_status(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        number: RevisionNumber,
        now: Timestamp,
    ) -> ServiceResult<ChecksStatus> {
        self.readable_release(principal, key, now).await?;
        if self.ports.revisions.get(key, number).await?.is_none() {
            return Err(ServiceError::NotFound(format!("revision {number} of {key}")));
        }
        let tasks = self.ports.queue.revision_tasks(key, number).await?;
        let run = self.ports.revisions.check_run(key, number).await?;
        let pending = tasks.iter().any(|t| matches!(t.status, TaskStatus::Queued | TaskStatus::Active));
        let runners = if pending { self.ports.queue.runners().await? } else { Vec::new() };
        let progress = checks_progress(&tasks, run.as_ref(), &runners, now, self.stale_runner_after());
        Ok(ChecksStatus { release: key.clone(), revision: number, progress })
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
    /// running: then answers that task. Needs `manage release`. The checks reuse the results of
    /// an earlier run with the same inputs; with `force` they all run again, which needs
    /// `manage tasks` (an admin): for a checker whose results are in doubt although its inputs
    /// are not.
    pub async fn queue_analyze(
        &self,
        principal: &Principal,
        release: &ReleaseKey,
        revision: RevisionNumber,
        force: bool,
        now: Timestamp,
    ) -> ServiceResult<TaskView> {
        self.authorized_release(principal, Activity::ManageRelease, release, now).await?;
        if force {
            auth::authorize(principal, Activity::ManageTasks, &Target::Foundation, now)?;
        }
        if self.ports.revisions.get(release, revision).await?.is_none() {
            return Err(ServiceError::NotFound(format!("revision {revision} of {release}")));
        }
        let analyze = TaskDescriptor::of(&Analyze { release: release.clone(), revision, force })
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let committed = self.commit(Change::new().task(analyze)).await?;
        let queued = committed.tasks.first().ok_or_else(|| {
            ServiceError::Store(format!("the Analyze task of {release} revision {revision} was not queued"))
        })?;
        Ok(TaskView::of(self.load_task(queued.id).await?))
    }
}
