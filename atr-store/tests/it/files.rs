//! Release files on disk.
