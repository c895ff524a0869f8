//! Integration tests of the task runner and the Analyze checks.

mod analyze_task;
mod archive;
mod runner;
mod signature;
