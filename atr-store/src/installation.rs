//! The installation's id, kept both in the database (table `installation`, one row) and in a
//! marker file in the data directory, so that a process opened on the data directory of another
//! installation (or with the database of another) refuses to start before it touches anything.
//!
//! The two writes of a first start cannot be one transaction, so they are ordered to survive a
//! crash between any two steps:
//!
//! 1. the id is written to `installation-id.pending` in the data directory (created whole, by a
//!    hard link of a complete file, so a second process starting at the same time reads the same
//!    id or wins with its own);
//! 2. the database row is inserted if there is none, and read back;
//! 3. the pending file is renamed to `installation-id`.
//!
//! On a later open the marker and the row must name the same id. A pending file with no marker
//! means step 3 did not happen: it is finished when the database holds the pending id (or none).
//! A data directory without a marker and a database without a row (an installation from before
//! the marker existed) is adopted: both are written.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use atr_core::ports::{StoreError, StoreResult};

use crate::sql::{SqlStore, backend};

/// The marker file's name in the data directory.
pub const MARKER_FILE: &str = "installation-id";
/// The marker being written at a first start.
const PENDING_FILE: &str = "installation-id.pending";
/// Longest marker read, in bytes.
const MAX_MARKER_BYTES: u64 = 256;

/// Checks that the data directory and the database belong to one installation, writing the id
/// into both at a first start (or an upgrade from before the marker). Returns the id.
pub(crate) async fn ensure(data_dir: &Path, sql: &SqlStore) -> StoreResult<String> {
    let marker_path = data_dir.join(MARKER_FILE);
    let marker = read_marker(&marker_path)?;
    let in_database = sql.installation_id().await?;
    match (marker, in_database) {
        (Some(marker), Some(database)) if marker == database => Ok(marker),
        (Some(marker), Some(database)) => Err(mismatch(data_dir, &marker, &database)),
        (Some(marker), None) => Err(StoreError::Refused(format!(
            "the data directory {} belongs to installation {marker}, but the database has no installation id \
             (a new or another database): start with the --database-url that was used with this data directory",
            data_dir.display()
        ))),
        (None, database) => {
            let pending_path = data_dir.join(PENDING_FILE);
            let pending = match read_marker(&pending_path)? {
                Some(pending) => pending,
                None => match database {
                    // A marker that was never written, in a data directory that may be of any
                    // installation: only an unmarked database may adopt it.
                    Some(database) => {
                        return Err(StoreError::Refused(format!(
                            "the data directory {} has no installation marker, but the database belongs to \
                             installation {database}: start with the --data-dir that was used with this database \
                             (if this is that directory, write {database} into {} there)",
                            data_dir.display(),
                            MARKER_FILE
                        )));
                    }
                    None => create_pending(data_dir, &pending_path)?,
                },
            };
            let recorded = sql.record_installation(&pending).await?;
            if recorded != pending {
                return Err(mismatch(data_dir, &pending, &recorded));
            }
            std::fs::rename(&pending_path, &marker_path).map_err(|e| io("writing", &marker_path, &e))?;
            sync_dir(data_dir);
            tracing::info!(installation = %pending, data_dir = %data_dir.display(), "installation marker written");
            Ok(pending)
        }
    }
}

fn mismatch(data_dir: &Path, marker: &str, database: &str) -> StoreError {
    StoreError::Refused(format!(
        "the data directory {} belongs to another database (installation {marker}, the database is {database}): \
         start with the --data-dir that was used with this database",
        data_dir.display()
    ))
}

fn io(what: &str, path: &Path, error: &std::io::Error) -> StoreError {
    StoreError::Backend(format!("{what} the installation marker {}: {error}", path.display()))
}

/// The id in a marker file, or `None` if there is no file.
fn read_marker(path: &Path) -> StoreResult<Option<String>> {
    use std::io::Read as _;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io("reading", path, &error)),
    };
    let mut text = String::new();
    file.take(MAX_MARKER_BYTES).read_to_string(&mut text).map_err(|e| io("reading", path, &e))?;
    let id = text.trim();
    if !valid_id(id) {
        return Err(StoreError::Refused(format!(
            "the installation marker {} does not hold an installation id (32 hexadecimal digits)",
            path.display()
        )));
    }
    Ok(Some(id.to_owned()))
}

fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Writes a new id to the pending marker, or reads the one another process wrote first.
fn create_pending(data_dir: &Path, pending: &Path) -> StoreResult<String> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).map_err(backend)?;
    let id = bytes.iter().fold(String::with_capacity(32), |mut id, b| {
        use std::fmt::Write as _;
        let _ = write!(id, "{b:02x}");
        id
    });
    let scratch: PathBuf = data_dir.join(format!("{PENDING_FILE}.{}.{id}", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create_new(&scratch)?;
        file.write_all(format!("{id}\n").as_bytes())?;
        file.sync_all()
    })();
    written.map_err(|e| io("writing", &scratch, &e))?;
    // A hard link fails if the name exists: the pending marker appears whole, once.
    let linked = std::fs::hard_link(&scratch, pending);
    let _ = std::fs::remove_file(&scratch);
    match linked {
        Ok(()) => {
            sync_dir(data_dir);
            Ok(id)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            read_marker(pending)?.ok_or_else(|| io("reading", pending, &error))
        }
        Err(error) => Err(io("writing", pending, &error)),
    }
}

/// Makes a rename or link in `dir` durable (best effort: not every platform can open a folder).
fn sync_dir(dir: &Path) {
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::valid_id;

    #[test]
    fn an_id_is_32_hex_digits() {
        assert!(valid_id("0123456789abcdef0123456789abcdef"));
        assert!(!valid_id("0123456789abcdef0123456789abcde"));
        assert!(!valid_id("0123456789abcdef0123456789abcdeg"));
        assert!(!valid_id(""));
    }
}
