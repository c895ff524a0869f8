//! Test support for crates that test against real databases: a fresh SQLite database always,
//! and a fresh PostgreSQL database when `ATR_TEST_DATABASE_URL` names a server where the user
//! may create databases. Not for production use.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::sql::{Engine, SqlStore};

/// A migrated store on a fresh database, and how to throw it away.
#[derive(Debug)]
pub struct TestDatabase {
    pub store: SqlStore,
    /// The database's URL, for a second connection or a second process.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// Closes the store and drops the PostgreSQL database (the SQLite file goes with its folder).
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.postgres {
            let connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await;
            if let Ok(mut admin) = connection {
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await;
            }
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh SQLite database in a temporary folder.
pub async fn sqlite() -> TestDatabase {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("atr.db").display());
    let store = SqlStore::open(&url).await.expect("a new SQLite database");
    TestDatabase { store, url, _dir: Some(dir), postgres: None }
}

/// Fresh databases on every configured engine. Panics with a clear message when
/// `ATR_TEST_DATABASE_URL` is set but the server cannot be used.
pub async fn databases() -> Vec<TestDatabase> {
    let mut dbs = vec![sqlite().await];
    dbs.extend(postgres().await);
    dbs
}

/// Drops the PostgreSQL database at `url` now, closing its connections by force: the database
/// goes away under whoever uses it. Panics when `ATR_TEST_DATABASE_URL` is unset or the server
/// refuses.
pub async fn drop_postgres_now(url: &str) {
    let admin_url = std::env::var("ATR_TEST_DATABASE_URL").expect("ATR_TEST_DATABASE_URL names the server");
    let (_, name) = url.rsplit_once('/').expect("a database URL ends with /<database>");
    assert!(name.starts_with("atr_test_"), "only test databases are dropped: {name}");
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await.expect("the server answers");
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
        .execute(&mut admin)
        .await
        .expect("the test database is dropped");
}

/// A fresh PostgreSQL database when `ATR_TEST_DATABASE_URL` is set, else `None`. Panics with a
/// clear message when it is set but the server cannot be used.
pub async fn postgres() -> Option<TestDatabase> {
    sqlx::any::install_default_drivers();
    let mut dbs = Vec::new();
    if let Ok(admin_url) = std::env::var("ATR_TEST_DATABASE_URL") {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let name = format!("atr_test_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
            .await
            .expect("ATR_TEST_DATABASE_URL is set but the server does not answer");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("the ATR_TEST_DATABASE_URL user may create databases");
        let (base, _) = admin_url.rsplit_once('/').expect("a database URL ends with /<database>");
        let url = format!("{base}/{name}");
        let store = SqlStore::open(&url).await.expect("a new PostgreSQL database");
        assert_eq!(store.engine(), Engine::Postgres);
        dbs.push(TestDatabase { store, url, _dir: None, postgres: Some((admin_url, name)) });
    }
    dbs.pop()
}
