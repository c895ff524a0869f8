//! Releases: one version of a project's (or product's) artifacts, on its way from draft to
//! published.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::revision::RevisionNumber;
use super::vote::VoteRecord;
use crate::policy::PolicyOverrides;
use crate::types::{
    CommitteeKey, CveId, Fingerprint, ProductKey, ProjectKey, ReleasePath, Stage, Timestamp, UserId, Version,
};

/// What identifies a release: project, optional product, version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReleaseKey {
    pub project: ProjectKey,
    pub product: Option<ProductKey>,
    pub version: Version,
}

impl ReleaseKey {
    /// A release of the project's main product.
    pub fn new(project: ProjectKey, product: Option<ProductKey>, version: Version) -> Self {
        Self { project, product, version }
    }
}

/// `project[/product] version`, for messages.
impl fmt::Display for ReleaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.product {
            Some(product) => write!(f, "{}/{} {}", self.project, product, self.version),
            None => write!(f, "{} {}", self.project, self.version),
        }
    }
}

/// The internal phase of a release (domain.md, "Stages and phases").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Compose: files are uploaded, moved and deleted; each change is a revision.
    Draft,
    /// Vote: the voted revision is frozen and votes are collected.
    Candidate,
    /// Finish: final touches after a passed vote, before announcing.
    Preview,
    /// Published under `current`.
    Release,
}

impl Phase {
    /// The phase's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Draft => "draft",
            Phase::Candidate => "candidate",
            Phase::Preview => "preview",
            Phase::Release => "release",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a release is busy with, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseState {
    AtRest,
    Analyzing,
    Voting,
    Announcing,
    Distributing,
}

/// Why and when a release was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub at: Timestamp,
    pub by: UserId,
    pub reason: String,
}

/// A release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub key: ReleaseKey,
    /// The committee that owned the project when the release started.
    pub committee: CommitteeKey,
    pub phase: Phase,
    pub state: ReleaseState,
    /// Set when revoked. A revoked release keeps its files and history.
    pub revocation: Option<Revocation>,
    /// The newest revision, if any file was ever added.
    pub latest_revision: Option<RevisionNumber>,
    /// The highest revision number that deleted drafts of the same coordinates used: this
    /// release's revisions are numbered after it, so that a number is never used twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numbered_after: Option<RevisionNumber>,
    /// Policy settings set on this release alone.
    pub policy: PolicyOverrides,
    /// The current or last vote, with the policy and keys snapshotted when it started.
    pub vote: Option<VoteRecord>,
    /// Keys that signed the released files.
    pub signing_keys: BTreeSet<Fingerprint>,
    /// CVEs that affect this release.
    pub cves_affecting: BTreeSet<CveId>,
    /// CVEs this release resolves.
    pub cves_resolved: BTreeSet<CveId>,
    /// SBOM files of the release.
    pub sboms: Vec<ReleasePath>,
    /// The git repository and commit the source archive was made from, which the checks compare
    /// it with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<super::SourceOrigin>,
    pub created_at: Timestamp,
    pub created_by: UserId,
    /// When it was announced.
    pub released_at: Option<Timestamp>,
    /// Bumped by every stored change of the release: a guarded update names the lock version it
    /// read, so any writer that read an older state gets a conflict (optimistic locking).
    #[serde(default)]
    pub lock_version: u64,
}

impl Release {
    /// A new draft with no revision yet.
    pub fn new_draft(key: ReleaseKey, committee: CommitteeKey, by: UserId, at: Timestamp) -> Self {
        Self {
            key,
            committee,
            phase: Phase::Draft,
            state: ReleaseState::AtRest,
            revocation: None,
            latest_revision: None,
            numbered_after: None,
            policy: PolicyOverrides::default(),
            vote: None,
            signing_keys: BTreeSet::new(),
            cves_affecting: BTreeSet::new(),
            cves_resolved: BTreeSet::new(),
            sboms: Vec::new(),
            source: None,
            created_at: at,
            created_by: by,
            released_at: None,
            lock_version: 0,
        }
    }

    /// The public stage, derived from phase and revocation: drafts and previews are not public;
    /// a release under vote is a `candidate`; a published one is `current`; a revoked one `revoked`.
    pub fn stage(&self) -> Option<Stage> {
        if self.revocation.is_some() {
            return Some(Stage::Revoked);
        }
        match self.phase {
            Phase::Draft | Phase::Preview => None,
            Phase::Candidate => Some(Stage::Candidate),
            Phase::Release => Some(Stage::Current),
        }
    }

    /// True once revoked.
    pub fn is_revoked(&self) -> bool {
        self.revocation.is_some()
    }
}
