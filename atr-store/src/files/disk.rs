//! Blocking filesystem steps of release storage, run through [`blocking`].

use std::fmt::Display;
use std::fs::{self, File, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use atr_core::model::FileEntry;
use atr_core::ports::{StoreError, StoreResult};
use atr_core::types::ReleasePath;

use super::workspace::{self, MAX_NAME};
use super::{FILES_DIR, MANIFEST_FILE, MAX_MANIFEST_BYTES, OWNER_FILE};

/// Mode of a file of a visible revision.
pub(super) const FILE_MODE: u32 = 0o444;
/// Mode of a folder of a visible revision.
pub(super) const DIR_MODE: u32 = 0o555;
/// Mode a folder gets back so that it can be changed or removed.
const WRITABLE_DIR_MODE: u32 = 0o755;

/// Runs blocking filesystem work off the async threads.
pub(super) async fn blocking<T, F>(work: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> StoreResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Backend(format!("a release storage task failed: {e}")))?
}

/// A backend error: what was being done, and the IO error.
pub(super) fn backend(doing: impl Display, error: &io::Error) -> StoreError {
    StoreError::Backend(format!("{doing}: {error}"))
}

/// True if the error says the path does not exist (or goes through a file).
pub(super) fn is_missing(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

/// True if something exists at `path` (a symbolic link is not followed).
pub(super) async fn exists(path: &Path) -> StoreResult<bool> {
    match tokio::fs::symlink_metadata(path).await {
        Ok(_) => Ok(true),
        Err(e) if is_missing(&e) => Ok(false),
        Err(e) => Err(backend(format_args!("inspecting {}", path.display()), &e)),
    }
}

/// `base` joined with a release path, segment by segment. A [`ReleasePath`] has no empty, `.`,
/// `..` or dot segment, so the result stays under `base`.
pub(super) fn join(base: &Path, path: &ReleasePath) -> PathBuf {
    let mut joined = base.to_path_buf();
    joined.extend(path.segments());
    joined
}

/// A fresh name under `dir` that nothing uses yet; `kind` says what it is for.
pub(super) fn unique_name(dir: &Path, kind: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let candidate = dir.join(format!("{kind}-{}-{nanos}-{count}", std::process::id()));
        if fs::symlink_metadata(&candidate).is_err() {
            return candidate;
        }
    }
}

/// Creates a fresh folder under `dir`.
pub(super) fn unique_dir(dir: &Path, kind: &str) -> io::Result<PathBuf> {
    loop {
        let candidate = unique_name(dir, kind);
        match fs::create_dir(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
}

/// Makes the entries of a folder durable.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Reads `<revision>/manifest.json`, at most [`MAX_MANIFEST_BYTES`] of it.
pub(super) fn read_manifest(revision: &Path, what: &str) -> StoreResult<Vec<FileEntry>> {
    let path = revision.join(MANIFEST_FILE);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if is_missing(&e) => {
            return Err(match fs::symlink_metadata(revision) {
                Ok(_) => StoreError::Backend(format!("{what} has no manifest")),
                Err(_) => StoreError::NotFound(what.to_owned()),
            });
        }
        Err(e) => return Err(backend(format_args!("opening the manifest of {what}"), &e)),
    };
    let too_large = || StoreError::Refused(format!("the manifest of {what} is larger than {MAX_MANIFEST_BYTES} bytes"));
    let length = file.metadata().map_err(|e| backend(format_args!("reading the manifest of {what}"), &e))?.len();
    if length > MAX_MANIFEST_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| backend(format_args!("reading the manifest of {what}"), &e))?;
    if u64::try_from(bytes.len()).map_or(true, |n| n > MAX_MANIFEST_BYTES) {
        return Err(too_large());
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| StoreError::Backend(format!("the manifest of {what} is unreadable: {e}")))
}

/// Writes `<dir>/manifest.json`, read-only and fsynced.
pub(super) fn write_manifest(dir: &Path, entries: &[FileEntry]) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(entries).map_err(io::Error::other)?;
    let mut file = File::options().write(true).create_new(true).open(dir.join(MANIFEST_FILE))?;
    file.write_all(&json)?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
    file.sync_all()
}

/// Writes `<dir>/owner`, the name of the workspace the revision was built in, read-only and
/// fsynced.
pub(super) fn write_owner(dir: &Path, owner: &str) -> io::Result<()> {
    let mut file = File::options().write(true).create_new(true).open(dir.join(OWNER_FILE))?;
    file.write_all(owner.as_bytes())?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
    file.sync_all()
}

/// Reads `<revision>/owner`: `None` if the revision has no owner mark (it was written before
/// marks existed) or the mark is not a workspace name.
pub(super) fn read_owner(revision: &Path) -> io::Result<Option<String>> {
    let file = match File::open(revision.join(OWNER_FILE)) {
        Ok(file) => file,
        Err(e) if is_missing(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut name = String::new();
    if file.take(MAX_NAME as u64 + 1).read_to_string(&mut name).is_err() || !workspace::is_name(&name) {
        tracing::warn!(path = %revision.display(), "the owner mark of a revision folder is unreadable");
        return Ok(None);
    }
    Ok(Some(name))
}

/// Makes a built tree read-only and durable: files `0o444`, folders `0o555`, every folder
/// fsynced. Files already `0o444` are left alone: they may be hard links shared with a parent.
pub(super) fn seal(root: &Path) -> io::Result<()> {
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                if entry.metadata()?.permissions().mode() & 0o7777 != FILE_MODE {
                    let file = File::open(entry.path())?;
                    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
                    file.sync_all()?;
                }
            } else {
                return Err(io::Error::other(format!("unexpected entry {}", entry.path().display())));
            }
        }
        fs::set_permissions(&dir, Permissions::from_mode(DIR_MODE))?;
        sync_dir(&dir)?;
    }
    Ok(())
}

/// Removes a file or a whole folder, giving folders back the write permission their removal
/// needs. Files keep their mode: they may be hard links shared with other revisions.
pub(super) fn remove_tree(path: &Path) -> io::Result<()> {
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !metadata.is_dir() {
        return fs::remove_file(path);
    }
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        if fs::symlink_metadata(&dir)?.permissions().mode() & 0o700 != 0o700 {
            fs::set_permissions(&dir, Permissions::from_mode(WRITABLE_DIR_MODE))?;
        }
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                pending.push(entry.path());
            }
        }
    }
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Removes a visible revision folder at once: it is renamed into `tmp`, this process's workspace
/// (one atomic step, so a reader sees either the whole revision or none), then removed from
/// there. Missing is fine.
pub(super) fn discard(revision: &Path, tmp: &Path) -> StoreResult<()> {
    let what = revision.display();
    match fs::symlink_metadata(revision) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => return Err(StoreError::Backend(format!("{what} is not a folder"))),
        Err(e) if is_missing(&e) => return Ok(()),
        Err(e) => return Err(backend(format_args!("inspecting {what}"), &e)),
    }
    // Moving a folder to another parent updates its `..` entry, which needs write permission.
    match fs::set_permissions(revision, Permissions::from_mode(WRITABLE_DIR_MODE)) {
        Ok(()) => {}
        Err(e) if is_missing(&e) => return Ok(()),
        Err(e) => return Err(backend(format_args!("unlocking {what}"), &e)),
    }
    let grave = unique_name(tmp, "discarded");
    match fs::rename(revision, &grave) {
        Ok(()) => {}
        Err(e) if is_missing(&e) => return Ok(()),
        Err(e) => return Err(backend(format_args!("moving {what} away"), &e)),
    }
    if let Some(parent) = revision.parent() {
        sync_dir(parent).map_err(|e| backend(format_args!("syncing {}", parent.display()), &e))?;
    }
    if let Err(e) = remove_tree(&grave) {
        // The revision is gone already; what is left is removed with the temporary folder.
        tracing::warn!(path = %grave.display(), error = %e, "could not remove a discarded revision");
    }
    Ok(())
}

/// The sub-folders of `dir` with their names; other entries are skipped with a warning.
pub(super) fn subdirs(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if !entry.file_type()?.is_dir() {
            tracing::warn!(path = %path.display(), "skipping an entry that is not a folder");
            continue;
        }
        if let Ok(name) = entry.file_name().into_string() {
            found.push((name, path));
        } else {
            tracing::warn!(path = %path.display(), "skipping a folder whose name is not UTF-8");
        }
    }
    found.sort();
    Ok(found)
}

/// Where the files of a staged or visible revision folder are.
pub(super) fn files_dir(revision: &Path) -> PathBuf {
    revision.join(FILES_DIR)
}
