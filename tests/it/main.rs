//! The workspace's cross-crate test binary.

mod dependencies;
mod lints;
mod readmes;
mod release_flow;
