//! The durable task runner and the task implementations, starting with Analyze (the automatic
//! checks of a release revision).

pub mod analyze;
pub mod runner;
