//! Storage adapters for the ports of `atr-core`: metadata on sqlx (SQLite by default,
//! PostgreSQL at scale) and immutable release-file revisions on disk, opened together by
//! [`Storage`]; and credentials at rest (argon2id password hashes, SHA-256 of secrets).

pub mod credentials;
pub mod files;
pub mod sql;
mod storage;
#[doc(hidden)]
pub mod testing;

pub use storage::{DEFAULT_MAX_FILE_SIZE, Recovery, Storage, StorageConfig};
