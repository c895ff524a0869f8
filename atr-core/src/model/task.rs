//! Task descriptors: work that runs outside a request.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::release::ReleaseKey;
use super::revision::RevisionNumber;

/// The kinds of task the platform knows. Each kind is added with its implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Run the checks on a revision.
    Analyze,
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskKind::Analyze => "analyze",
        })
    }
}

/// A task's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    Queued,
    Active,
    Completed,
    Failed,
    Cancelled,
}

impl TaskStatus {
    /// True while the task may still run.
    pub fn is_pending(self) -> bool {
        matches!(self, TaskStatus::Queued | TaskStatus::Active)
    }
}

/// What to run: the kind and the release revision it is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskDescriptor {
    pub kind: TaskKind,
    pub release: ReleaseKey,
    pub revision: RevisionNumber,
    /// Lower runs first.
    pub priority: i32,
}

/// A stored task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: u64,
    pub descriptor: TaskDescriptor,
    pub status: TaskStatus,
    pub attempts: u32,
    pub error: Option<String>,
}
