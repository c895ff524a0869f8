//! Building a revision in a temporary folder, then publishing it by one rename.

use std::collections::BTreeMap;
use std::fs::{self, File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use atr_core::model::FileEntry;
use atr_core::ports::{ByteStream, FileChange, StoreError, StoreResult};
use atr_core::types::{ReleasePath, Sha3_256Digest, Sha512Digest};
use bytes::Bytes;
use sha2::{Digest, Sha512};
use sha3::Sha3_256;
use tokio::task::JoinHandle;

use super::disk::{self, blocking};
use super::workspace::Workspace;

/// Streamed content is written once this many bytes are waiting (and one such batch may be
/// written while the next is received), so a file's memory use stays near twice this.
const WRITE_BATCH: usize = 1024 * 1024;

/// A revision being built in this process's temporary folder: its folder, and the manifest so
/// far.
///
/// The folder is removed by [`Staging::remove`] after an error, or on drop if neither that nor a
/// successful [`Staging::publish`] happened (a cancelled build).
pub(super) struct Staging {
    /// The temporary folder; `None` once published or removed.
    dir: Option<PathBuf>,
    /// Its `files` folder.
    files: PathBuf,
    /// The temporary folder it is built in, kept (and locked) while the build lasts.
    workspace: Arc<Workspace>,
    /// The manifest so far: the files under `files`, by path.
    tree: BTreeMap<ReleasePath, FileEntry>,
    max_file_size: u64,
}

impl Staging {
    /// Creates a fresh folder in `workspace`.
    pub(super) async fn create(workspace: Arc<Workspace>, max_file_size: u64) -> StoreResult<Self> {
        let root = workspace.path().to_path_buf();
        let (dir, files) = blocking(move || {
            let dir = disk::unique_dir(&root, "revision")
                .map_err(|e| disk::backend(format_args!("creating a folder in {}", root.display()), &e))?;
            let files = disk::files_dir(&dir);
            if let Err(e) = fs::create_dir(&files) {
                let _ = disk::remove_tree(&dir);
                return Err(disk::backend(format_args!("creating {}", files.display()), &e));
            }
            Ok((dir, files))
        })
        .await?;
        Ok(Self { dir: Some(dir), files, workspace, tree: BTreeMap::new(), max_file_size })
    }

    /// Starts from the parent revision's files: hard links, with the parent's manifest entries.
    pub(super) async fn link_parent(&mut self, parent_files: PathBuf, entries: Vec<FileEntry>) -> StoreResult<()> {
        let files = self.files.clone();
        let entries = blocking(move || {
            for entry in &entries {
                let target = disk::join(&files, &entry.path);
                let linking = || format!("linking {} from the parent revision", entry.path);
                if let Some(folder) = target.parent() {
                    fs::create_dir_all(folder).map_err(|e| disk::backend(linking(), &e))?;
                }
                fs::hard_link(disk::join(&parent_files, &entry.path), &target)
                    .map_err(|e| disk::backend(linking(), &e))?;
            }
            Ok(entries)
        })
        .await?;
        self.tree = entries.into_iter().map(|entry| (entry.path.clone(), entry)).collect();
        Ok(())
    }

    /// Applies one change.
    pub(super) async fn apply(&mut self, change: FileChange) -> StoreResult<()> {
        match change {
            FileChange::Put { path, content } => self.put(path, content).await,
            FileChange::PutEach { mut files } => {
                // Each file's content is streamed in before the next one is asked for.
                while let Some(next) = std::future::poll_fn(|cx| files.as_mut().poll_next(cx)).await {
                    let (path, content) = next?;
                    self.put(path, content).await?;
                }
                Ok(())
            }
            FileChange::Delete { path } => self.delete(&path).await,
            FileChange::Move { from, to } => self.move_to(&from, &to).await,
        }
    }

    /// Writes the manifest, seals the folder and renames it to `target`. `conflict` is returned if
    /// a revision is already there. Returns the manifest, sorted by path.
    pub(super) async fn publish(&mut self, target: PathBuf, conflict: StoreError) -> StoreResult<Vec<FileEntry>> {
        let Some(dir) = self.dir.clone() else {
            return Err(StoreError::Backend("the revision was already published or removed".to_owned()));
        };
        let entries: Vec<FileEntry> = self.tree.values().cloned().collect();
        let files = self.files.clone();
        let workspace = self.workspace.clone();
        let entries = blocking(move || {
            finish(&dir, &files, &entries, &target, &workspace, conflict)?;
            Ok(entries)
        })
        .await?;
        self.dir = None;
        Ok(entries)
    }

    /// Removes the temporary folder after an error.
    pub(super) async fn remove(&mut self) {
        let Some(dir) = self.dir.take() else { return };
        let removal = tokio::task::spawn_blocking(move || remove_logged(&dir)).await;
        if let Err(e) = removal {
            tracing::warn!(error = %e, "removing a temporary revision folder failed");
        }
    }

    async fn put(&mut self, path: ReleasePath, content: ByteStream) -> StoreResult<()> {
        if self.is_folder(&path) {
            return Err(StoreError::Refused(format!("cannot put {path}: a folder of that name exists")));
        }
        if let Some(file) = self.file_ancestor(&path) {
            return Err(StoreError::Refused(format!("cannot put {path}: {file} is a file")));
        }
        let target = disk::join(&self.files, &path);
        let replace = self.tree.contains_key(&path);
        let (size, sha512, sha3_256) = stream_to_file(&path, target, replace, content, self.max_file_size).await?;
        self.tree.insert(path.clone(), FileEntry { path, size, sha512, sha3_256 });
        Ok(())
    }

    async fn delete(&mut self, path: &ReleasePath) -> StoreResult<()> {
        let removed = self.files_at(path);
        if removed.is_empty() {
            return Err(StoreError::Refused(format!("cannot delete {path}: no such file or folder")));
        }
        let is_file = self.tree.contains_key(path);
        for file in &removed {
            self.tree.remove(file);
        }
        let target = disk::join(&self.files, path);
        let emptied = self.emptied_folders(path);
        let doing = format!("deleting {path}");
        blocking(move || {
            let removal = if is_file { fs::remove_file(&target) } else { fs::remove_dir_all(&target) };
            removal.and_then(|()| emptied.iter().try_for_each(fs::remove_dir)).map_err(|e| disk::backend(doing, &e))
        })
        .await
    }

    async fn move_to(&mut self, from: &ReleasePath, to: &ReleasePath) -> StoreResult<()> {
        let moved = self.files_at(from);
        if moved.is_empty() {
            return Err(StoreError::Refused(format!("cannot move {from}: no such file or folder")));
        }
        if to.as_str().starts_with(&format!("{from}/")) {
            return Err(StoreError::Refused(format!("cannot move {from} into itself")));
        }
        if self.tree.contains_key(to) || self.is_folder(to) {
            return Err(StoreError::Refused(format!("cannot move {from} to {to}: {to} exists")));
        }
        if let Some(file) = self.file_ancestor(to) {
            return Err(StoreError::Refused(format!("cannot move {from} to {to}: {file} is a file")));
        }
        let mut renamed = Vec::with_capacity(moved.len());
        for old in moved {
            let new = match old.as_str().strip_prefix(from.as_str()) {
                Some(rest) if !rest.is_empty() => ReleasePath::parse(&format!("{to}{rest}"))
                    .map_err(|e| StoreError::Refused(format!("cannot move {from} to {to}: {e}")))?,
                _ => to.clone(),
            };
            renamed.push((old, new));
        }
        for (old, new) in renamed {
            if let Some(mut entry) = self.tree.remove(&old) {
                entry.path = new.clone();
                self.tree.insert(new, entry);
            }
        }
        let source = disk::join(&self.files, from);
        let target = disk::join(&self.files, to);
        let emptied = self.emptied_folders(from);
        let doing = format!("moving {from} to {to}");
        blocking(move || {
            target
                .parent()
                .map_or(Ok(()), fs::create_dir_all)
                .and_then(|()| fs::rename(&source, &target))
                .and_then(|()| emptied.iter().try_for_each(fs::remove_dir))
                .map_err(|e| disk::backend(doing, &e))
        })
        .await
    }

    /// True if files exist under `path/`.
    fn is_folder(&self, path: &ReleasePath) -> bool {
        let prefix = format!("{path}/");
        self.tree.keys().any(|file| file.as_str().starts_with(&prefix))
    }

    /// The closest folder above `path` that is a file, if any.
    fn file_ancestor(&self, path: &ReleasePath) -> Option<ReleasePath> {
        std::iter::successors(path.parent(), ReleasePath::parent).find(|folder| self.tree.contains_key(folder))
    }

    /// The file at `path`, or the files under the folder `path`.
    fn files_at(&self, path: &ReleasePath) -> Vec<ReleasePath> {
        if self.tree.contains_key(path) {
            return vec![path.clone()];
        }
        let prefix = format!("{path}/");
        self.tree.keys().filter(|file| file.as_str().starts_with(&prefix)).cloned().collect()
    }

    /// The folders above `path` that no file is left in, deepest first, so that the disk keeps
    /// matching the manifest (which lists files only).
    fn emptied_folders(&self, path: &ReleasePath) -> Vec<PathBuf> {
        std::iter::successors(path.parent(), ReleasePath::parent)
            .take_while(|folder| !self.is_folder(folder))
            .map(|folder| disk::join(&self.files, &folder))
            .collect()
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else { return };
        // A cancelled build: remove the folder in the background if a runtime is there (keeping
        // the temporary folder until then).
        let workspace = self.workspace.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(move || {
                remove_logged(&dir);
                drop(workspace);
            })),
            Err(_) => remove_logged(&dir),
        }
    }
}

fn remove_logged(dir: &Path) {
    if let Err(e) = disk::remove_tree(dir) {
        // Whatever is left is removed with the temporary folder, or after this process ends.
        tracing::warn!(path = %dir.display(), error = %e, "removing a temporary revision folder failed");
    }
}

/// Writes the manifest and the owner mark, seals the folder, and publishes it at `target` by one
/// rename.
fn finish(
    dir: &Path,
    files: &Path,
    entries: &[FileEntry],
    target: &Path,
    workspace: &Workspace,
    conflict: StoreError,
) -> StoreResult<()> {
    let tmp = workspace.path();
    disk::write_manifest(dir, entries).map_err(|e| disk::backend("writing the manifest", &e))?;
    disk::write_owner(dir, workspace.name()).map_err(|e| disk::backend("writing the owner mark", &e))?;
    disk::seal(files).map_err(|e| disk::backend("sealing the revision", &e))?;
    disk::sync_dir(dir).map_err(|e| disk::backend("syncing the revision", &e))?;
    let release_dir = target.parent().ok_or_else(|| StoreError::Backend("a revision path has no parent".to_owned()))?;
    fs::create_dir_all(release_dir)
        .map_err(|e| disk::backend(format_args!("creating {}", release_dir.display()), &e))?;
    // Make the release folder (and the project and product folders, maybe new) durable too.
    for folder in release_dir.ancestors().skip(1).take(3).chain([release_dir]) {
        disk::sync_dir(folder).map_err(|e| disk::backend(format_args!("syncing {}", folder.display()), &e))?;
    }
    // The one step that makes the revision visible. It fails if the target exists: a revision
    // folder is never empty.
    if let Err(e) = fs::rename(dir, target) {
        return Err(match fs::symlink_metadata(target) {
            Ok(_) => conflict,
            Err(_) => disk::backend(format_args!("publishing {}", target.display()), &e),
        });
    }
    let durable = fs::set_permissions(target, Permissions::from_mode(disk::DIR_MODE))
        .and_then(|()| disk::sync_dir(target))
        .and_then(|()| disk::sync_dir(release_dir))
        .and_then(|()| disk::sync_dir(tmp));
    if let Err(e) = durable {
        // Not durable: take it back, the caller records nothing.
        if let Err(undo) = disk::discard(target, tmp) {
            tracing::warn!(path = %target.display(), error = %undo, "could not take back an unsynced revision");
        }
        return Err(disk::backend(format_args!("syncing {}", target.display()), &e));
    }
    Ok(())
}

/// An open file being written, with the digests of what was written so far.
struct Sink {
    file: File,
    sha512: Sha512,
    sha3_256: Sha3_256,
}

impl Sink {
    fn write(mut self, batch: &[Bytes]) -> io::Result<Self> {
        for chunk in batch {
            self.file.write_all(chunk)?;
            self.sha512.update(chunk);
            self.sha3_256.update(chunk);
        }
        Ok(self)
    }
}

/// Streams `content` into a new file at `target` (replacing the file there if `replace`; never
/// written in place, as it may be a hard link shared with the parent), hashing in the same pass.
/// The file ends read-only and fsynced. Returns its size and digests.
async fn stream_to_file(
    path: &ReleasePath,
    target: PathBuf,
    replace: bool,
    mut content: ByteStream,
    max_file_size: u64,
) -> StoreResult<(u64, Sha512Digest, Sha3_256Digest)> {
    let writing = move || format!("writing {path}");
    let mut job: JoinHandle<StoreResult<Sink>> = {
        let doing = writing();
        tokio::task::spawn_blocking(move || open_new(&target, replace).map_err(|e| disk::backend(doing, &e)))
    };
    let mut batch: Vec<Bytes> = Vec::new();
    let mut batched = 0usize;
    let mut size = 0u64;
    let received: StoreResult<()> = loop {
        let chunk = match std::future::poll_fn(|cx| content.as_mut().poll_next(cx)).await {
            None => break Ok(()),
            Some(Err(e)) if e.kind() == std::io::ErrorKind::FileTooLarge => {
                break Err(StoreError::TooLarge(format!("{path}: {e}")));
            }
            Some(Err(e)) => break Err(StoreError::Refused(format!("reading the content of {path} failed: {e}"))),
            Some(Ok(chunk)) => chunk,
        };
        size = size.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        if size > max_file_size {
            break Err(StoreError::TooLarge(format!("{path} is larger than the limit of {max_file_size} bytes")));
        }
        if chunk.is_empty() {
            continue;
        }
        batched += chunk.len();
        batch.push(chunk);
        if batched >= WRITE_BATCH {
            // Wait for the previous batch, then write this one while the next is received.
            let sink = joined(job).await?;
            let full = std::mem::take(&mut batch);
            batched = 0;
            let doing = writing();
            job = tokio::task::spawn_blocking(move || sink.write(&full).map_err(|e| disk::backend(doing, &e)));
        }
    };
    drop(content);
    let sink = joined(job).await;
    received?;
    let sink = sink?;
    let doing = writing();
    disk::blocking(move || {
        let sink = sink.write(&batch).map_err(|e| disk::backend(&doing, &e))?;
        sink.file.set_permissions(Permissions::from_mode(disk::FILE_MODE)).map_err(|e| disk::backend(&doing, &e))?;
        sink.file.sync_all().map_err(|e| disk::backend(&doing, &e))?;
        let sha512 = Sha512Digest::from_bytes(sink.sha512.finalize().into());
        let sha3_256 = Sha3_256Digest::from_bytes(sink.sha3_256.finalize().into());
        Ok((size, sha512, sha3_256))
    })
    .await
}

/// Opens a new file at `target`, creating its folders, after unlinking the file there if
/// `replace`.
fn open_new(target: &Path, replace: bool) -> io::Result<Sink> {
    if replace {
        fs::remove_file(target)?;
    }
    if let Some(folder) = target.parent() {
        fs::create_dir_all(folder)?;
    }
    let file = File::options().write(true).create_new(true).mode(0o644).open(target)?;
    Ok(Sink { file, sha512: Sha512::new(), sha3_256: Sha3_256::new() })
}

async fn joined(job: JoinHandle<StoreResult<Sink>>) -> StoreResult<Sink> {
    job.await.map_err(|e| StoreError::Backend(format!("a release storage task failed: {e}")))?
}
