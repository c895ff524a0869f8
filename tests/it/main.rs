//! The workspace's cross-crate test binary.

mod dependencies;
mod readmes;
mod release_flow;
