//! Events: every change, with who made it and when.

use serde::{Deserialize, Serialize};

use super::check::CheckStatus;
use super::cve::CveLink;
use super::distribution::{Environment, Platform};
use super::release::{Phase, ReleaseKey};
use super::revision::RevisionNumber;
use super::vote::{VoteOutcome, VoteRound, VoteValue};
use crate::types::{CommitteeKey, CveId, Fingerprint, ProductKey, ProjectKey, Timestamp, UserId};

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// A person, signed in.
    User(UserId),
    /// A machine token acting for its owner.
    Token { owner: UserId, token: String },
    /// The platform itself (a task, a timer).
    System,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum EventKind {
    ReleaseStarted,
    RevisionCreated {
        revision: RevisionNumber,
        files: usize,
    },
    /// The checks of a revision ran to completion.
    ChecksRecorded {
        revision: RevisionNumber,
        worst: Option<CheckStatus>,
        results: usize,
        #[serde(default)]
        counts: super::check::CheckCounts,
    },
    VoteStarted {
        revision: RevisionNumber,
        round: VoteRound,
        closes_at: Timestamp,
    },
    BallotCast {
        round: VoteRound,
        value: VoteValue,
        binding: bool,
    },
    VoteTallied {
        round: VoteRound,
        binding_plus: u32,
        binding_minus: u32,
        passes: bool,
    },
    VoteResolved {
        round: VoteRound,
        outcome: VoteOutcome,
    },
    PhaseChanged {
        from: Phase,
        to: Phase,
    },
    Announced {
        revision: RevisionNumber,
    },
    Revoked {
        reason: String,
    },
    PolicyChanged,
    MetadataChanged,
    KeyAdded {
        fingerprint: Fingerprint,
    },
    KeyLinked {
        fingerprint: Fingerprint,
        committee: CommitteeKey,
    },
    KeyDeleted {
        fingerprint: Fingerprint,
    },
    CveRecorded {
        id: CveId,
    },
    CveLinked {
        id: CveId,
        link: CveLink,
    },
    DistributionRecorded {
        platform: Platform,
        environment: Environment,
    },
    ConsentGiven,
    ConsentRevoked,
    /// A check ignore was added to the project: the ignore's id is this event's id.
    IgnoreAdded,
    IgnoreDeleted {
        id: u64,
    },
    /// A draft was deleted with its revisions, their files and check results; its history stays.
    DraftDeleted {
        /// How many revisions it had.
        revisions: u32,
    },
    /// The repository and commit of the release's source were set (or cleared: `None`).
    SourceSet {
        commit: Option<super::CommitId>,
    },
}

/// An event to append. The store gives it an id and chains it to its predecessor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvent {
    pub at: Timestamp,
    pub actor: Actor,
    pub project: Option<ProjectKey>,
    pub product: Option<ProductKey>,
    pub release: Option<ReleaseKey>,
    pub kind: EventKind,
}

impl NewEvent {
    /// An event about a release (its project and product are filled from the key).
    pub fn for_release(at: Timestamp, actor: Actor, release: &ReleaseKey, kind: EventKind) -> Self {
        Self {
            at,
            actor,
            project: Some(release.project.clone()),
            product: release.product.clone(),
            release: Some(release.clone()),
            kind,
        }
    }

    /// An event about a project as a whole (its policy, its CVE records).
    pub fn for_project(at: Timestamp, actor: Actor, project: &ProjectKey, kind: EventKind) -> Self {
        Self { at, actor, project: Some(project.clone()), product: None, release: None, kind }
    }

    /// An event not about a project (keys, foundation-wide changes).
    pub fn global(at: Timestamp, actor: Actor, kind: EventKind) -> Self {
        Self { at, actor, project: None, product: None, release: None, kind }
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the append-only log, from 1.
    pub id: u64,
    pub event: NewEvent,
}
