//! Integration tests of the task runner and the Analyze checks.

mod archive;
mod runner;
mod signature;
