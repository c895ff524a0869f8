//! The task queue the runner works from: leased claims, fenced commits, retries.
//!
//! A claim is one statement: an `UPDATE ... WHERE id = (SELECT ... LIMIT 1) RETURNING`, with
//! `FOR UPDATE SKIP LOCKED` in the sub-select on PostgreSQL so that concurrent workers on several
//! machines skip each other's rows, and SQLite's single writer making it atomic there. A claim
//! sets a lease (owner, expiry) and increments the task's *fence*; every later write of the worker
//! (heartbeat, completion, failure, giving the task back) is guarded by that fence, so a worker
//! whose lease expired and was claimed again by another cannot commit anything.

use std::fmt::Write as _;

use atr_core::model::{CheckResult, CheckRun, NewEvent, ReleaseKey, TaskStatus};
use atr_core::ports::{StoreError, StoreResult};
use atr_core::types::Sha256Digest;
use serde_json::Value;
use sha2::{Digest, Sha256};

use sqlx::AnyConnection;

use super::{Engine, SqlStore, backend, from_json, get_i64, get_opt_i64, get_str, release_id, to_json};

/// A task to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    /// The task type, such as `analyze`.
    pub kind: String,
    /// The task's arguments.
    pub args: Value,
    /// The release it is about, if any (for listings and pending counts).
    pub release: Option<ReleaseKey>,
    pub revision: Option<u32>,
    /// Lower runs first.
    pub priority: i32,
    /// Attempts before the task fails for good.
    pub max_attempts: u32,
    /// Not before this time (unix milliseconds).
    pub scheduled_at_ms: i64,
}

/// A stored task, as the runner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedTask {
    pub id: i64,
    pub kind: String,
    pub args: Value,
    pub inputs_hash: String,
    pub priority: i32,
    pub status: TaskStatus,
    pub attempts: u32,
    pub max_attempts: u32,
    pub scheduled_at_ms: i64,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub lease_owner: Option<String>,
    pub lease_expires_at_ms: Option<i64>,
    /// The claim counter; the holder of the current claim commits with it.
    pub fence: i64,
    pub result: Option<Value>,
    pub error: Option<String>,
}

/// What a completed task stores with its completion, in one transaction.
#[derive(Debug, Clone, Copy)]
pub struct Completion<'a> {
    pub result: &'a Value,
    pub checks: &'a [CheckResult],
    /// The record that the checks of a revision ran to completion.
    pub run: Option<&'a CheckRun>,
    pub events: &'a [NewEvent],
}

/// How many tasks of a kind are in a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCount {
    pub kind: String,
    pub status: TaskStatus,
    pub count: u64,
}

const COLUMNS: &str = "id, kind, args, inputs_hash, priority, status, attempts, max_attempts, scheduled_at, \
    created_at, started_at, finished_at, lease_owner, lease_expires_at, fence, result, error";

/// SHA-256 of kind and canonical arguments: equal work has equal hashes.
pub fn inputs_hash(kind: &str, args: &Value) -> String {
    let digest = Sha256::new().chain_update(kind).chain_update("\n").chain_update(args.to_string()).finalize();
    Sha256Digest::from_bytes(digest.into()).to_hex()
}

fn status_of(text: &str) -> StoreResult<TaskStatus> {
    TaskStatus::parse(text).ok_or_else(|| StoreError::Backend(format!("unknown task status {text}")))
}

fn small(n: i64) -> StoreResult<u32> {
    u32::try_from(n).map_err(backend)
}

fn task_of(row: &sqlx::any::AnyRow) -> StoreResult<QueuedTask> {
    let opt_str = |c: &str| sqlx::Row::try_get::<Option<String>, _>(row, c).map_err(backend);
    Ok(QueuedTask {
        id: get_i64(row, "id")?,
        kind: get_str(row, "kind")?,
        args: from_json(&get_str(row, "args")?)?,
        inputs_hash: get_str(row, "inputs_hash")?,
        priority: i32::try_from(get_i64(row, "priority")?).map_err(backend)?,
        status: status_of(&get_str(row, "status")?)?,
        attempts: small(get_i64(row, "attempts")?)?,
        max_attempts: small(get_i64(row, "max_attempts")?)?,
        scheduled_at_ms: get_i64(row, "scheduled_at")?,
        created_at_ms: get_i64(row, "created_at")?,
        started_at_ms: get_opt_i64(row, "started_at")?,
        finished_at_ms: get_opt_i64(row, "finished_at")?,
        lease_owner: opt_str("lease_owner")?,
        lease_expires_at_ms: get_opt_i64(row, "lease_expires_at")?,
        fence: get_i64(row, "fence")?,
        result: opt_str("result")?.map(|r| from_json(&r)).transpose()?,
        error: opt_str("error")?,
    })
}

fn lease_lost(id: i64) -> StoreError {
    StoreError::Conflict(format!("task {id}: the lease was lost to another worker or the task was cancelled"))
}

/// Queues a task in the transaction, unless the same work (kind and arguments) is already
/// queued or active: then returns that task and `false`. The unique index on pending work is
/// met with `ON CONFLICT DO NOTHING` (a unique violation would abort a PostgreSQL transaction).
pub(crate) async fn queue(conn: &mut AnyConnection, task: &NewTask, now_ms: i64) -> StoreResult<(QueuedTask, bool)> {
    let hash = inputs_hash(&task.kind, &task.args);
    let release_id = match &task.release {
        Some(key) => Some(release_id(conn, key).await?),
        None => None,
    };
    let sql = format!(
        "INSERT INTO tasks (kind, args, inputs_hash, release_id, revision, priority, status, max_attempts, \
         scheduled_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9) \
         ON CONFLICT (inputs_hash) WHERE status IN ('queued', 'active') DO NOTHING RETURNING {COLUMNS}"
    );
    let inserted = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(task.kind.as_str())
        .bind(to_json(&task.args)?)
        .bind(&hash)
        .bind(release_id)
        .bind(task.revision.map(i64::from))
        .bind(i64::from(task.priority))
        .bind(i64::from(task.max_attempts.max(1)))
        .bind(task.scheduled_at_ms)
        .bind(now_ms)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    if let Some(row) = inserted {
        return Ok((task_of(&row)?, true));
    }
    let sql = format!("SELECT {COLUMNS} FROM tasks WHERE inputs_hash = $1 AND status IN ('queued', 'active')");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&hash)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or_else(|| StoreError::Conflict(format!("task {} is being queued concurrently", task.kind)))?;
    Ok((task_of(&row)?, false))
}

impl SqlStore {
    /// Queues a task, unless the same work (kind and arguments) is already queued or active:
    /// then returns that task and `false`.
    pub async fn queue_task(&self, task: &NewTask, now_ms: i64) -> StoreResult<(QueuedTask, bool)> {
        let mut tx = self.begin().await?;
        let queued = queue(&mut tx, task, now_ms).await?;
        tx.commit().await.map_err(backend)?;
        Ok(queued)
    }

    /// The task, or `None`.
    pub async fn task(&self, id: i64) -> StoreResult<Option<QueuedTask>> {
        let sql = format!("SELECT {COLUMNS} FROM tasks WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(task_of).transpose()
    }

    /// Claims the most urgent runnable task of one of `kinds`: a queued task whose time has come,
    /// or an active one whose lease expired (its worker died). The claim leases it to `owner`
    /// until `now_ms + lease_ms`, counts an attempt and moves the fence.
    pub async fn claim_task(
        &self,
        kinds: &[&str],
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<QueuedTask>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        // Tasks whose last attempt's worker died fail for good.
        sqlx::query(
            "UPDATE tasks SET status = 'failed', finished_at = $1, lease_owner = NULL, lease_expires_at = NULL, \
             error = 'the worker running the last attempt stopped answering' \
             WHERE status = 'active' AND lease_expires_at < $1 AND attempts >= max_attempts",
        )
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        let mut kinds_sql = String::new();
        for i in 0..kinds.len() {
            let _ = write!(kinds_sql, "{}${}", if i == 0 { "" } else { ", " }, i + 4);
        }
        let lock = if self.engine == Engine::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE tasks SET status = 'active', lease_owner = $1, lease_expires_at = $2, fence = fence + 1, \
             attempts = attempts + 1, started_at = $3, error = NULL \
             WHERE id = (SELECT id FROM tasks WHERE kind IN ({kinds_sql}) AND \
             ((status = 'queued' AND scheduled_at <= $3) OR (status = 'active' AND lease_expires_at < $3)) \
             ORDER BY priority, scheduled_at, id LIMIT 1{lock}) RETURNING {COLUMNS}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(owner).bind(now_ms + lease_ms).bind(now_ms);
        for kind in kinds {
            query = query.bind(*kind);
        }
        let row = query.fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(task_of).transpose()
    }

    /// Extends the lease of a task still held with `fence`. False if the lease was lost or the
    /// task cancelled: the worker must stop.
    pub async fn renew_lease(&self, id: i64, fence: i64, now_ms: i64, lease_ms: i64) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE tasks SET lease_expires_at = $3 WHERE id = $1 AND fence = $2 AND status = 'active'")
                .bind(id)
                .bind(fence)
                .bind(now_ms + lease_ms)
                .execute(&self.pool)
                .await
                .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    /// Completes a task held with `fence`, storing its result and its check results in the same
    /// transaction. `Conflict` if the lease was lost: then nothing is written.
    pub async fn complete_task(
        &self,
        id: i64,
        fence: i64,
        result: &Value,
        checks: &[CheckResult],
        now_ms: i64,
    ) -> StoreResult<()> {
        self.complete_task_with(id, fence, &Completion { result, checks, run: None, events: &[] }, now_ms).await
    }

    /// Completes a task held with `fence`, storing in the same transaction its result, its check
    /// results, the record that its checks ran to completion and its events. `Conflict` if the
    /// lease was lost: then nothing is written.
    pub async fn complete_task_with(
        &self,
        id: i64,
        fence: i64,
        completion: &Completion<'_>,
        now_ms: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE tasks SET status = 'completed', result = $3, finished_at = $4, lease_owner = NULL, \
             lease_expires_at = NULL WHERE id = $1 AND fence = $2 AND status = 'active'",
        )
        .bind(id)
        .bind(fence)
        .bind(to_json(completion.result)?)
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(lease_lost(id));
        }
        let mut ids = Vec::with_capacity(completion.checks.len());
        for check in completion.checks {
            ids.push(release_id(&mut tx, &check.release).await?);
        }
        super::releases::insert_checks(&mut tx, completion.checks, &ids).await?;
        if let Some(run) = completion.run {
            let release = release_id(&mut tx, &run.release).await?;
            sqlx::query(
                "INSERT INTO check_runs (release_id, revision, completed_at, data) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (release_id, revision) DO UPDATE SET completed_at = excluded.completed_at, \
                 data = excluded.data",
            )
            .bind(release)
            .bind(i64::from(run.revision.get()))
            .bind(run.completed_at.unix())
            .bind(to_json(run)?)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        for event in completion.events {
            super::events::append(&mut tx, event).await?;
        }
        tx.commit().await.map_err(backend)
    }

    /// Records a failed attempt of a task held with `fence`: queued again at `retry_at_ms` while
    /// attempts remain, failed for good otherwise. Returns the new status.
    pub async fn fail_task(
        &self,
        id: i64,
        fence: i64,
        error: &str,
        now_ms: i64,
        retry_at_ms: i64,
    ) -> StoreResult<TaskStatus> {
        let error: String = error.chars().take(4000).collect();
        let row = sqlx::query(
            "UPDATE tasks SET \
             status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
             scheduled_at = CASE WHEN attempts >= max_attempts THEN scheduled_at ELSE $4 END, \
             finished_at = CASE WHEN attempts >= max_attempts THEN $5 ELSE NULL END, \
             error = $3, lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $1 AND fence = $2 AND status = 'active' RETURNING status",
        )
        .bind(id)
        .bind(fence)
        .bind(error)
        .bind(retry_at_ms)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        match row {
            Some(row) => status_of(&get_str(&row, "status")?),
            None => Err(lease_lost(id)),
        }
    }

    /// Gives a task back to the queue without counting the attempt (a worker shutting down).
    pub async fn release_task(&self, id: i64, fence: i64, now_ms: i64) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE tasks SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, \
             attempts = attempts - 1, scheduled_at = $3 WHERE id = $1 AND fence = $2 AND status = 'active'",
        )
        .bind(id)
        .bind(fence)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        if done.rows_affected() == 0 { Err(lease_lost(id)) } else { Ok(()) }
    }

    /// Cancels a queued or active task; its worker notices at its next heartbeat. False if the
    /// task had already ended.
    pub async fn cancel_task(&self, id: i64, now_ms: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE tasks SET status = 'cancelled', finished_at = $2, lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $1 AND status IN ('queued', 'active')",
        )
        .bind(id)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues a failed or cancelled task again, with fresh attempts. `Conflict` if the same work
    /// is already pending, `Refused` if the task has not ended.
    pub async fn retry_task(&self, id: i64, now_ms: i64) -> StoreResult<QueuedTask> {
        let sql = format!(
            "UPDATE tasks SET status = 'queued', attempts = 0, scheduled_at = $2, finished_at = NULL, error = NULL \
             WHERE id = $1 AND status IN ('failed', 'cancelled') RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(now_ms).fetch_optional(&self.pool).await;
        match row {
            Ok(Some(row)) => task_of(&row),
            Ok(None) => match self.task(id).await? {
                None => Err(StoreError::NotFound(format!("task {id}"))),
                Some(t) => {
                    Err(StoreError::Refused(format!("task {id} is {}, not failed or cancelled", t.status.as_str())))
                }
            },
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(StoreError::Conflict(format!("the work of task {id} is already queued")))
            }
            Err(e) => Err(backend(e)),
        }
    }

    /// Counts of tasks by kind and status.
    pub async fn queue_counts(&self) -> StoreResult<Vec<QueueCount>> {
        let rows =
            sqlx::query("SELECT kind, status, COUNT(*) AS n FROM tasks GROUP BY kind, status ORDER BY kind, status")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(QueueCount {
                    kind: get_str(r, "kind")?,
                    status: status_of(&get_str(r, "status")?)?,
                    count: u64::try_from(get_i64(r, "n")?).map_err(backend)?,
                })
            })
            .collect()
    }

    /// Tasks of a status, oldest first (for status pages and tests).
    pub async fn tasks_with_status(&self, status: TaskStatus, limit: u32) -> StoreResult<Vec<QueuedTask>> {
        let sql = format!("SELECT {COLUMNS} FROM tasks WHERE status = $1 ORDER BY id LIMIT $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status.as_str())
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(task_of).collect()
    }

    /// The tasks about one revision of a release, newest first, at most `limit` (1 to 1000);
    /// none for an unknown release.
    pub async fn tasks_of_revision(
        &self,
        release: &ReleaseKey,
        revision: u32,
        limit: u32,
    ) -> StoreResult<Vec<QueuedTask>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let id = match release_id(&mut conn, release).await {
            Ok(id) => id,
            Err(StoreError::NotFound(_)) => return Ok(Vec::new()),
            Err(other) => return Err(other),
        };
        let sql =
            format!("SELECT {COLUMNS} FROM tasks WHERE release_id = $1 AND revision = $2 ORDER BY id DESC LIMIT $3");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(i64::from(revision))
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
        rows.iter().map(task_of).collect()
    }

    /// Tasks of a status with ids above `after`, oldest first, at most `limit` (1 to 1000).
    pub async fn tasks_with_status_after(
        &self,
        status: TaskStatus,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<QueuedTask>> {
        let sql = format!("SELECT {COLUMNS} FROM tasks WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status.as_str())
            .bind(after)
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(task_of).collect()
    }
}
