//! The audit log: every change, with who made it and when.

use atr_core::model;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::cves::CveLink;
use crate::releases::{CheckCounts, CheckStatus, Phase, ReleaseKey};
use crate::text;
use crate::votes::{VoteOutcome, VoteRound, VoteValue};

/// Who did something: `{"user": id}`, `{"token": {"owner", "token"}}` or `"system"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// A person, signed in.
    User(String),
    /// A machine token acting for its owner.
    Token { owner: String, token: String },
    /// The platform itself (a task, a timer).
    System,
}

impl From<&model::Actor> for Actor {
    fn from(actor: &model::Actor) -> Self {
        match actor {
            model::Actor::User(id) => Self::User(text(id)),
            model::Actor::Token { owner, token } => Self::Token { owner: text(owner), token: token.clone() },
            model::Actor::System => Self::System,
        }
    }
}

/// A distribution platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Dist,
    PyPi,
    Npm,
    MavenCentral,
    DockerHub,
    ArtifactHub,
}

impl From<model::Platform> for Platform {
    fn from(platform: model::Platform) -> Self {
        match platform {
            model::Platform::Dist => Self::Dist,
            model::Platform::PyPi => Self::PyPi,
            model::Platform::Npm => Self::Npm,
            model::Platform::MavenCentral => Self::MavenCentral,
            model::Platform::DockerHub => Self::DockerHub,
            model::Platform::ArtifactHub => Self::ArtifactHub,
        }
    }
}

/// Staging or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Staging,
    Production,
}

impl From<model::Environment> for Environment {
    fn from(environment: model::Environment) -> Self {
        match environment {
            model::Environment::Staging => Self::Staging,
            model::Environment::Production => Self::Production,
        }
    }
}

/// What happened, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum EventKind {
    ReleaseStarted,
    RevisionCreated {
        revision: u32,
        files: u64,
    },
    /// The checks of a revision ran to completion.
    ChecksRecorded {
        revision: u32,
        worst: Option<CheckStatus>,
        results: u64,
        #[serde(default)]
        counts: CheckCounts,
    },
    VoteStarted {
        revision: u32,
        round: VoteRound,
        closes_at: i64,
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
        revision: u32,
    },
    Revoked {
        reason: String,
    },
    PolicyChanged,
    MetadataChanged,
    KeyAdded {
        fingerprint: String,
    },
    KeyLinked {
        fingerprint: String,
        committee: String,
    },
    KeyDeleted {
        fingerprint: String,
    },
    CveRecorded {
        id: String,
    },
    CveLinked {
        id: String,
        link: CveLink,
    },
    DistributionRecorded {
        platform: Platform,
        environment: Environment,
    },
    ConsentGiven,
    ConsentRevoked,
    /// A check ignore was added; its id is the event's.
    IgnoreAdded,
    IgnoreDeleted {
        id: u64,
    },
    /// A draft was deleted with its revisions and files.
    DraftDeleted {
        revisions: u32,
    },
    /// The source repository and commit were set, or cleared (no commit).
    SourceSet {
        commit: Option<String>,
    },
}

impl From<&model::EventKind> for EventKind {
    fn from(kind: &model::EventKind) -> Self {
        use model::EventKind as K;
        match kind {
            K::ReleaseStarted => Self::ReleaseStarted,
            K::RevisionCreated { revision, files } => {
                Self::RevisionCreated { revision: revision.get(), files: u64::try_from(*files).unwrap_or(u64::MAX) }
            }
            K::ChecksRecorded { revision, worst, results, counts } => Self::ChecksRecorded {
                revision: revision.get(),
                worst: worst.map(CheckStatus::from),
                results: u64::try_from(*results).unwrap_or(u64::MAX),
                counts: counts.into(),
            },
            K::VoteStarted { revision, round, closes_at } => {
                Self::VoteStarted { revision: revision.get(), round: (*round).into(), closes_at: closes_at.unix() }
            }
            K::BallotCast { round, value, binding } => {
                Self::BallotCast { round: (*round).into(), value: (*value).into(), binding: *binding }
            }
            K::VoteTallied { round, binding_plus, binding_minus, passes } => Self::VoteTallied {
                round: (*round).into(),
                binding_plus: *binding_plus,
                binding_minus: *binding_minus,
                passes: *passes,
            },
            K::VoteResolved { round, outcome } => {
                Self::VoteResolved { round: (*round).into(), outcome: (*outcome).into() }
            }
            K::PhaseChanged { from, to } => Self::PhaseChanged { from: (*from).into(), to: (*to).into() },
            K::Announced { revision } => Self::Announced { revision: revision.get() },
            K::Revoked { reason } => Self::Revoked { reason: reason.clone() },
            K::PolicyChanged => Self::PolicyChanged,
            K::MetadataChanged => Self::MetadataChanged,
            K::KeyAdded { fingerprint } => Self::KeyAdded { fingerprint: text(fingerprint) },
            K::KeyLinked { fingerprint, committee } => {
                Self::KeyLinked { fingerprint: text(fingerprint), committee: text(committee) }
            }
            K::KeyDeleted { fingerprint } => Self::KeyDeleted { fingerprint: text(fingerprint) },
            K::CveRecorded { id } => Self::CveRecorded { id: text(id) },
            K::CveLinked { id, link } => Self::CveLinked { id: text(id), link: (*link).into() },
            K::DistributionRecorded { platform, environment } => {
                Self::DistributionRecorded { platform: (*platform).into(), environment: (*environment).into() }
            }
            K::ConsentGiven => Self::ConsentGiven,
            K::ConsentRevoked => Self::ConsentRevoked,
            K::IgnoreAdded => Self::IgnoreAdded,
            K::IgnoreDeleted { id } => Self::IgnoreDeleted { id: *id },
            K::DraftDeleted { revisions } => Self::DraftDeleted { revisions: *revisions },
            K::SourceSet { commit } => Self::SourceSet { commit: commit.as_ref().map(ToString::to_string) },
        }
    }
}

/// What an event records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventEntry {
    /// Unix seconds.
    pub at: i64,
    pub actor: Actor,
    pub project: Option<String>,
    pub product: Option<String>,
    pub release: Option<ReleaseKey>,
    pub kind: EventKind,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Position in the append-only log, from 1.
    pub id: u64,
    pub event: EventEntry,
}

impl From<&model::Event> for Event {
    fn from(e: &model::Event) -> Self {
        let entry = &e.event;
        Self {
            id: e.id,
            event: EventEntry {
                at: entry.at.unix(),
                actor: (&entry.actor).into(),
                project: entry.project.as_ref().map(text),
                product: entry.product.as_ref().map(text),
                release: entry.release.as_ref().map(ReleaseKey::from),
                kind: (&entry.kind).into(),
            },
        }
    }
}

/// `GET /api/events`: a release's, a project's or (for ASF members and admins) the whole log,
/// newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    pub project: Option<String>,
    pub product: Option<String>,
    /// A version of the project (with `product` for a sub-product's release).
    pub version: Option<String>,
    /// Events with ids below this one (the last id of the previous page).
    pub before: Option<u64>,
    /// Most events answered (100 when absent).
    pub limit: Option<u32>,
}
