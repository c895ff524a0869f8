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

impl Recovery {
    /// What the reconciliation did, one sentence for each kind of finding and release, such as
    /// "recovered 2 interrupted uploads of httpd 2.4.68 (removed their unfinished folders:
    /// revisions 00003, 00004)". Empty when there was nothing to do.
    pub fn sentences(&self) -> Vec<String> {
        let mut sentences = Vec::new();
        if self.temporary_removed > 0 {
            let n = self.temporary_removed;
            sentences.push(format!(
                "removed {n} unfinished {} left by processes that ended (nothing of them had been recorded)",
                plural(n, "revision build", "revision builds")
            ));
        }
        for (release, numbers) in by_release(&self.unrecorded_removed) {
            let n = numbers.len();
            sentences.push(format!(
                "recovered {n} interrupted {} of {release} (removed {} unfinished {}: {})",
                plural(n, "upload", "uploads"),
                plural(n, "its", "their"),
                plural(n, "folder", "folders"),
                revisions(&numbers)
            ));
        }
        for (release, numbers) in by_release(&self.unrecorded_in_flight) {
            let n = numbers.len();
            sentences.push(format!(
                "left {n} {} of {release} alone that a running process is still recording ({})",
                plural(n, "new revision", "new revisions"),
                revisions(&numbers)
            ));
        }
        for (release, numbers) in by_release(&self.missing_folders) {
            let n = numbers.len();
            sentences.push(format!(
                "{} of {release} {} recorded but {} files are missing from the data directory: restore them from a backup ({})",
                plural(n, "1 revision", &format!("{n} revisions")),
                plural(n, "is", "are"),
                plural(n, "its", "their"),
                revisions(&numbers)
            ));
        }
        sentences
    }
}

impl std::fmt::Display for Recovery {
    /// The [`Recovery::sentences`], one a line; "nothing to recover" when there are none.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sentences = self.sentences();
        if sentences.is_empty() {
            return f.write_str("nothing to recover");
        }
        f.write_str(&sentences.join("\n"))
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// The revisions of each release, in order.
fn by_release(items: &[(ReleaseKey, RevisionNumber)]) -> Vec<(ReleaseKey, Vec<RevisionNumber>)> {
    let mut grouped: std::collections::BTreeMap<String, (ReleaseKey, Vec<RevisionNumber>)> =
        std::collections::BTreeMap::new();
    for (release, number) in items {
        grouped.entry(release.to_string()).or_insert_with(|| (release.clone(), Vec::new())).1.push(*number);
    }
    grouped
        .into_values()
        .map(|(release, mut numbers)| {
            numbers.sort_unstable();
            (release, numbers)
        })
        .collect()
}

fn revisions(numbers: &[RevisionNumber]) -> String {
    let list = numbers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    format!("{} {list}", plural(numbers.len(), "revision", "revisions"))
}

/// Whether storage can serve, check by check ([`Storage::readiness`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// `database`, `migrations` and `storage`, in that order.
    pub checks: Vec<ReadinessCheck>,
}

impl Readiness {
    /// True when every check passed.
    pub fn ready(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// One readiness check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadinessCheck {
    /// `database`, `migrations` or `storage`.
    pub name: &'static str,
    pub ok: bool,
    /// What was found, for people.
    pub detail: String,
}

impl ReadinessCheck {
    fn passed(name: &'static str, detail: impl Into<String>) -> Self {
        Self { name, ok: true, detail: detail.into() }
    }

    fn failed(name: &'static str, detail: impl Into<String>) -> Self {
        Self { name, ok: false, detail: detail.into() }
    }
}

fn versions(versions: &[i64]) -> String {
    versions.iter().map(|v| format!("{v:04}")).collect::<Vec<_>>().join(", ")
}

/// `text` with the user and password of any URL in it replaced by `***` (a driver's message may
/// quote the URL it was given).
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail.find(|c: char| c.is_whitespace() || c == '/' || c == '"' || c == '\'').unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(userinfo) => {
                out.push_str("***");
                rest = &tail[userinfo..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// Metadata and release files.
#[derive(Debug, Clone)]
pub struct Storage {
    pub sql: SqlStore,
    pub files: Arc<DiskReleaseFiles>,
}

impl Storage {
    /// Opens (and migrates) the database, checks that the data directory belongs to it (the
    /// installation marker, see [`crate::installation`]; written at a first start), opens the
    /// release files, and reconciles the two.
    pub async fn open(config: &StorageConfig) -> StoreResult<(Self, Recovery)> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            StoreError::Backend(format!("cannot create the data directory {}: {e}", config.data_dir.display()))
        })?;
        let sql = SqlStore::open(&config.database_url()).await?;
        // Before anything is reconciled: a data directory of another installation is refused,
        // never "repaired" against the wrong database.
        crate::installation::ensure(&config.data_dir, &sql).await?;
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

    /// Whether this storage can serve now: the database answers, every migration of this build
    /// is applied, and release storage takes a write. Each check says why it failed, in words
    /// that carry no secret (no database URL).
    pub async fn readiness(&self) -> Readiness {
        let database = match self.sql.ping().await {
            Ok(()) => ReadinessCheck::passed("database", "the database answers"),
            Err(error) => ReadinessCheck::failed(
                "database",
                format!("the database does not answer: {}", redact(&error.to_string())),
            ),
        };
        let migrations = if database.ok {
            match self.sql.migration_state().await {
                Ok(state) if state.pending.is_empty() && state.unknown.is_empty() => {
                    ReadinessCheck::passed("migrations", format!("all {} migrations are applied", state.known))
                }
                Ok(state) if !state.pending.is_empty() => ReadinessCheck::failed(
                    "migrations",
                    format!(
                        "{} of {} migrations are not applied ({}): run atr migrate",
                        state.pending.len(),
                        state.known,
                        versions(&state.pending)
                    ),
                ),
                Ok(state) => ReadinessCheck::failed(
                    "migrations",
                    format!(
                        "the database has migrations this build does not know ({}): a newer version migrated it",
                        versions(&state.unknown)
                    ),
                ),
                Err(error) => ReadinessCheck::failed(
                    "migrations",
                    format!("the applied migrations cannot be read: {}", redact(&error.to_string())),
                ),
            }
        } else {
            ReadinessCheck::failed("migrations", "not checked: the database does not answer")
        };
        let storage = match self.files.probe_writable().await {
            Ok(()) => ReadinessCheck::passed("storage", "release storage takes writes"),
            Err(error) => ReadinessCheck::failed("storage", format!("release storage does not take writes: {error}")),
        };
        Readiness { checks: vec![database, migrations, storage] }
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

#[cfg(test)]
mod tests {
    use atr_core::model::{ReleaseKey, RevisionNumber};
    use atr_core::types::{ProductKey, ProjectKey, Version};

    use super::{Recovery, redact};

    fn release(project: &str, product: Option<&str>, version: &str) -> ReleaseKey {
        ReleaseKey {
            project: ProjectKey::parse(project).unwrap(),
            product: product.map(|p| ProductKey::parse(p).unwrap()),
            version: Version::parse(version).unwrap(),
        }
    }

    fn revision(n: u32) -> RevisionNumber {
        RevisionNumber::new(n).unwrap()
    }

    #[test]
    fn nothing_to_recover_is_said_so() {
        assert!(Recovery::default().sentences().is_empty());
        assert_eq!(Recovery::default().to_string(), "nothing to recover");
    }

    #[test]
    fn recovery_is_told_in_sentences_by_release() {
        let httpd = release("httpd", None, "2.4.68");
        let tools = release("commons", Some("tools"), "1.0");
        let recovery = Recovery {
            temporary_removed: 3,
            unrecorded_removed: vec![
                (httpd.clone(), revision(4)),
                (tools.clone(), revision(1)),
                (httpd.clone(), revision(3)),
            ],
            unrecorded_in_flight: vec![(httpd.clone(), revision(5))],
            missing_folders: vec![(tools.clone(), revision(2))],
        };
        assert_eq!(
            recovery.sentences(),
            [
                "removed 3 unfinished revision builds left by processes that ended (nothing of them had been recorded)",
                "recovered 1 interrupted upload of commons/tools 1.0 (removed its unfinished folder: revision 00001)",
                "recovered 2 interrupted uploads of httpd 2.4.68 (removed their unfinished folders: revisions 00003, 00004)",
                "left 1 new revision of httpd 2.4.68 alone that a running process is still recording (revision 00005)",
                "1 revision of commons/tools 1.0 is recorded but its files are missing from the data directory: \
                 restore them from a backup (revision 00002)",
            ]
        );
        assert_eq!(recovery.to_string().lines().count(), 5);
        assert!(!recovery.to_string().contains("ReleaseKey"), "no debug dump");
    }

    #[test]
    fn missing_folders_of_one_release_are_counted() {
        let httpd = release("httpd", None, "2.4.68");
        let recovery = Recovery {
            missing_folders: vec![(httpd.clone(), revision(2)), (httpd, revision(1))],
            ..Recovery::default()
        };
        assert_eq!(
            recovery.to_string(),
            "2 revisions of httpd 2.4.68 are recorded but their files are missing from the data directory: \
             restore them from a backup (revisions 00001, 00002)"
        );
    }

    #[test]
    fn passwords_of_urls_are_redacted() {
        assert_eq!(
            redact("cannot reach postgres://atr:s3cret@db.example:5432/atr (refused)"),
            "cannot reach postgres://***@db.example:5432/atr (refused)"
        );
        assert_eq!(redact("postgres://db/atr and sqlite:///x"), "postgres://db/atr and sqlite:///x");
        assert_eq!(redact("no url here"), "no url here");
    }
}
