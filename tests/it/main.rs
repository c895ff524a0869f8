//! The workspace's cross-crate test binary.

mod dependencies;
mod release_flow;
