//! Metadata on sqlx: SQLite embedded by default, PostgreSQL selected by a `postgres://` URL.
//!
//! One query text serves both engines through sqlx's `Any` driver: placeholders are `$1, $2`,
//! flags and times are 64-bit integers, and entities are JSON documents beside the columns that
//! queries filter, order, guard and join on (see `migrations/`). Every guard the ports promise is
//! also a database rule (unique keys, partial unique indexes, guarded `UPDATE ... WHERE`), so a
//! lost race comes back as [`StoreError::Conflict`].

mod accounts;
mod change;
mod events;
mod ops;
mod people;
mod queue;
mod records;
mod releases;
mod runners;
mod search;
mod task_queue;

use std::str::FromStr;
use std::time::Duration;

use atr_core::model::ReleaseKey;
use atr_core::ports::{StoreError, StoreResult};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Executor, Row};

pub use accounts::StoredToken;
pub use events::{ChainError, ChainReport};
pub use ops::{MigrationState, PoolStats};
pub use queue::{Completion, NewTask, QueueCount, QueuedTask, inputs_hash};
pub use records::DEFAULT_MAX_ATTEMPTS;
pub use runners::RUNNER_RETENTION_MS;
pub use search::search_queries_for_plans;

/// The SQLite migrations, embedded.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
/// The PostgreSQL migrations, embedded.
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The engine a database URL names: `sqlite:` or `postgres://` (`postgresql://`).
    pub fn of_url(url: &str) -> StoreResult<Engine> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Engine::Postgres)
        } else {
            Err(StoreError::Refused("a database URL starts with sqlite: or postgres://".into()))
        }
    }

    /// The engine's embedded migrations.
    pub fn migrator(self) -> &'static sqlx::migrate::Migrator {
        match self {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// The metadata store: implements every repository port of `atr_core::ports` except the files.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    engine: Engine,
}

impl SqlStore {
    /// Connects to the database at `url` without migrating. A SQLite file is created if missing,
    /// in WAL mode with foreign keys on and a busy timeout.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let engine = Engine::of_url(url)?;
        let url = match engine {
            Engine::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(backend)?;
        let pool_options = AnyPoolOptions::new()
            .max_connections(if engine == Engine::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(30));
        let pool_options = if engine == Engine::Sqlite {
            pool_options.after_connect(|conn, _| {
                Box::pin(async move {
                    // The busy timeout (milliseconds): how long a writer waits for the lock.
                    conn.execute(
                        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                         PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
                    )
                    .await?;
                    Ok(())
                })
            })
        } else {
            pool_options
        };
        let pool = pool_options.connect_with(options).await.map_err(backend)?;
        Ok(Self { pool, engine })
    }

    /// Connects and applies the pending migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the pending migrations of the store's engine.
    pub async fn migrate(&self) -> StoreResult<()> {
        self.engine.migrator().run(&self.pool).await.map_err(|e| StoreError::Backend(format!("migration failed: {e}")))
    }

    /// How many migrations the database has applied (0 for a new database). Creates the
    /// bookkeeping table of migrations if it is missing.
    pub async fn applied_migrations(&self) -> StoreResult<usize> {
        use sqlx::migrate::Migrate;
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        conn.ensure_migrations_table("_sqlx_migrations").await.map_err(backend)?;
        Ok(conn.list_applied_migrations("_sqlx_migrations").await.map_err(backend)?.len())
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A backend failure, for logs.
pub(crate) fn backend(error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(error.to_string())
}

/// Maps a database error: unique violations are conflicts, foreign-key violations name what is
/// missing, anything else is a backend failure.
pub(crate) fn db_error(what: &str, missing: &str) -> impl Fn(sqlx::Error) -> StoreError {
    move |error| {
        if let sqlx::Error::Database(db) = &error {
            if db.is_unique_violation() {
                return StoreError::Conflict(format!("{what} already exists"));
            }
            if db.is_foreign_key_violation() {
                return StoreError::NotFound(missing.to_owned());
            }
        }
        backend(error)
    }
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(backend)
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Backend(format!("a stored row does not decode: {e}")))
}

/// The serde name of a unit enum variant (`"candidate"`), for columns.
pub(crate) fn name_of<T: Serialize>(value: &T) -> StoreResult<String> {
    match serde_json::to_value(value).map_err(backend)? {
        serde_json::Value::String(name) => Ok(name),
        other => Err(StoreError::Backend(format!("not a unit variant: {other}"))),
    }
}

/// The product column: `''` for the main product.
pub(crate) fn product_col(key: &ReleaseKey) -> String {
    key.product.as_ref().map_or_else(String::new, |p| p.as_str().to_owned())
}

/// The release's key as one text, for the event log.
pub(crate) fn release_text(key: &ReleaseKey) -> String {
    format!("{}/{}/{}", key.project, product_col(key), key.version)
}

pub(crate) fn get_str(row: &sqlx::any::AnyRow, column: &str) -> StoreResult<String> {
    row.try_get::<String, _>(column).map_err(backend)
}

pub(crate) fn get_i64(row: &sqlx::any::AnyRow, column: &str) -> StoreResult<i64> {
    row.try_get::<i64, _>(column).map_err(backend)
}

pub(crate) fn get_opt_i64(row: &sqlx::any::AnyRow, column: &str) -> StoreResult<Option<i64>> {
    row.try_get::<Option<i64>, _>(column).map_err(backend)
}

/// The row id of a release, or `NotFound`.
pub(crate) async fn release_id(conn: &mut AnyConnection, key: &ReleaseKey) -> StoreResult<i64> {
    let row = sqlx::query("SELECT id FROM releases WHERE project = $1 AND product = $2 AND version = $3")
        .bind(key.project.as_str())
        .bind(product_col(key))
        .bind(key.version.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    match row {
        Some(row) => get_i64(&row, "id"),
        None => Err(StoreError::NotFound(format!("release {key}"))),
    }
}

/// The JSON document of the one row `sql` selects (as `data`) for `key`, decoded.
pub(crate) async fn document_by_key<T: DeserializeOwned>(
    pool: &AnyPool,
    sql: &'static str,
    key: &str,
) -> StoreResult<Option<T>> {
    let row = sqlx::query(sql).bind(key).fetch_optional(pool).await.map_err(backend)?;
    row.map(|r| from_json(&get_str(&r, "data")?)).transpose()
}

/// The JSON documents of a keyset page: `sql` selects `data` with `key > $1 ... LIMIT $2`.
pub(crate) async fn documents_after<T: DeserializeOwned>(
    pool: &AnyPool,
    sql: &'static str,
    after: &str,
    limit: i64,
) -> StoreResult<Vec<T>> {
    let rows = sqlx::query(sql).bind(after).bind(limit).fetch_all(pool).await.map_err(backend)?;
    rows.iter().map(|r| from_json(&get_str(r, "data")?)).collect()
}

/// Limits as SQL integers.
pub(crate) fn limit_of<C>(page: &atr_core::ports::PageRequest<C>) -> i64 {
    i64::from(page.clamped_limit())
}
