//! Storage adapters for the ports of `atr-core`: metadata on sqlx (SQLite by default,
//! PostgreSQL at scale) and immutable release-file revisions on disk.

pub mod files;
pub mod sql;
