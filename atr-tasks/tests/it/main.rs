//! Integration tests of the task runner and the Analyze checks.
#![expect(
    clippy::disallowed_methods,
    reason = "the tests build release folders, keys and archives on disk, and run programs to compare with"
)]

mod analyze_task;
mod archive;
mod runner;
mod signature;
mod signer;
mod source;
