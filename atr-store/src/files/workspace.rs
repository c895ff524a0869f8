//! Each process's own temporary folder, `tmp/process-<unique>/`, locked while the process uses it.
//!
//! The lock is an exclusive `flock` on the folder itself, held through an open handle for as
//! long as the [`Workspace`] lives. The operating system drops it when the process ends, however
//! it ends (SIGKILL included), so "the lock is free" means "nobody can still be writing here".
//! Reconciliation ([`clean`], [`writer_state`]) only ever takes a folder's lock that is free; it
//! never waits for one, and it never touches a folder whose lock is held.

use std::fs::{self, File, TryLockError};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::disk;

/// Prefix of a workspace's name.
const PREFIX: &str = "process-";
/// Longest workspace name read from a revision's owner mark.
pub(super) const MAX_NAME: usize = 128;
/// A revision folder without an owner mark (written before marks existed) is removed by
/// reconciliation only once it is this old: its writer recorded it long ago or never will.
pub(super) const UNMARKED_GRACE: Duration = Duration::from_hours(1);

/// A process's temporary folder: revisions are built and discarded in it.
#[derive(Debug)]
pub(super) struct Workspace {
    path: PathBuf,
    name: String,
    /// The open folder, holding the lock.
    _lock: File,
}

impl Workspace {
    /// Creates and locks a fresh workspace under `tmp`.
    pub(super) fn create(tmp: &Path) -> io::Result<Self> {
        loop {
            let path = disk::unique_dir(tmp, PREFIX.trim_end_matches('-'))?;
            // Between `mkdir` and the lock, a reconciler may find the folder unlocked and remove
            // it: then try again under a new name. Once locked it is ours: reconcilers remove a
            // folder only while holding its lock.
            match lock_if_free(&path)? {
                Lock::Taken(lock) => {
                    let name = path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .ok_or_else(|| io::Error::other("a workspace name is not UTF-8"))?
                        .to_owned();
                    return Ok(Self { path, name, _lock: lock });
                }
                Lock::Held | Lock::Gone => {}
            }
        }
    }

    /// The folder.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The folder's name, which revisions built here record as their owner.
    pub(super) fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        // Still locked here (the handle is dropped after this), so no reconciler races it.
        if let Err(e) = disk::remove_tree(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove a temporary folder");
        }
    }
}

/// What trying a folder's lock found.
enum Lock {
    /// Another handle holds it: its owner is alive.
    Held,
    /// It was free and is now held by this handle; the folder is still the one at the path.
    Taken(File),
    /// Nothing is there any more.
    Gone,
}

/// Takes the lock of the folder at `path` if nobody holds it, without waiting.
fn lock_if_free(path: &Path) -> io::Result<Lock> {
    let handle = match File::open(path) {
        Ok(handle) => handle,
        Err(e) if disk::is_missing(&e) => return Ok(Lock::Gone),
        Err(e) => return Err(e),
    };
    match handle.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(Lock::Held),
        Err(TryLockError::Error(e)) => return Err(e),
    }
    // The folder may have been removed (by a reconciler holding the lock) between the open and
    // the lock: a lock on a removed folder says nothing about the path.
    let held = handle.metadata()?;
    match fs::symlink_metadata(path) {
        Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => Ok(Lock::Taken(handle)),
        Ok(_) => Ok(Lock::Gone),
        Err(e) if disk::is_missing(&e) => Ok(Lock::Gone),
        Err(e) => Err(e),
    }
}

/// Removes what processes that ended left under `tmp` (their workspaces, and entries of older
/// layouts), leaving every workspace whose lock is held alone. Returns how many interrupted
/// builds and discards were removed (an ended process's empty workspace does not count).
pub(super) fn clean(tmp: &Path) -> io::Result<usize> {
    let mut removed = 0;
    for entry in fs::read_dir(tmp)? {
        let entry = entry?;
        let path = entry.path();
        if !entry.file_type()?.is_dir() {
            tracing::info!(path = %path.display(), "removing a stray temporary file");
            disk::remove_tree(&path)?;
            removed += 1;
            continue;
        }
        let Lock::Taken(_lock) = lock_if_free(&path)? else { continue };
        let is_workspace = entry.file_name().to_str().is_some_and(|n| n.starts_with(PREFIX));
        let leftovers = if is_workspace { fs::read_dir(&path)?.count() } else { 1 };
        if leftovers > 0 {
            tracing::info!(path = %path.display(), leftovers, "removing what an ended process left being built");
        }
        disk::remove_tree(&path)?;
        removed += leftovers;
    }
    if removed > 0 {
        disk::sync_dir(tmp)?;
    }
    Ok(removed)
}

/// Whether the writer of a revision folder may still record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriterState {
    /// Its writer is running (or, for a folder without an owner mark, it is too recent to say):
    /// it may still record the revision, so the folder must be left alone.
    Running,
    /// Its writer has ended: it can never record the revision.
    Ended,
}

/// The state of the writer of the revision folder `revision`, whose owner mark names a workspace
/// under `tmp`.
pub(super) fn writer_state(tmp: &Path, revision: &Path) -> io::Result<WriterState> {
    let Some(owner) = disk::read_owner(revision)? else {
        let age = fs::symlink_metadata(revision)?.modified()?.elapsed().unwrap_or_default();
        return Ok(if age >= UNMARKED_GRACE { WriterState::Ended } else { WriterState::Running });
    };
    Ok(match lock_if_free(&tmp.join(owner))? {
        Lock::Held => WriterState::Running,
        Lock::Taken(_) | Lock::Gone => WriterState::Ended,
    })
}

/// Held while a process reconciles: one reconciliation at a time.
///
/// Between deciding that an unrecorded revision folder's writer has ended and removing the
/// folder, nothing else may put a new folder at that path; a writer cannot (the old folder is in
/// the way until it is removed), but a second reconciliation could remove it first and let a
/// writer make a new one, which the first would then remove. Holding this lock (an exclusive
/// `flock` on `<root>/reconcile.lock`) across the whole reconciliation rules that out.
#[derive(Debug)]
pub struct ReconciliationLock {
    _file: File,
}

/// Waits for the reconciliation lock under `root`.
pub(super) fn lock_reconciliation(root: &Path) -> io::Result<ReconciliationLock> {
    let file = File::options().create(true).truncate(false).write(true).open(root.join(RECONCILE_LOCK))?;
    file.lock()?;
    Ok(ReconciliationLock { _file: file })
}

/// Name of the file whose lock serializes reconciliations, beside `revisions/` and `tmp/`.
const RECONCILE_LOCK: &str = "reconcile.lock";

/// True if `name` can be a workspace's name: a plain file name.
pub(super) fn is_name(name: &str) -> bool {
    name.starts_with(PREFIX) && name.len() <= MAX_NAME && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
