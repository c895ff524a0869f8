//! Tasks: work that runs outside a request, each kind a type.
//!
//! A task kind is a type with a constant [`TaskKind::NAME`] and a serde payload (its
//! arguments). A service queues one with [`TaskDescriptor::of`] inside the change that asks for
//! it, and the runner hands the payload back to the kind's handler with
//! [`TaskDescriptor::payload`]. The name of a kind is written once, on its type.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::release::ReleaseKey;
use super::revision::RevisionNumber;

/// A kind of task: a constant name and a serde payload.
pub trait TaskKind: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The kind's name in the queue, such as `analyze`. Never changes once tasks were queued.
    const NAME: &'static str;
    /// Lower runs first.
    const PRIORITY: i32 = 0;

    /// The release revision the task works on, if any: pending counts and per-project
    /// permissions on the task come from it.
    fn subject(&self) -> Option<(&ReleaseKey, RevisionNumber)>;
}

/// Run the Analyze checks on a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analyze {
    pub release: ReleaseKey,
    pub revision: RevisionNumber,
    /// Run every check again even when a stored run had the same inputs (an admin's choice);
    /// otherwise such a run's results are reused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
}

impl Analyze {
    /// The checks of `revision`, reusing stored results where the inputs are the same.
    pub fn of(release: ReleaseKey, revision: RevisionNumber) -> Self {
        Self { release, revision, force: false }
    }
}

impl TaskKind for Analyze {
    const NAME: &'static str = "analyze";

    fn subject(&self) -> Option<(&ReleaseKey, RevisionNumber)> {
        Some((&self.release, self.revision))
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
    /// Every status, in the order of a task's life.
    pub const ALL: [TaskStatus; 5] =
        [TaskStatus::Queued, TaskStatus::Active, TaskStatus::Completed, TaskStatus::Failed, TaskStatus::Cancelled];

    /// True while the task may still run.
    pub fn is_pending(self) -> bool {
        matches!(self, TaskStatus::Queued | TaskStatus::Active)
    }

    /// The status's name: `queued`, `active`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Active => "active",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    /// The status named `name`.
    pub fn parse(name: &str) -> Option<TaskStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// What to run: a kind's name and payload, and the release revision it is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDescriptor {
    pub kind: String,
    pub args: serde_json::Value,
    pub subject: Option<(ReleaseKey, RevisionNumber)>,
    /// Lower runs first.
    pub priority: i32,
}

/// A payload that does not encode or decode as its kind's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("task payload of kind {kind}: {message}")]
pub struct PayloadError {
    pub kind: String,
    pub message: String,
}

impl TaskDescriptor {
    /// The descriptor of a task of kind `K`.
    pub fn of<K: TaskKind>(payload: &K) -> Result<Self, PayloadError> {
        let args = serde_json::to_value(payload)
            .map_err(|e| PayloadError { kind: K::NAME.to_owned(), message: e.to_string() })?;
        Ok(Self {
            kind: K::NAME.to_owned(),
            args,
            subject: payload.subject().map(|(release, revision)| (release.clone(), revision)),
            priority: K::PRIORITY,
        })
    }

    /// True if the descriptor is of kind `K`.
    pub fn is<K: TaskKind>(&self) -> bool {
        self.kind == K::NAME
    }

    /// The payload, decoded as kind `K`.
    pub fn payload<K: TaskKind>(&self) -> Result<K, PayloadError> {
        decode::<K>(&self.kind, &self.args)
    }
}

/// Decodes the stored arguments of a task as kind `K`.
pub fn decode<K: TaskKind>(kind: &str, args: &serde_json::Value) -> Result<K, PayloadError> {
    if kind != K::NAME {
        return Err(PayloadError { kind: kind.to_owned(), message: format!("is not of kind {}", K::NAME) });
    }
    K::deserialize(args).map_err(|e| PayloadError { kind: kind.to_owned(), message: e.to_string() })
}

/// A stored task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: u64,
    pub descriptor: TaskDescriptor,
    pub status: TaskStatus,
    pub attempts: u32,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ProjectKey, Version};

    #[test]
    fn a_kind_round_trips_through_its_descriptor() {
        let key = ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse("2.4.68").unwrap());
        let job = Analyze { release: key.clone(), revision: RevisionNumber::new(3).unwrap(), force: false };
        let descriptor = TaskDescriptor::of(&job).unwrap();
        assert_eq!(descriptor.kind, "analyze");
        assert_eq!(descriptor.subject, Some((key, RevisionNumber::new(3).unwrap())));
        assert!(descriptor.is::<Analyze>());
        assert_eq!(descriptor.payload::<Analyze>().unwrap(), job);
        let wrong = decode::<Analyze>("mail", &descriptor.args).unwrap_err();
        assert!(wrong.to_string().contains("is not of kind analyze"), "{wrong}");
    }
}
