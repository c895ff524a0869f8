#![doc = include_str!("../README.md")]

pub mod credentials;
pub mod files;
pub mod installation;
pub mod sql;
mod storage;
#[doc(hidden)]
pub mod testing;

pub use storage::{DEFAULT_MAX_FILE_SIZE, Readiness, ReadinessCheck, Recovery, Storage, StorageConfig};
