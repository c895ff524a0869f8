//! The use cases, written against the ports.
//!
//! Every use case follows the same steps: load what it needs, ask [`crate::auth::authorize`],
//! apply the rules ([`crate::lifecycle`], [`crate::policy`], [`crate::tally`]), and commit one
//! [`Change`]: its guarded writes, an event for every change and the tasks it asks for, in one
//! transaction ([`UnitOfWork`]). The repositories are read through; nothing here writes through
//! them. Callers pass `now`; the services never read a clock.

mod accounts;
mod admin;
mod downloads;
mod ignores;
mod keys;
mod offers;
mod projects;
mod queries;
mod records;
mod releases;
mod source;
mod tasks;
mod votes;

#[cfg(test)]
mod fakes;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::auth::{self, Activity, Denied, Principal, Target};
use crate::lifecycle::TransitionError;
use crate::model::{Actor, Committee, Project, Release, ReleaseKey};
use crate::policy::{PolicyError, VotePolicy};
use crate::ports::{AccountRepository, AuditLog, Credentials, TaskQueue};
use crate::ports::{
    BallotRepository, Change, Committed, CommitteeRepository, CveRepository, DistributionRepository, EventRepository,
    KeyRepository, PersonRepository, ProjectRepository, ReleaseFiles, ReleaseRepository, RevisionRepository,
    SearchIndex, StoreError, TaskRepository, UnitOfWork,
};
use crate::types::{CommitteeKey, ProjectKey, Timestamp};

pub use accounts::{NewAccount, NewToken, SIGN_IN_REFUSED, SignedIn};
pub use admin::{CommitteeUpdate, ImportReport, RoleChanged, import_committees};
pub use downloads::{NotServed, Public, ServedFile, ServedFolder, served_revision};
pub use keys::{ImportedKey, KeyAdded, KeyImport, KeyRefusal, RejectedKey};
pub use offers::{ProjectOffers, ReleaseOffers, ReviewedCheck};
pub use projects::{
    MAX_METADATA_DESCRIPTION_LEN, MAX_METADATA_NAME_LEN, MAX_URL_LEN, NewProduct, ProductPolicy, ProductUpdate,
    ProjectConfig, ProjectView, check_metadata,
};
pub use queries::{ReleaseView, SbomFile, SbomListing};
pub use records::{CveRecorded, MAX_CVE_TEXT_LEN};
pub use releases::{DeletedDraft, MAX_CHANGES, MAX_DESCRIPTION_LEN, NewRevision, Parent};
pub use source::SourceSet;
pub use tasks::{
    ChecksProgress, ChecksStatus, DEFAULT_STALE_RUNNER_AFTER, MAX_TASK_LISTING, NoRunner, QueueReport, RunnerView,
    TaskFailure, TaskView, checks_progress, runner_live, task_failure, waiting_for_runner,
};
pub use votes::MAX_COMMENT_LEN;

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The principal may not do this.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The release is not in a state that allows it.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A policy setting is invalid.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("{0} not found")]
    NotFound(String),
    /// Another change won a race, or a uniqueness rule refused the change.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input is refused.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Content is larger than allowed.
    #[error("too large: {0}")]
    TooLarge(String),
    /// Storage failed; the message is for logs.
    #[error("storage failed: {0}")]
    Store(String),
    /// A change of signing keys is refused; the refusal carries what explains it.
    #[error(transparent)]
    Key(#[from] KeyRefusal),
    /// A field of the input is refused: which one, and why.
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    /// The credential presented is not accepted (a refused sign-in, an unknown, revoked or
    /// expired token). The message says why without telling which accounts exist.
    #[error("{0}")]
    Unauthenticated(String),
    /// Too many refused attempts: try again after this many seconds.
    #[error("too many refused sign-ins; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
}

impl ServiceError {
    /// A refusal of one field of the input.
    pub fn field(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        ServiceError::Field { field: field.into(), message: message.to_string() }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            StoreError::Conflict(what) => ServiceError::Conflict(what),
            StoreError::Refused(what) => ServiceError::Invalid(what),
            StoreError::TooLarge(what) => ServiceError::TooLarge(what),
            StoreError::Backend(what) => ServiceError::Store(what),
        }
    }
}

/// The result of a use case.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// The storage ports the services use.
#[derive(Clone)]
pub struct Ports {
    pub persons: Arc<dyn PersonRepository>,
    pub committees: Arc<dyn CommitteeRepository>,
    pub projects: Arc<dyn ProjectRepository>,
    pub releases: Arc<dyn ReleaseRepository>,
    pub revisions: Arc<dyn RevisionRepository>,
    pub files: Arc<dyn ReleaseFiles>,
    pub keys: Arc<dyn KeyRepository>,
    pub ballots: Arc<dyn BallotRepository>,
    pub cves: Arc<dyn CveRepository>,
    pub distributions: Arc<dyn DistributionRepository>,
    pub events: Arc<dyn EventRepository>,
    pub tasks: Arc<dyn TaskRepository>,
    /// The one way state changes: a change set committed in one transaction.
    pub changes: Arc<dyn UnitOfWork>,
    /// Local accounts, people's global roles, sessions and personal access tokens.
    pub accounts: Arc<dyn AccountRepository>,
    /// Randomness and password hashing for credentials.
    pub credentials: Arc<dyn Credentials>,
    /// The task queue as callers see it: reads, cancel, retry.
    pub queue: Arc<dyn TaskQueue>,
    /// The audit log's integrity check.
    pub audit: Arc<dyn AuditLog>,
    /// The search index over projects, releases, keys and CVE records.
    pub search: Arc<dyn SearchIndex>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ports")
    }
}

/// The platform's use cases over a set of ports.
#[derive(Debug, Clone)]
pub struct Services {
    ports: Ports,
    foundation_policy: VotePolicy,
    /// How long a task runner may go unseen before waiting work is said to have no runner.
    stale_runner_after: std::time::Duration,
    /// Refused sign-ins of this process, by account and address.
    sign_ins: std::sync::Arc<std::sync::Mutex<crate::throttle::SignInThrottle>>,
}

/// A project with the committee that owns it: what a permission decision on it needs.
struct Scope {
    project: Project,
    committee: Committee,
}

impl Scope {
    fn target(&self) -> Target<'_> {
        Target::Project { project: &self.project.key, committee: &self.committee }
    }
}

impl Services {
    /// Services over `ports`, with the foundation's default vote policy.
    pub fn new(ports: Ports, foundation_policy: VotePolicy) -> Result<Self, PolicyError> {
        foundation_policy.validate()?;
        let sign_ins = std::sync::Arc::new(std::sync::Mutex::new(crate::throttle::SignInThrottle::default()));
        Ok(Self { ports, foundation_policy, stale_runner_after: tasks::DEFAULT_STALE_RUNNER_AFTER, sign_ins })
    }

    /// The same services, telling that pending work has no task runner once none handling it has
    /// been seen for `after` ([`DEFAULT_STALE_RUNNER_AFTER`] by default). Keep it well above the
    /// runners' heartbeat interval.
    #[must_use]
    pub fn with_stale_runner_after(mut self, after: std::time::Duration) -> Self {
        self.stale_runner_after = after;
        self
    }

    /// How long a task runner may go unseen before waiting work is said to have no runner.
    pub fn stale_runner_after(&self) -> std::time::Duration {
        self.stale_runner_after
    }

    /// The ports, for adapters that need to read directly.
    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    async fn committee(&self, key: &CommitteeKey) -> ServiceResult<Committee> {
        self.ports.committees.get(key).await?.ok_or_else(|| ServiceError::NotFound(format!("committee {key}")))
    }

    async fn scope(&self, project: &ProjectKey) -> ServiceResult<Scope> {
        let project = self
            .ports
            .projects
            .get(project)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("project {project}")))?;
        let committee = self.committee(&project.committee).await?;
        Ok(Scope { project, committee })
    }

    async fn release(&self, key: &ReleaseKey) -> ServiceResult<Release> {
        self.ports.releases.get(key).await?.ok_or_else(|| ServiceError::NotFound(format!("release {key}")))
    }

    /// Loads a project's scope and checks the principal may do `activity` on it.
    async fn authorized_project(
        &self,
        principal: &Principal,
        activity: Activity,
        project: &ProjectKey,
        now: Timestamp,
    ) -> ServiceResult<Scope> {
        let scope = self.scope(project).await?;
        auth::authorize(principal, activity, &scope.target(), now)?;
        Ok(scope)
    }

    /// Loads a release with its project's scope and checks the principal may do `activity` on it.
    async fn authorized_release(
        &self,
        principal: &Principal,
        activity: Activity,
        key: &ReleaseKey,
        now: Timestamp,
    ) -> ServiceResult<(Scope, Release)> {
        let scope = self.authorized_project(principal, activity, &key.project, now).await?;
        let release = self.release(key).await?;
        Ok((scope, release))
    }

    /// Commits a change: its writes, events and tasks in one transaction.
    async fn commit(&self, change: Change) -> ServiceResult<Committed> {
        Ok(self.ports.changes.commit(change).await?)
    }

    /// The vote policy in force for a release: the foundation default under the project's, the
    /// product's and the release's own settings, validated. The one place policy is resolved.
    pub fn effective_policy(
        &self,
        project: &Project,
        product: Option<&crate::types::ProductKey>,
        release: Option<&Release>,
    ) -> ServiceResult<VotePolicy> {
        Ok(crate::policy::effective(&self.foundation_policy, project, product, release)?)
    }

    /// [`Services::effective_policy`] with the level each setting's value comes from
    /// (`policy::effective_sourced`, the same resolution).
    pub fn effective_policy_sourced(
        &self,
        project: &Project,
        product: Option<&crate::types::ProductKey>,
        release: Option<&Release>,
    ) -> ServiceResult<crate::policy::SourcedPolicy> {
        Ok(crate::policy::effective_sourced(&self.foundation_policy, project, product, release)?)
    }

    /// The foundation's default vote policy.
    pub fn foundation_policy(&self) -> &VotePolicy {
        &self.foundation_policy
    }
}

/// The actor recorded in events for a principal.
fn actor(principal: &Principal) -> Actor {
    match principal {
        Principal::Anonymous => Actor::System,
        Principal::Person(person) => Actor::User(person.id.clone()),
        Principal::Token { owner, token } => Actor::Token { owner: owner.id.clone(), token: token.id().to_owned() },
    }
}

/// The person behind a principal, for use cases only a signed-in person (or their token) may do.
fn person_id(principal: &Principal) -> Option<&crate::types::UserId> {
    match principal {
        Principal::Anonymous => None,
        Principal::Person(person) | Principal::Token { owner: person, .. } => Some(&person.id),
    }
}
