//! `Storage::readiness`: each check passes on a working storage and names its failure.

use atr_store::{Storage, StorageConfig};

fn check<'a>(readiness: &'a atr_store::Readiness, name: &str) -> &'a atr_store::ReadinessCheck {
    readiness.checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no {name} check: {readiness:?}"))
}

#[tokio::test]
async fn a_working_storage_is_ready_on_every_engine() {
    for db in atr_store::testing::databases().await {
        let dir = tempfile::tempdir().unwrap();
        let config = StorageConfig { database_url: Some(db.url.clone()), ..StorageConfig::new(dir.path()) };
        let (storage, _) = Storage::open(&config).await.unwrap();
        let readiness = storage.readiness().await;
        assert!(readiness.ready(), "{readiness:?}");
        let names: Vec<&str> = readiness.checks.iter().map(|c| c.name).collect();
        assert_eq!(names, ["database", "migrations", "storage"]);
        assert!(check(&readiness, "migrations").detail.starts_with("all "), "{readiness:?}");
        // The probe leaves nothing behind.
        let leftovers = walk(&dir.path().join("files/tmp"));
        assert!(leftovers.iter().all(|p| !p.contains("probe")), "{leftovers:?}");
        storage.sql.close().await;
        db.finish().await;
    }
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        found.push(entry.path().display().to_string());
        if entry.file_type().unwrap().is_dir() {
            found.extend(walk(&entry.path()));
        }
    }
    found
}

#[tokio::test]
async fn a_pending_migration_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (storage, _) = Storage::open(&StorageConfig::new(dir.path())).await.unwrap();
    let url = format!("sqlite://{}", dir.path().join("atr.db").display());
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 6").execute(&pool).await.unwrap();
    pool.close().await;
    let readiness = storage.readiness().await;
    assert!(!readiness.ready());
    let migrations = check(&readiness, "migrations");
    assert!(!migrations.ok);
    assert!(migrations.detail.contains("migrations are not applied (0006): run atr migrate"), "{migrations:?}");
    assert!(check(&readiness, "database").ok);
    assert!(check(&readiness, "storage").ok);
    storage.sql.close().await;
}

#[tokio::test]
async fn release_storage_that_vanished_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let (storage, _) = Storage::open(&StorageConfig::new(dir.path())).await.unwrap();
    // The volume of release files went away under the running service.
    std::fs::remove_dir_all(dir.path().join("files")).unwrap();
    let readiness = storage.readiness().await;
    assert!(!readiness.ready());
    let files = check(&readiness, "storage");
    assert!(!files.ok);
    assert!(files.detail.starts_with("release storage does not take writes: "), "{files:?}");
    assert!(check(&readiness, "database").ok);
    storage.sql.close().await;
}

#[tokio::test]
async fn a_closed_database_is_not_ready_and_migrations_are_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (storage, _) = Storage::open(&StorageConfig::new(dir.path())).await.unwrap();
    storage.sql.close().await;
    let readiness = storage.readiness().await;
    assert!(!readiness.ready());
    let database = check(&readiness, "database");
    assert!(!database.ok);
    assert!(database.detail.starts_with("the database does not answer: "), "{database:?}");
    assert_eq!(check(&readiness, "migrations").detail, "not checked: the database does not answer");
    assert!(check(&readiness, "storage").ok);
}

#[tokio::test]
async fn pool_stats_are_plain_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (storage, _) = Storage::open(&StorageConfig::new(dir.path())).await.unwrap();
    let stats = storage.sql.pool_stats();
    assert_eq!(stats.max, 8, "SQLite's pool");
    assert!(stats.size >= 1 && stats.idle <= stats.size, "{stats:?}");
    storage.sql.close().await;
}
