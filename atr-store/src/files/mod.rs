//! Release files on disk: immutable revision folders.
//!
//! # Layout
//!
//! Everything lives under one root directory, on one local filesystem:
//!
//! ```text
//! <root>/revisions/<project>/<product or @main>/<version>/<NNNNN>/files/<release path>
//! <root>/revisions/<project>/<product or @main>/<version>/<NNNNN>/manifest.json
//! <root>/revisions/<project>/<product or @main>/<version>/<NNNNN>/owner
//! <root>/reconcile.lock                        locked while a process reconciles
//! <root>/tmp/process-<unique>/                 one per open DiskReleaseFiles, locked while open
//! <root>/tmp/process-<unique>/revision-<unique>/   a revision being built
//! ```
//!
//! `<NNNNN>` is the revision number on five digits or more (`00001`). `@main` stands for the
//! project's main product; no product key can contain `@`, so it never collides with one.
//! `manifest.json` is the JSON list of the revision's files (path, size, SHA-512, SHA3-256) sorted
//! by path, and lists exactly the files under `files/`. `owner` names the temporary folder of the
//! process that built the revision (see "Several processes" below). Files are read-only (`0o444`)
//! and folders are read-only (`0o555`) once a revision is visible: a revision is never written
//! again.
//!
//! A revision is built in `tmp/process-<unique>/revision-<unique>/`: files the change leaves
//! alone are hard links to the parent revision's files (no copy, no rehash: the parent's manifest
//! entries are reused), and new content is streamed to disk chunk by chunk while both digests are
//! computed in the same pass.
//!
//! # Crash safety
//!
//! - Every written file is fsynced, then `manifest.json` and `owner`, then every folder of the
//!   revision.
//! - The revision appears by **one** `rename` of that complete, fsynced folder to `<NNNNN>`, and
//!   the folders above are fsynced after it. Renaming onto an existing revision fails (a revision
//!   folder is never empty, it holds `manifest.json`), which is how two writers of the same number
//!   are told apart: one wins, the other gets [`StoreError::Conflict`].
//! - Before the rename only the writer's temporary folder holds anything of the new revision;
//!   [`DiskReleaseFiles::clean_temporary`] removes such leftovers once the writer has ended. After
//!   the rename the folder is complete.
//! - The database row of a revision is written after the rename. A revision folder without a row
//!   is therefore either being recorded right now or interrupted for good; the reconciliation
//!   tells the two apart with [`DiskReleaseFiles::writer_state`] and removes only the second kind
//!   with [`ReleaseFiles::discard_revision`].
//!
//! On any error (a refused change, a failing stream, a lost race) the temporary folder is removed
//! before the error is returned; nothing partial is ever visible at a revision's path.
//!
//! # Several processes
//!
//! `atr serve` and any number of `atr worker`s share one data directory, and each reconciles at
//! start. So that no process ever removes another's work, every [`DiskReleaseFiles`] owns a
//! temporary folder of its own, `tmp/process-<unique>/`, created when it is opened and locked
//! (an exclusive `flock` on the folder, held through an open handle) until it is dropped. The
//! operating system releases the lock when the process ends, SIGKILL included, and a name is
//! never used twice, so a free lock means for certain that nobody can still write there:
//!
//! - [`DiskReleaseFiles::clean_temporary`] removes the temporary folders whose lock is free, and
//!   never waits for or touches one whose lock is held.
//! - A revision records in `owner` which temporary folder built it. A revision folder without a
//!   row is removed only if that folder's lock is free: its writer has ended, so it will never
//!   record the revision. (A folder without `owner`, written before revisions carried one, is
//!   removed only once it is an hour old.)
//! - Reconciliations run one at a time ([`DiskReleaseFiles::lock_reconciliation`], a lock on
//!   `<root>/reconcile.lock`), so that two of them cannot both act on one revision path.
//!
//! The lock needs a local filesystem with working `flock` (not every network filesystem has one).

mod build;
mod disk;
mod workspace;

use std::collections::HashMap;
use std::io::SeekFrom;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use atr_core::model::{FileEntry, ReleaseKey, RevisionNumber};
use atr_core::ports::{ByteStream, FileChange, FileStat, ReleaseFiles, StoreError, StoreResult};
use atr_core::types::{ProductKey, ProjectKey, ReleasePath, Timestamp, Version};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use self::build::Staging;
use self::workspace::Workspace;
pub use self::workspace::{ReconciliationLock, WriterState};

/// Largest `manifest.json` read, in bytes.
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

/// Name of the product folder of a project's main product.
const MAIN_PRODUCT: &str = "@main";
/// Name of the folder of a revision's files.
const FILES_DIR: &str = "files";
/// Name of a revision's manifest.
const MANIFEST_FILE: &str = "manifest.json";
/// Name of a revision's owner mark: the name of the temporary folder it was built in.
const OWNER_FILE: &str = "owner";
/// Size of the chunks [`ReleaseFiles::open`] streams.
const READ_CHUNK: usize = 64 * 1024;

/// Release files as immutable revision folders under a root directory (see the
/// [module documentation](self) for the layout and why it is crash-safe).
#[derive(Debug, Clone)]
pub struct DiskReleaseFiles {
    root: PathBuf,
    revisions: PathBuf,
    /// The folder holding every process's temporary folder.
    tmp: PathBuf,
    /// This one's temporary folder, locked while any clone of it lives.
    workspace: Arc<Workspace>,
    max_file_size: u64,
    /// Manifests read recently. A visible revision never changes, so an entry stays true until
    /// the revision is discarded (which removes it).
    manifests: Arc<Mutex<ManifestCache>>,
}

/// Manifests by release and revision.
type ManifestCache = HashMap<(ReleaseKey, RevisionNumber), Arc<Vec<FileEntry>>>;

/// Most manifests kept in memory; the cache starts over when it is full.
const MANIFEST_CACHE_ENTRIES: usize = 512;

impl DiskReleaseFiles {
    /// Release files under `root`, refusing files larger than `max_file_size` bytes. Creates
    /// `root/revisions` and `root/tmp` if missing (both must stay on the filesystem of `root`),
    /// and this value's own locked temporary folder under `root/tmp`, removed when the last
    /// clone is dropped.
    pub fn new(root: impl Into<PathBuf>, max_file_size: u64) -> std::io::Result<Self> {
        let root = root.into();
        let revisions = root.join("revisions");
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&revisions)?;
        std::fs::create_dir_all(&tmp)?;
        let workspace = Arc::new(Workspace::create(&tmp)?);
        Ok(Self { root, revisions, tmp, workspace, max_file_size, manifests: Arc::default() })
    }

    /// Writes a small file into this process's own temporary folder, reads it back and removes
    /// it: whether release storage takes writes now (a full or read-only filesystem does not).
    pub async fn probe_writable(&self) -> std::io::Result<()> {
        let path = disk::unique_name(self.workspace.path(), "probe");
        let written = async {
            tokio::fs::write(&path, b"atr readiness probe\n").await?;
            let back = tokio::fs::read(&path).await?;
            if back != b"atr readiness probe\n" {
                return Err(std::io::Error::other("the probe file read back differently"));
            }
            Ok(())
        }
        .await;
        let removed = tokio::fs::remove_file(&path).await;
        written?;
        removed
    }

    /// The largest file accepted, in bytes.
    pub fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    /// The folder of a revision (which may not exist).
    pub fn revision_path(&self, release: &ReleaseKey, number: RevisionNumber) -> PathBuf {
        self.release_path(release).join(number.to_string())
    }

    /// The folder holding a revision's files (`<release path>` under it is the file), for reading:
    /// what the checks are handed. Nothing may write there.
    pub fn files_folder(&self, release: &ReleaseKey, number: RevisionNumber) -> PathBuf {
        disk::files_dir(&self.revision_path(release, number))
    }

    /// The folder holding the revisions of a release.
    fn release_path(&self, release: &ReleaseKey) -> PathBuf {
        let product = release.product.as_ref().map_or(MAIN_PRODUCT, ProductKey::as_str);
        self.revisions.join(release.project.as_str()).join(product).join(release.version.as_str())
    }

    /// The manifest of a revision, as stored in its `manifest.json`. `NotFound` if the revision
    /// does not exist, `Refused` if the manifest is larger than [`MAX_MANIFEST_BYTES`].
    pub async fn manifest(&self, release: &ReleaseKey, number: RevisionNumber) -> StoreResult<Vec<FileEntry>> {
        let key = (release.clone(), number);
        if let Some(hit) = self.cached_manifests().get(&key) {
            return Ok(hit.as_ref().clone());
        }
        let dir = self.revision_path(release, number);
        let what = format!("revision {number} of {release}");
        let manifest = disk::blocking(move || disk::read_manifest(&dir, &what)).await?;
        let mut cache = self.cached_manifests();
        if cache.len() >= MANIFEST_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, Arc::new(manifest.clone()));
        Ok(manifest)
    }

    fn cached_manifests(&self) -> std::sync::MutexGuard<'_, ManifestCache> {
        self.manifests.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Removes what ended processes left under `tmp/` (revisions interrupted before they became
    /// visible, discards not finished), leaving the temporary folders of running processes (this
    /// one's included) alone; safe at any time. Returns how many interrupted builds and discards
    /// were removed.
    pub async fn clean_temporary(&self) -> std::io::Result<usize> {
        let tmp = self.tmp.clone();
        tokio::task::spawn_blocking(move || workspace::clean(&tmp)).await.map_err(std::io::Error::other)?
    }

    /// Waits until no other process reconciles, and keeps it so until the lock is dropped. Hold
    /// it from [`DiskReleaseFiles::writer_state`] to [`ReleaseFiles::discard_revision`] of an
    /// unrecorded revision (see [`ReconciliationLock`] for why).
    pub async fn lock_reconciliation(&self) -> std::io::Result<ReconciliationLock> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || workspace::lock_reconciliation(&root))
            .await
            .map_err(std::io::Error::other)?
    }

    /// Whether the process that built a revision folder may still record it: `Running` while the
    /// temporary folder named in its `owner` mark is locked, `Ended` once that lock is free (for
    /// a folder without a mark, once it is an hour old). A revision folder without a row may be
    /// removed only when this says `Ended`, and only if, read after this answer, it still has no
    /// row.
    pub async fn writer_state(&self, release: &ReleaseKey, number: RevisionNumber) -> std::io::Result<WriterState> {
        let tmp = self.tmp.clone();
        let revision = self.revision_path(release, number);
        tokio::task::spawn_blocking(move || workspace::writer_state(&tmp, &revision))
            .await
            .map_err(std::io::Error::other)?
    }

    /// Every revision folder, sorted, for reconciliation with the database. Entries that do not
    /// fit the layout are skipped with a warning.
    pub async fn list_revisions(&self) -> std::io::Result<Vec<(ReleaseKey, RevisionNumber)>> {
        let revisions = self.revisions.clone();
        tokio::task::spawn_blocking(move || scan_revisions(&revisions)).await.map_err(std::io::Error::other)?
    }
}

#[async_trait]
impl ReleaseFiles for DiskReleaseFiles {
    async fn create_revision(
        &self,
        release: &ReleaseKey,
        parent: Option<RevisionNumber>,
        number: RevisionNumber,
        changes: Vec<FileChange>,
    ) -> StoreResult<Vec<FileEntry>> {
        let target = self.revision_path(release, number);
        let conflict = || StoreError::Conflict(format!("revision {number} of {release} already exists"));
        if disk::exists(&target).await? {
            return Err(conflict());
        }
        let base = match parent {
            Some(parent) => {
                let entries = self.manifest(release, parent).await?;
                Some((disk::files_dir(&self.revision_path(release, parent)), entries))
            }
            None => None,
        };
        let mut staging = Staging::create(self.workspace.clone(), self.max_file_size).await?;
        let built = async {
            if let Some((dir, entries)) = base {
                staging.link_parent(dir, entries).await?;
            }
            for change in changes {
                staging.apply(change).await?;
            }
            staging.publish(target, conflict()).await
        }
        .await;
        match built {
            Ok(entries) => {
                tracing::debug!(%release, %number, files = entries.len(), "revision created");
                Ok(entries)
            }
            Err(error) => {
                staging.remove().await;
                Err(error)
            }
        }
    }

    async fn discard_revision(&self, release: &ReleaseKey, number: RevisionNumber) -> StoreResult<()> {
        self.cached_manifests().remove(&(release.clone(), number));
        let dir = self.revision_path(release, number);
        let workspace = self.workspace.clone();
        disk::blocking(move || disk::discard(&dir, workspace.path())).await
    }

    async fn delete_release(&self, release: &ReleaseKey) -> StoreResult<()> {
        self.cached_manifests().retain(|(cached, _), _| cached != release);
        let dir = self.release_path(release);
        let workspace = self.workspace.clone();
        // One rename takes every revision folder out of sight at once, as for a discard.
        disk::blocking(move || disk::discard(&dir, workspace.path())).await
    }

    async fn open(&self, release: &ReleaseKey, number: RevisionNumber, path: &ReleasePath) -> StoreResult<ByteStream> {
        let file_path = disk::join(&disk::files_dir(&self.revision_path(release, number)), path);
        let not_found = || StoreError::NotFound(format!("{path} in revision {number} of {release}"));
        let file = match tokio::fs::File::open(&file_path).await {
            Ok(file) => file,
            Err(e) if disk::is_missing(&e) => return Err(not_found()),
            Err(e) => return Err(disk::backend(format_args!("opening {path} in revision {number} of {release}"), &e)),
        };
        let metadata = file
            .metadata()
            .await
            .map_err(|e| disk::backend(format_args!("reading {path} in revision {number} of {release}"), &e))?;
        if !metadata.is_file() {
            return Err(not_found());
        }
        Ok(Box::pin(ReaderStream::with_capacity(file, READ_CHUNK)))
    }

    async fn manifest(&self, release: &ReleaseKey, number: RevisionNumber) -> StoreResult<Vec<FileEntry>> {
        DiskReleaseFiles::manifest(self, release, number).await
    }

    async fn stat(&self, release: &ReleaseKey, number: RevisionNumber, path: &ReleasePath) -> StoreResult<FileStat> {
        let file_path = disk::join(&disk::files_dir(&self.revision_path(release, number)), path);
        let metadata = match tokio::fs::metadata(&file_path).await {
            Ok(metadata) if metadata.is_file() => metadata,
            Ok(_) => return Err(StoreError::NotFound(format!("{path} in revision {number} of {release}"))),
            Err(e) if disk::is_missing(&e) => {
                return Err(StoreError::NotFound(format!("{path} in revision {number} of {release}")));
            }
            Err(e) => return Err(disk::backend(format_args!("reading {path} in revision {number} of {release}"), &e)),
        };
        let modified = metadata
            .modified()
            .ok()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Ok(FileStat { size: metadata.len(), modified: Timestamp::from_unix(modified) })
    }

    async fn open_range(
        &self,
        release: &ReleaseKey,
        number: RevisionNumber,
        path: &ReleasePath,
        range: Range<u64>,
    ) -> StoreResult<ByteStream> {
        let file_path = disk::join(&disk::files_dir(&self.revision_path(release, number)), path);
        let failed =
            |e: &std::io::Error| disk::backend(format_args!("reading {path} in revision {number} of {release}"), e);
        let mut file = match tokio::fs::File::open(&file_path).await {
            Ok(file) => file,
            Err(e) if disk::is_missing(&e) => {
                return Err(StoreError::NotFound(format!("{path} in revision {number} of {release}")));
            }
            Err(e) => return Err(failed(&e)),
        };
        if !file.metadata().await.map_err(|e| failed(&e))?.is_file() {
            return Err(StoreError::NotFound(format!("{path} in revision {number} of {release}")));
        }
        if range.start > 0 {
            file.seek(SeekFrom::Start(range.start)).await.map_err(|e| failed(&e))?;
        }
        let len = range.end.saturating_sub(range.start);
        Ok(Box::pin(ReaderStream::with_capacity(file.take(len), READ_CHUNK)))
    }
}

/// Walks `revisions/<project>/<product>/<version>/<NNNNN>`.
fn scan_revisions(revisions: &Path) -> std::io::Result<Vec<(ReleaseKey, RevisionNumber)>> {
    let mut found = Vec::new();
    for (project_name, project_dir) in disk::subdirs(revisions)? {
        let Ok(project) = ProjectKey::parse(&project_name) else {
            tracing::warn!(path = %project_dir.display(), "skipping a folder that is not a project key");
            continue;
        };
        for (product_name, product_dir) in disk::subdirs(&project_dir)? {
            let product = if product_name == MAIN_PRODUCT {
                None
            } else if let Ok(product) = ProductKey::parse(&product_name) {
                Some(product)
            } else {
                tracing::warn!(path = %product_dir.display(), "skipping a folder that is not a product key");
                continue;
            };
            for (version_name, version_dir) in disk::subdirs(&product_dir)? {
                let Ok(version) = Version::parse(&version_name) else {
                    tracing::warn!(path = %version_dir.display(), "skipping a folder that is not a version");
                    continue;
                };
                let release = ReleaseKey::new(project.clone(), product.clone(), version);
                for (number_name, number_dir) in disk::subdirs(&version_dir)? {
                    let Some(number) = parse_revision_number(&number_name) else {
                        tracing::warn!(path = %number_dir.display(), "skipping a folder that is not a revision number");
                        continue;
                    };
                    found.push((release.clone(), number));
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

/// A revision folder's name back to its number; only the canonical form (`00001`) is accepted.
fn parse_revision_number(name: &str) -> Option<RevisionNumber> {
    if !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = RevisionNumber::new(name.parse().ok()?)?;
    (number.to_string() == name).then_some(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_numbers_parse_only_canonically() {
        assert_eq!(parse_revision_number("00001"), RevisionNumber::new(1));
        assert_eq!(parse_revision_number("123456"), RevisionNumber::new(123_456));
        for bad in ["1", "00000", "+0001", "0001a", "", "000001", "99999999999"] {
            assert_eq!(parse_revision_number(bad), None, "{bad}");
        }
    }
}
