//! The installation marker: a data directory and a database that belong to different
//! installations are refused before anything is reconciled; a first start and an upgrade from
//! before the marker write both.

use std::path::Path;

use atr_core::ports::StoreError;
use atr_store::installation::MARKER_FILE;
use atr_store::{Storage, StorageConfig};

fn marker(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(MARKER_FILE)).ok().map(|t| t.trim().to_owned())
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("atr.db").display())
}

async fn open(config: &StorageConfig) -> Result<Storage, StoreError> {
    let (storage, _) = Storage::open(config).await?;
    Ok(storage)
}

fn refusal(result: Result<Storage, StoreError>) -> String {
    match result {
        Ok(_) => panic!("the storage opened"),
        Err(StoreError::Refused(message)) => message,
        Err(other) => panic!("not a refusal: {other}"),
    }
}

#[tokio::test]
async fn a_first_start_writes_one_id_into_both_and_later_opens_agree() {
    let dir = tempfile::tempdir().unwrap();
    let config = StorageConfig::new(dir.path());
    let storage = open(&config).await.unwrap();
    let id = storage.sql.installation_id().await.unwrap().expect("the database holds the id");
    assert_eq!(id.len(), 32);
    assert_eq!(marker(dir.path()).as_deref(), Some(id.as_str()));
    assert!(!dir.path().join("installation-id.pending").exists());
    storage.sql.close().await;

    let again = open(&config).await.unwrap();
    assert_eq!(again.sql.installation_id().await.unwrap().as_deref(), Some(id.as_str()));
    again.sql.close().await;
}

#[tokio::test]
async fn a_data_directory_of_another_database_is_refused_with_both_ids() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = open(&StorageConfig::new(one.path())).await.unwrap();
    let second = open(&StorageConfig::new(two.path())).await.unwrap();
    let (a, b) = (marker(one.path()).unwrap(), marker(two.path()).unwrap());
    assert_ne!(a, b);
    first.sql.close().await;
    second.sql.close().await;

    // The data directory of the first with the database of the second.
    let wrong = StorageConfig { database_url: Some(sqlite_url(two.path())), ..StorageConfig::new(one.path()) };
    let message = refusal(open(&wrong).await);
    assert_eq!(
        message,
        format!(
            "the data directory {} belongs to another database (installation {a}, the database is {b}): \
             start with the --data-dir that was used with this database",
            one.path().display()
        )
    );
    // Nothing was changed by the refusal.
    assert_eq!(marker(one.path()).unwrap(), a);
}

#[tokio::test]
async fn an_unmarked_data_directory_does_not_join_a_marked_database() {
    let (home, empty) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = open(&StorageConfig::new(home.path())).await.unwrap();
    first.sql.close().await;
    let id = marker(home.path()).unwrap();

    let wrong = StorageConfig { database_url: Some(sqlite_url(home.path())), ..StorageConfig::new(empty.path()) };
    let message = refusal(open(&wrong).await);
    assert!(message.contains("has no installation marker, but the database belongs to installation"), "{message}");
    assert!(message.contains(&id), "{message}");
    assert!(message.contains("start with the --data-dir that was used with this database"), "{message}");
    assert_eq!(marker(empty.path()), None, "no marker is written by a refusal");
}

#[tokio::test]
async fn a_marked_data_directory_does_not_adopt_a_new_database() {
    let (home, elsewhere) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = open(&StorageConfig::new(home.path())).await.unwrap();
    first.sql.close().await;

    let wrong = StorageConfig { database_url: Some(sqlite_url(elsewhere.path())), ..StorageConfig::new(home.path()) };
    let message = refusal(open(&wrong).await);
    assert!(message.contains("but the database has no installation id"), "{message}");
    assert!(message.contains("--database-url"), "{message}");
}

#[tokio::test]
async fn an_installation_from_before_the_marker_is_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let config = StorageConfig::new(dir.path());
    let storage = open(&config).await.unwrap();
    // As an installation from before the marker: no row, no file.
    let pool = sqlx::AnyPool::connect(&sqlite_url(dir.path())).await.unwrap();
    sqlx::query("DELETE FROM installation").execute(&pool).await.unwrap();
    pool.close().await;
    storage.sql.close().await;
    std::fs::remove_file(dir.path().join(MARKER_FILE)).unwrap();

    let adopted = open(&config).await.unwrap();
    let id = adopted.sql.installation_id().await.unwrap().expect("the id is written again");
    assert_eq!(marker(dir.path()).as_deref(), Some(id.as_str()));
    adopted.sql.close().await;
}

#[tokio::test]
async fn a_first_start_interrupted_between_its_writes_is_finished() {
    let dir = tempfile::tempdir().unwrap();
    let config = StorageConfig::new(dir.path());
    // Killed after the pending marker was written, before the database row.
    let pending = "0123456789abcdef0123456789abcdef";
    std::fs::write(dir.path().join("installation-id.pending"), format!("{pending}\n")).unwrap();
    let storage = open(&config).await.unwrap();
    assert_eq!(storage.sql.installation_id().await.unwrap().as_deref(), Some(pending));
    assert_eq!(marker(dir.path()).as_deref(), Some(pending));
    assert!(!dir.path().join("installation-id.pending").exists());
    storage.sql.close().await;
}

#[tokio::test]
async fn a_marker_that_is_not_an_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(MARKER_FILE), "not an id\n").unwrap();
    let message = refusal(open(&StorageConfig::new(dir.path())).await);
    assert!(message.contains("does not hold an installation id"), "{message}");
}
