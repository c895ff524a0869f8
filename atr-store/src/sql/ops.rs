//! What operations read of the database: the installation's id, whether the database answers and
//! is migrated, and how its connection pool is used.

use std::collections::BTreeSet;
use std::time::Duration;

use atr_core::ports::StoreResult;
use sqlx::Row;

use super::{SqlStore, backend, get_str, records::now_ms};

/// How long a readiness probe waits for the database.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The use of the database's connection pool, as plain numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open now (idle or in use).
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}

/// Which migrations of this build the database lacks, and which it has that this build does not
/// know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationState {
    /// Migrations this build embeds.
    pub known: usize,
    /// Versions embedded here and not applied to the database.
    pub pending: Vec<i64>,
    /// Versions applied to the database that this build does not embed (a newer build migrated
    /// it).
    pub unknown: Vec<i64>,
}

impl SqlStore {
    /// The installation id the database holds, if one was written.
    pub async fn installation_id(&self) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT id FROM installation WHERE singleton = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|row| get_str(&row, "id")).transpose()
    }

    /// Records `id` as the installation's unless one is recorded already; returns the one
    /// recorded (which is another if another process got there first).
    pub(crate) async fn record_installation(&self, id: &str) -> StoreResult<String> {
        sqlx::query("INSERT INTO installation (singleton, id, created_at) VALUES (1, $1, $2) ON CONFLICT (singleton) DO NOTHING")
            .bind(id)
            .bind(now_ms() / 1000)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        self.installation_id().await?.ok_or_else(|| backend("the installation row vanished after it was written"))
    }

    /// The pool's use now.
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    /// Runs a trivial query, within the probe timeout (`PROBE_TIMEOUT`).
    pub async fn ping(&self) -> StoreResult<()> {
        let query = sqlx::query("SELECT 1 AS one").fetch_one(&self.pool);
        match tokio::time::timeout(PROBE_TIMEOUT, query).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(backend(error)),
            Err(_) => Err(backend(format!("no answer within {} s", PROBE_TIMEOUT.as_secs()))),
        }
    }

    /// Compares the migrations applied to the database with the ones of this build, reading
    /// only (the bookkeeping table is not created when it is missing).
    pub async fn migration_state(&self) -> StoreResult<MigrationState> {
        let query = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(&self.pool);
        let rows = match tokio::time::timeout(PROBE_TIMEOUT, query).await {
            Ok(rows) => rows.map_err(backend)?,
            Err(_) => return Err(backend(format!("no answer within {} s", PROBE_TIMEOUT.as_secs()))),
        };
        let applied: BTreeSet<i64> =
            rows.iter().map(|row| row.try_get::<i64, _>("version").map_err(backend)).collect::<StoreResult<_>>()?;
        let known: BTreeSet<i64> = self
            .engine
            .migrator()
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .map(|m| m.version)
            .collect();
        Ok(MigrationState {
            known: known.len(),
            pending: known.difference(&applied).copied().collect(),
            unknown: applied.difference(&known).copied().collect(),
        })
    }
}
