//! The task runners that work against this database, with their heartbeats (table `runners`,
//! migration `0007_runners`). A runner registers itself when it starts, refreshes `last_seen` at
//! a fixed interval and marks itself stopped when it stops gracefully; what is done with that
//! (whether a runner is there) is the core's decision.

use atr_core::ports::{RunnerRecord, StoreResult};

use super::{SqlStore, backend, from_json, get_i64, get_opt_i64, get_str, to_json};

/// How long the row of a runner that stopped, or stopped being seen, is kept: a week. The most
/// recently seen runner is always kept, so that "none has been seen since" can still be told.
pub const RUNNER_RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;

const COLUMNS: &str = "id, name, host, pid, kinds, concurrency, started_at, last_seen, stopped_at";

fn runner_of(row: &sqlx::any::AnyRow) -> StoreResult<RunnerRecord> {
    Ok(RunnerRecord {
        id: get_str(row, "id")?,
        name: get_str(row, "name")?,
        host: get_str(row, "host")?,
        pid: u32::try_from(get_i64(row, "pid")?).map_err(backend)?,
        kinds: from_json(&get_str(row, "kinds")?)?,
        concurrency: u32::try_from(get_i64(row, "concurrency")?).map_err(backend)?,
        started_at_ms: get_i64(row, "started_at")?,
        last_seen_ms: get_i64(row, "last_seen")?,
        stopped_at_ms: get_opt_i64(row, "stopped_at")?,
    })
}

impl SqlStore {
    /// Registers a runner as it starts (or again, when its row went missing): writes its row,
    /// or replaces the row of the same id, as running and seen at `runner.last_seen_ms`. Rows of
    /// runners unseen for longer than [`RUNNER_RETENTION_MS`] are removed in the same
    /// transaction, except the most recently seen one.
    pub async fn register_runner(&self, runner: &RunnerRecord) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "DELETE FROM runners WHERE last_seen < $1 AND id <> \
             (SELECT id FROM runners ORDER BY last_seen DESC, id LIMIT 1)",
        )
        .bind(runner.last_seen_ms.saturating_sub(RUNNER_RETENTION_MS))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let sql = format!(
            "INSERT INTO runners ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, host = excluded.host, pid = excluded.pid, \
             kinds = excluded.kinds, concurrency = excluded.concurrency, started_at = excluded.started_at, \
             last_seen = excluded.last_seen, stopped_at = NULL"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(runner.id.as_str())
            .bind(runner.name.as_str())
            .bind(runner.host.as_str())
            .bind(i64::from(runner.pid))
            .bind(to_json(&runner.kinds)?)
            .bind(i64::from(runner.concurrency))
            .bind(runner.started_at_ms)
            .bind(runner.last_seen_ms)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    /// A heartbeat of a running runner: it was seen at `now_ms`, running at most `concurrency`
    /// tasks at once. False when it has no running row (never registered, removed, or marked
    /// stopped): then it registers again.
    pub async fn runner_heartbeat(&self, id: &str, now_ms: i64, concurrency: u32) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE runners SET last_seen = $2, concurrency = $3 WHERE id = $1 AND stopped_at IS NULL")
                .bind(id)
                .bind(now_ms)
                .bind(i64::from(concurrency))
                .execute(&self.pool)
                .await
                .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a runner stopped (gracefully) at `now_ms`, which is also when it was last seen.
    /// Nothing happens for an unknown runner.
    pub async fn runner_stopped(&self, id: &str, now_ms: i64) -> StoreResult<()> {
        sqlx::query("UPDATE runners SET stopped_at = $2, last_seen = $2 WHERE id = $1")
            .bind(id)
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// The registered runners, stopped ones included, the most recently seen first, at most
    /// `limit` (1 to 1000).
    pub async fn list_runners(&self, limit: u32) -> StoreResult<Vec<RunnerRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM runners ORDER BY last_seen DESC, id LIMIT $1");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(runner_of).collect()
    }
}
