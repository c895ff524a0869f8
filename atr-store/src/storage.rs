//! The platform's storage as one value: the metadata store and the release files, opened
//! together and reconciled at start (safely beside other running processes).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use atr_core::model::{ReleaseKey, RevisionNumber};
use atr_core::ports::{ReleaseFiles, StoreError, StoreResult};
use atr_core::services::Ports;

use crate::files::{DiskReleaseFiles, WriterState};
use crate::sql::SqlStore;

/// Largest release file accepted by default: 4 GiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 4 * 1024 * 1024 * 1024;

/// Where storage lives.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// The data directory: release files under `files/`, and the SQLite database by default.
    pub data_dir: PathBuf,
    /// The metadata database; `None` is `sqlite://<data_dir>/atr.db`.
    pub database_url: Option<String>,
    /// Largest release file accepted, in bytes.
    pub max_file_size: u64,
}

impl StorageConfig {
    /// The default configuration under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self { data_dir: data_dir.into(), database_url: None, max_file_size: DEFAULT_MAX_FILE_SIZE }
    }

    /// The metadata database's URL.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("atr.db").display()))
    }
}

/// What the start-up reconciliation found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Leftovers of revisions that ended processes were building (or discarding), removed.
    pub temporary_removed: usize,
    /// Revision folders without a database row whose writer has ended (interrupted after the
    /// rename), removed.
    pub unrecorded_removed: Vec<(ReleaseKey, RevisionNumber)>,
    /// Revision folders without a database row whose writer is still running: it may record them
    /// any moment, so they were left alone.
    pub unrecorded_in_flight: Vec<(ReleaseKey, RevisionNumber)>,
    /// Recorded revisions whose folder is missing. A crash cannot cause this (the folder is
    /// complete before the row is written); it means files were removed behind the platform's
    /// back and must be restored from a backup.
    pub missing_folders: Vec<(ReleaseKey, RevisionNumber)>,
}

/// Metadata and release files.
#[derive(Debug, Clone)]
pub struct Storage {
    pub sql: SqlStore,
    pub files: Arc<DiskReleaseFiles>,
}

impl Storage {
    /// Opens (and migrates) the database, opens the release files, and reconciles the two.
    pub async fn open(config: &StorageConfig) -> StoreResult<(Self, Recovery)> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            StoreError::Backend(format!("cannot create the data directory {}: {e}", config.data_dir.display()))
        })?;
        let sql = SqlStore::open(&config.database_url()).await?;
        let files = DiskReleaseFiles::new(config.data_dir.join("files"), config.max_file_size)
            .map_err(|e| StoreError::Backend(format!("cannot open release files: {e}")))?;
        let storage = Self { sql, files: Arc::new(files) };
        let recovery = storage.reconcile().await?;
        Ok((storage, recovery))
    }

    /// Brings files and rows back in step after an interruption: removes what ended processes
    /// left being built and the revision folders they renamed but never recorded, and reports
    /// recorded revisions without files. It never touches the work of a process that is still
    /// running (another `atr serve` or `atr worker` on the same data directory, or this one), so
    /// it is safe to run at any time beside them.
    ///
    /// One reconciliation runs at a time (the others wait), and the order of its steps is what
    /// makes it safe: the rows read first tell which folders
    /// might be unrecorded; of those, only the ones whose writer has ended are candidates; and
    /// the rows are read again *after* that was established, so a writer that recorded its
    /// revision just before it ended is seen, and no writer is left that could record one later.
    pub async fn reconcile(&self) -> StoreResult<Recovery> {
        let io = |e: std::io::Error| StoreError::Backend(format!("reconciling release files: {e}"));
        let _one_at_a_time = self.files.lock_reconciliation().await.map_err(io)?;
        let temporary_removed = self.files.clean_temporary().await.map_err(io)?;
        let recorded: BTreeSet<(ReleaseKey, RevisionNumber)> =
            self.sql.recorded_revisions().await?.into_iter().collect();
        // Listed after the rows were read: every revision recorded by then is on disk already.
        let on_disk: BTreeSet<(ReleaseKey, RevisionNumber)> =
            self.files.list_revisions().await.map_err(io)?.into_iter().collect();
        let mut recovery = Recovery { temporary_removed, ..Recovery::default() };
        let mut ended = Vec::new();
        for (release, number) in on_disk.difference(&recorded) {
            match self.files.writer_state(release, *number).await.map_err(io)? {
                WriterState::Running => recovery.unrecorded_in_flight.push((release.clone(), *number)),
                WriterState::Ended => ended.push((release.clone(), *number)),
            }
        }
        if !ended.is_empty() {
            // Their writers have ended: a row that is not there now never will be.
            let recorded_now: BTreeSet<(ReleaseKey, RevisionNumber)> =
                self.sql.recorded_revisions().await?.into_iter().collect();
            for (release, number) in ended {
                if recorded_now.contains(&(release.clone(), number)) {
                    continue;
                }
                tracing::warn!(%release, revision = number.get(), "removing a revision folder that was never recorded");
                self.files.discard_revision(&release, number).await?;
                recovery.unrecorded_removed.push((release, number));
            }
        }
        for (release, number) in recorded.difference(&on_disk) {
            tracing::error!(%release, revision = number.get(), "a recorded revision has no files; restore them from a backup");
            recovery.missing_folders.push((release.clone(), *number));
        }
        Ok(recovery)
    }

    /// The ports of `atr_core::services` over this storage.
    pub fn ports(&self) -> Ports {
        let sql = Arc::new(self.sql.clone());
        Ports {
            persons: sql.clone(),
            committees: sql.clone(),
            projects: sql.clone(),
            releases: sql.clone(),
            revisions: sql.clone(),
            files: self.files.clone(),
            keys: sql.clone(),
            ballots: sql.clone(),
            cves: sql.clone(),
            distributions: sql.clone(),
            events: sql.clone(),
            tasks: sql.clone(),
            changes: sql.clone(),
            accounts: sql.clone(),
            credentials: Arc::new(crate::credentials::Argon2Credentials),
            queue: sql.clone(),
            audit: sql.clone(),
            search: sql,
        }
    }
}
