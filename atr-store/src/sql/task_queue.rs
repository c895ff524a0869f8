//! The core's view of the task queue ([`TaskQueue`]) and the audit log's check ([`AuditLog`]),
//! over the queue and event-log methods of [`SqlStore`].

use async_trait::async_trait;
use atr_core::model::{ReleaseKey, RevisionNumber, TaskStatus};
use atr_core::ports::{
    AuditLog, AuditVerdict, MAX_REVISION_TASKS, MAX_RUNNERS_LISTED, PageRequest, RunnerRecord, StoreError, StoreResult,
    TaskCount, TaskQueue, TaskRecord,
};

use super::{ChainError, QueuedTask, SqlStore, backend};

fn record(task: QueuedTask) -> StoreResult<TaskRecord> {
    // A task's release is named by its arguments, as every kind about a release writes them.
    let release = task.args.get("release").and_then(|r| serde_json::from_value::<ReleaseKey>(r.clone()).ok());
    Ok(TaskRecord {
        id: u64::try_from(task.id).map_err(backend)?,
        kind: task.kind,
        args: task.args,
        release,
        status: task.status,
        priority: task.priority,
        attempts: task.attempts,
        max_attempts: task.max_attempts,
        created_at_ms: task.created_at_ms,
        scheduled_at_ms: task.scheduled_at_ms,
        started_at_ms: task.started_at_ms,
        finished_at_ms: task.finished_at_ms,
        error: task.error,
        result: task.result,
    })
}

fn row_id(id: u64) -> StoreResult<i64> {
    i64::try_from(id).map_err(|_| StoreError::NotFound(format!("task {id}")))
}

use super::records::now_ms;

#[async_trait]
impl TaskQueue for SqlStore {
    async fn get(&self, id: u64) -> StoreResult<Option<TaskRecord>> {
        self.task(row_id(id)?).await?.map(record).transpose()
    }

    async fn with_status(&self, status: TaskStatus, page: PageRequest<u64>) -> StoreResult<Vec<TaskRecord>> {
        let after = page.after.map_or(Ok(0), row_id)?;
        let tasks = self.tasks_with_status_after(status, after, page.clamped_limit()).await?;
        tasks.into_iter().map(record).collect()
    }

    async fn counts(&self) -> StoreResult<Vec<TaskCount>> {
        let counts = self.queue_counts().await?;
        Ok(counts.into_iter().map(|c| TaskCount { kind: c.kind, status: c.status, count: c.count }).collect())
    }

    async fn cancel(&self, id: u64) -> StoreResult<bool> {
        let id = row_id(id)?;
        if self.cancel_task(id, now_ms()).await? {
            return Ok(true);
        }
        match self.task(id).await? {
            Some(_) => Ok(false),
            None => Err(StoreError::NotFound(format!("task {id}"))),
        }
    }

    async fn retry(&self, id: u64) -> StoreResult<TaskRecord> {
        match self.retry_task(row_id(id)?, now_ms()).await {
            Ok(task) => record(task),
            // A task that has not ended cannot be queued again: a conflict with its state.
            Err(StoreError::Refused(what)) => Err(StoreError::Conflict(what)),
            Err(other) => Err(other),
        }
    }

    async fn revision_tasks(&self, release: &ReleaseKey, revision: RevisionNumber) -> StoreResult<Vec<TaskRecord>> {
        let tasks = SqlStore::tasks_of_revision(self, release, revision.get(), MAX_REVISION_TASKS).await?;
        tasks.into_iter().map(record).collect()
    }

    async fn runners(&self) -> StoreResult<Vec<RunnerRecord>> {
        SqlStore::list_runners(self, MAX_RUNNERS_LISTED).await
    }
}

#[async_trait]
impl AuditLog for SqlStore {
    async fn verify(&self) -> StoreResult<AuditVerdict> {
        let broken = |error: &ChainError, id: i64| AuditVerdict::Broken {
            error: error.to_string(),
            broken_at: u64::try_from(id).ok(),
        };
        Ok(match self.verify_events().await {
            Ok(report) => AuditVerdict::Intact { events: report.events, head: report.head },
            Err(ChainError::Store(cause)) => {
                tracing::error!(%cause, "the event log could not be read for verification");
                AuditVerdict::Broken {
                    error: "the event log could not be read; the cause is in the service's log".into(),
                    broken_at: None,
                }
            }
            Err(
                error @ (ChainError::Missing { expected: id, .. }
                | ChainError::BrokenLink { id }
                | ChainError::Changed { id }),
            ) => broken(&error, id),
            // The first event deleted from the end.
            Err(error @ ChainError::Truncated { found, .. }) => broken(&error, found + 1),
        })
    }
}
