//! The storage ports: what the domain needs from storage, as traits.
//!
//! Each method's doc comment is its contract; `atr-store` implements them on SQLite and
//! PostgreSQL and on disk, and the same contract tests run against every implementation.
//! Listings are keyset-paginated: pass the last item's key as `after` to get the next page.
//!
//! Under `cfg(test)` every trait has a mockall mock (`MockCommitteeRepository`...) for unit tests
//! of the services.

use std::io;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream;

use crate::model::{
    Ballot, CheckIgnore, CheckResult, CheckRun, Committee, Consent, CveLink, CveRecord, Distribution, Event, FileEntry,
    NewEvent, Person, Project, Release, ReleaseKey, Revision, RevisionNumber, SigningKey, Task, TaskDescriptor,
    VoteRound, Voter,
};
use crate::types::{CommitteeKey, CveId, Fingerprint, KeyId, ProductKey, ProjectKey, ReleasePath, Stage, UserId};

mod accounts;
mod queue;

pub use accounts::{AccountRepository, AuditLog, AuditVerdict, Credentials};
#[cfg(test)]
pub use accounts::{MockAccountRepository, MockAuditLog, MockCredentials};
#[cfg(test)]
pub use queue::MockTaskQueue;
pub use queue::{MAX_REVISION_TASKS, MAX_RUNNERS_LISTED, RunnerRecord, TaskCount, TaskQueue, TaskRecord};

/// Most items a listing returns at once, whatever `limit` asks.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Why a storage call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A uniqueness rule or a guard refused the write: another writer got there first, or the
    /// row moved on. The message names what was expected.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input is out of the store's bounds (an unsafe change, a listing limit of 0).
    #[error("refused: {0}")]
    Refused(String),
    /// Content is larger than the store accepts (a file over the size bound, or a stream that
    /// reported `io::ErrorKind::FileTooLarge`).
    #[error("too large: {0}")]
    TooLarge(String),
    /// The backend failed (IO, connection). The message is for logs, not for clients.
    #[error("storage failed: {0}")]
    Backend(String),
}

/// The result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// A page of a listing: at most `limit` items after the cursor `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<C> {
    pub after: Option<C>,
    pub limit: u32,
}

impl<C> PageRequest<C> {
    /// The first page.
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }

    /// The limit, clamped to 1..=[`MAX_PAGE_SIZE`].
    pub fn clamped_limit(&self) -> u32 {
        self.limit.clamp(1, MAX_PAGE_SIZE)
    }
}

/// Bytes streamed in or out of release storage, in chunks.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// Named files streamed one after the other (as a form with several files sends them): each
/// item is read, and its content streamed in, before the next is asked for.
pub type FileStream = Pin<Box<dyn Stream<Item = StoreResult<(ReleasePath, ByteStream)>> + Send>>;

/// One change to a revision's files.
pub enum FileChange {
    /// Adds or replaces a file with the streamed content.
    Put { path: ReleasePath, content: ByteStream },
    /// Adds or replaces every file the stream names, in its order, as `Put` does each; an error
    /// of the stream refuses the whole revision.
    PutEach { files: FileStream },
    /// Removes a file (or a folder and everything under it).
    Delete { path: ReleasePath },
    /// Moves a file (or a folder).
    Move { from: ReleasePath, to: ReleasePath },
}

impl std::fmt::Debug for FileChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileChange::Put { path, .. } => write!(f, "Put({path})"),
            FileChange::PutEach { .. } => f.write_str("PutEach(..)"),
            FileChange::Delete { path } => write!(f, "Delete({path})"),
            FileChange::Move { from, to } => write!(f, "Move({from} -> {to})"),
        }
    }
}

/// People: accounts, their global roles and a visitor's consent.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait PersonRepository: Send + Sync {
    /// The person with this id, with global roles and consent, or `None`.
    async fn get(&self, id: &UserId) -> StoreResult<Option<Person>>;
    /// Records consent; replaces an earlier record of the same person.
    async fn put_consent(&self, consent: &Consent) -> StoreResult<()>;
    /// Revokes the person's consent: MUST erase the name and email kept with it, and MUST
    /// rewrite every ballot of `Voter::User(id)` cast while only a visitor to `anonymous`, in
    /// the same transaction, so the tally keeps an anonymous entry. `NotFound` without consent.
    async fn revoke_consent(&self, id: &UserId, anonymous: &Voter, at: crate::types::Timestamp) -> StoreResult<()>;
}

/// Committees and their people.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait CommitteeRepository: Send + Sync {
    /// The committee, or `None`.
    async fn get(&self, key: &CommitteeKey) -> StoreResult<Option<Committee>>;
    /// Creates the committee, or replaces it (people lists included) if it exists.
    async fn put(&self, committee: &Committee) -> StoreResult<()>;
    /// Committees ordered by key, after the cursor.
    async fn list(&self, page: PageRequest<CommitteeKey>) -> StoreResult<Vec<Committee>>;
    /// Adds or removes one person's role ([`Committee::apply`]) atomically: the stored committee
    /// MUST be read and written back in one transaction that holds its row, so that a concurrent
    /// change of any of its people is never lost. Returns the committee after the change and
    /// whether it changed (granting a role held, or revoking one not held, writes nothing).
    /// `NotFound` for an unknown committee.
    ///
    /// A write outside [`UnitOfWork`] on purpose: a role change records no event and queues no
    /// task, so it has nothing to be transactional with, and its answer (the committee as the
    /// change left it, and whether it changed) comes from the one transaction that made it.
    async fn change_role(
        &self,
        key: &CommitteeKey,
        change: &crate::model::RoleChange,
    ) -> StoreResult<(Committee, bool)>;
}

/// Projects, their products, policies and check ignores.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ProjectRepository: Send + Sync {
    /// The project with its products, or `None`.
    async fn get(&self, key: &ProjectKey) -> StoreResult<Option<Project>>;
    /// Creates a project. MUST return `Conflict` if the key exists, `NotFound` if its committee
    /// does not.
    async fn create(&self, project: &Project) -> StoreResult<()>;
    /// Replaces metadata, policy and products. MUST return `NotFound` for an unknown project and
    /// `Conflict` if a product would be named like an existing version of the project.
    async fn update(&self, project: &Project) -> StoreResult<()>;
    /// Projects ordered by key, after the cursor.
    async fn list(&self, page: PageRequest<ProjectKey>) -> StoreResult<Vec<Project>>;
    /// The project's check ignores with their ids, oldest first.
    async fn ignores(&self, project: &ProjectKey) -> StoreResult<Vec<CheckIgnore>>;
}

/// Releases.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ReleaseRepository: Send + Sync {
    /// The release, or `None`.
    async fn get(&self, key: &ReleaseKey) -> StoreResult<Option<Release>>;
    /// Creates a release. MUST return `Conflict` if one exists for the same project, product
    /// and version (in any stage, revoked included).
    async fn create(&self, release: &Release) -> StoreResult<()>;
    /// Writes `release` if the stored row still has phase `expected.phase`, latest revision
    /// `expected.latest_revision` and the same revocation state; MUST return `Conflict` naming
    /// what it found otherwise, and change nothing.
    async fn update(&self, release: &Release, expected: &Release) -> StoreResult<()>;
    /// Releases of a project (and product; `None` is the main product) in a stage (`None`:
    /// drafts and previews), ordered by version, newest first, after the cursor version.
    async fn list(
        &self,
        project: &ProjectKey,
        product: Option<ProductKey>,
        stage: Option<Stage>,
        page: PageRequest<crate::types::Version>,
    ) -> StoreResult<Vec<Release>>;
    /// The highest revision number that deleted releases of these coordinates used
    /// ([`Write::DeleteRelease`] keeps it), or `None` if none was deleted.
    async fn numbered_after(&self, key: &ReleaseKey) -> StoreResult<Option<RevisionNumber>>;
    /// The newest release of the stage by the version order, or `None`.
    async fn latest(
        &self,
        project: &ProjectKey,
        product: Option<ProductKey>,
        stage: Stage,
    ) -> StoreResult<Option<Release>>;
}

/// Revision metadata and check results.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait RevisionRepository: Send + Sync {
    /// The revision with its manifest, or `None`.
    async fn get(&self, release: &ReleaseKey, number: RevisionNumber) -> StoreResult<Option<Revision>>;
    /// Records a revision whose files are already in release storage and makes it the release's
    /// latest, atomically. MUST return `Conflict` naming the expected parent if the release's
    /// latest revision is not `revision.parent` (another writer won), and MUST never reuse a
    /// number, even of a revision that was discarded.
    async fn record(&self, revision: &Revision) -> StoreResult<()>;
    /// Revisions of the release, oldest first, after the cursor.
    async fn list(&self, release: &ReleaseKey, page: PageRequest<RevisionNumber>) -> StoreResult<Vec<Revision>>;
    /// Stores check results of a revision. The results of a checker on a revision replace all its
    /// earlier results there (so a re-run leaves one set); a checker may report several results
    /// per file.
    async fn record_checks(&self, results: &[CheckResult]) -> StoreResult<()>;
    /// Every check result of the revision.
    async fn checks(&self, release: &ReleaseKey, number: RevisionNumber) -> StoreResult<Vec<CheckResult>>;
    /// The record that the Analyze checks of the revision ran to completion (the latest, if they
    /// ran more than once), or `None` if they never completed. A completed run is a positive
    /// fact, stored in the same transaction as its results.
    async fn check_run(&self, release: &ReleaseKey, number: RevisionNumber) -> StoreResult<Option<CheckRun>>;
}

/// Release files: immutable revision folders.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ReleaseFiles: Send + Sync {
    /// Builds revision `number` of the release as a complete folder: the files of `parent` (none
    /// if `None`) with `changes` applied in order, unchanged files shared with the parent. The
    /// folder MUST become visible all at once or not at all, content MUST be streamed (never
    /// whole in memory), and the returned manifest lists every file with size, SHA-512 and
    /// SHA3-256. MUST return `Refused` for a change on a missing path or a file over the size
    /// bound, and `Conflict` if revision `number` exists.
    async fn create_revision(
        &self,
        release: &ReleaseKey,
        parent: Option<RevisionNumber>,
        number: RevisionNumber,
        changes: Vec<FileChange>,
    ) -> StoreResult<Vec<FileEntry>>;
    /// Removes a revision folder that was never recorded (the loser of a race).
    async fn discard_revision(&self, release: &ReleaseKey, number: RevisionNumber) -> StoreResult<()>;
    /// Removes every revision folder of a release whose rows were deleted, all at once (one
    /// rename out of sight, then the removal), and forgets what it cached of them. A release with
    /// no folder is not an error.
    async fn delete_release(&self, release: &ReleaseKey) -> StoreResult<()>;
    /// Streams a file of a revision. `NotFound` if absent.
    async fn open(&self, release: &ReleaseKey, number: RevisionNumber, path: &ReleasePath) -> StoreResult<ByteStream>;
    /// The manifest of a revision: every file with size and digests, sorted by path, exactly as
    /// `create_revision` returned it. `NotFound` if the revision folder does not exist.
    async fn manifest(&self, release: &ReleaseKey, number: RevisionNumber) -> StoreResult<Vec<FileEntry>>;
    /// The size and modification time of a file of a revision as stored. `NotFound` if absent or
    /// a folder.
    async fn stat(&self, release: &ReleaseKey, number: RevisionNumber, path: &ReleasePath) -> StoreResult<FileStat>;
    /// Streams the bytes `range` of a file of a revision (`range.end` past the end of the file
    /// stops at its end). `NotFound` if absent or a folder.
    async fn open_range(
        &self,
        release: &ReleaseKey,
        number: RevisionNumber,
        path: &ReleasePath,
        range: std::ops::Range<u64>,
    ) -> StoreResult<ByteStream>;
}

/// What release storage knows of a stored file besides its manifest entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    /// Its size in bytes, as stored.
    pub size: u64,
    /// When its content was written (a file a revision shares with its parent keeps the time it
    /// was first written).
    pub modified: crate::types::Timestamp,
}

/// Signing keys and their links to committees and releases.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait KeyRepository: Send + Sync {
    /// The key, or `None`.
    async fn get(&self, fingerprint: &Fingerprint) -> StoreResult<Option<SigningKey>>;
    /// Keys whose key id is `id` (a signature may name its issuer only so).
    async fn find_by_key_id(&self, id: &KeyId) -> StoreResult<Vec<SigningKey>>;
    /// Adds the key, or updates its material, owner and user ids if it exists (links are kept
    /// and `key.committees` added). Returns true if it was added.
    async fn upsert(&self, key: &SigningKey) -> StoreResult<bool>;
    /// Links a key to a committee. `NotFound` for an unknown key or committee.
    async fn link(&self, fingerprint: &Fingerprint, committee: &CommitteeKey) -> StoreResult<()>;
    /// Keys linked to the committee, ordered by fingerprint: the content of its KEYS file.
    async fn by_committee(&self, committee: &CommitteeKey) -> StoreResult<Vec<SigningKey>>;
    /// Keys owned by the person.
    async fn by_owner(&self, owner: &UserId) -> StoreResult<Vec<SigningKey>>;
    /// Records that the key signed files of the release.
    async fn record_use(&self, fingerprint: &Fingerprint, release: &ReleaseKey) -> StoreResult<()>;
    /// Releases the key signed.
    async fn releases_signed(&self, fingerprint: &Fingerprint) -> StoreResult<Vec<ReleaseKey>>;
    /// Deletes the key. MUST return `Conflict` naming the releases if any release used it, and
    /// delete nothing.
    async fn delete(&self, fingerprint: &Fingerprint) -> StoreResult<()>;
}

/// Ballots.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait BallotRepository: Send + Sync {
    /// Stores a ballot. The voter's earlier ballot of the same release and round stops being
    /// active; at most one active ballot per voter, release and round exists (enforced by the
    /// database), and history is kept.
    async fn cast(&self, ballot: &Ballot) -> StoreResult<()>;
    /// The active ballots of a release's round.
    async fn active(&self, release: &ReleaseKey, round: VoteRound) -> StoreResult<Vec<Ballot>>;
}

/// CVE records and their links to releases.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait CveRepository: Send + Sync {
    /// The record with its links, or `None`.
    async fn get(&self, id: &CveId) -> StoreResult<Option<CveRecord>>;
    /// Creates or replaces the record's fields (links are kept).
    async fn put(&self, record: &CveRecord) -> StoreResult<()>;
    /// Links the CVE to a release. `NotFound` for an unknown CVE or release.
    async fn link(&self, id: &CveId, release: &ReleaseKey, link: CveLink) -> StoreResult<()>;
    /// CVEs linked to the release in the given way.
    async fn for_release(&self, release: &ReleaseKey, link: CveLink) -> StoreResult<Vec<CveId>>;
    /// Records ordered by id, after the cursor.
    async fn list(&self, page: PageRequest<CveId>) -> StoreResult<Vec<CveRecord>>;
}

/// Distribution records.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait DistributionRepository: Send + Sync {
    /// Adds a record, or replaces the one of the same release, platform, namespace, package and
    /// environment.
    async fn put(&self, distribution: &Distribution) -> StoreResult<()>;
    /// The release's records.
    async fn for_release(&self, release: &ReleaseKey) -> StoreResult<Vec<Distribution>>;
}

/// Which events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub project: Option<ProjectKey>,
    pub product: Option<ProductKey>,
    pub release: Option<ReleaseKey>,
}

/// The append-only event log.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait EventRepository: Send + Sync {
    /// Appends an event and returns it with its id. MUST chain it to its predecessor so that an
    /// edit or deletion of any stored event is detectable.
    async fn append(&self, event: &NewEvent) -> StoreResult<Event>;
    /// Events matching the filter, newest first, with ids below the cursor.
    async fn list(&self, filter: &EventFilter, page: PageRequest<u64>) -> StoreResult<Vec<Event>>;
}

/// The search index over projects, releases, signing keys and CVE records, kept by the
/// database itself.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// The hits of every term as a prefix (`http` finds `httpd`, `2.4` finds `2.4.68`; case
    /// does not matter), at most `limit` (clamped to 1..=[`crate::search::MAX_SEARCH_HITS`]) of
    /// each kind, each kind best first: a match of a project's key, a release's version, a key's
    /// fingerprint or key id or a CVE's id ranks above a match of a name, user id, title or
    /// description. Kinds come in [`crate::search::SearchKind`] order. What is matched:
    /// a project's key, product keys, name and description; a release's version, project and
    /// product keys; a key's fingerprint, key id, user ids and owner; a CVE's id, title and
    /// description. MUST be answered by the database's own index, never by reading rows into
    /// memory, and MUST reflect every committed change (the index is written in the change's
    /// transaction). Every release is answered, whoever may read it: the services filter.
    async fn search(
        &self,
        terms: &crate::search::SearchTerms,
        limit: u32,
    ) -> StoreResult<Vec<crate::search::SearchHit>>;
}

/// The task queue, as the domain sees it (the runner has its own, richer interface).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait TaskRepository: Send + Sync {
    /// Queues a task, unless an equal descriptor is already queued or active: then returns that
    /// one.
    async fn enqueue(&self, task: &TaskDescriptor) -> StoreResult<Task>;
    /// How many tasks of the release's revision are queued or active.
    async fn pending(&self, release: &ReleaseKey, revision: RevisionNumber) -> StoreResult<u32>;
}

/// One write of a [`Change`].
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Creates a release. `Conflict` if one exists for the same project, product and version
    /// (in any stage, revoked included); `NotFound` for an unknown project.
    CreateRelease(Release),
    /// Writes the release if the stored row's lock version is still `release.lock_version`, and
    /// bumps it. MUST return `Conflict` naming what it found otherwise.
    UpdateRelease(Release),
    /// Deletes a release with everything stored of it (its revisions, check results and runs,
    /// ballots, key uses, CVE links, distribution records and tasks) if the stored row's lock
    /// version is still `release.lock_version`; `Conflict` naming what it found otherwise,
    /// `NotFound` for an unknown release. Events stay: the history of a deleted release is kept,
    /// and so is its latest revision number ([`ReleaseRepository::numbered_after`]). Its files
    /// are removed after the commit ([`ReleaseFiles::delete_release`]).
    DeleteRelease(Release),
    /// Records a revision whose files are already in release storage and makes it the release's
    /// latest (bumping the release's lock version). MUST return `Conflict` naming the expected
    /// parent if the release's latest revision is not `revision.parent`, and MUST never reuse a
    /// number, even of a revision that was discarded.
    RecordRevision(Revision),
    /// Stores a ballot; the voter's earlier ballot of the same release and round stops being
    /// active (see [`BallotRepository::cast`]).
    CastBallot(Ballot),
    /// Creates a project. `Conflict` if the key exists, `NotFound` if its committee does not.
    CreateProject(Project),
    /// Replaces a project's metadata, policy and products. `NotFound` for an unknown project,
    /// `Conflict` if a product would be named like an existing version of the project.
    UpdateProject(Project),
    /// Adds a check ignore to its project, with the id of the change's first event (which
    /// records it); the ignore's own `id` is not read. `Refused` without an event, `NotFound`
    /// for an unknown project.
    AddIgnore(CheckIgnore),
    /// Deletes a check ignore of the project. `NotFound` if the project has no ignore `id`.
    DeleteIgnore { project: ProjectKey, id: u64 },
    /// Creates the committee, or replaces it (people lists included).
    PutCommittee(Committee),
    /// Records consent; replaces an earlier record of the same person.
    PutConsent(Consent),
    /// Revokes the person's consent: erases the name and email kept with it and rewrites every
    /// ballot of `Voter::User(user)` cast while only a visitor to `Voter::Anonymous` named
    /// `anonymous-<id of the change's first event>`. `NotFound` without consent.
    RevokeConsent { user: UserId, at: crate::types::Timestamp },
    /// Adds the key or updates it (see [`KeyRepository::upsert`]).
    UpsertKey(SigningKey),
    /// Links a key to a committee. `NotFound` for an unknown key or committee.
    LinkKey { fingerprint: Fingerprint, committee: CommitteeKey },
    /// Records that the key signed files of the release. Idempotent.
    RecordKeyUse { fingerprint: Fingerprint, release: ReleaseKey },
    /// Deletes a key. `Conflict` naming the releases if any release used it.
    DeleteKey(Fingerprint),
    /// Creates or replaces a CVE record's fields (links are kept).
    PutCve(CveRecord),
    /// Links a CVE to a release. `NotFound` for an unknown CVE or release.
    LinkCve { id: CveId, release: ReleaseKey, link: CveLink },
    /// Adds or replaces a distribution record.
    PutDistribution(Distribution),
}

/// A change of state: its writes, the events that record it and the tasks it asks for,
/// committed together by [`UnitOfWork::commit`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    pub writes: Vec<Write>,
    pub events: Vec<NewEvent>,
    pub tasks: Vec<TaskDescriptor>,
}

impl Change {
    /// An empty change.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a write.
    #[must_use]
    pub fn write(mut self, write: Write) -> Self {
        self.writes.push(write);
        self
    }

    /// Adds an event.
    #[must_use]
    pub fn event(mut self, event: NewEvent) -> Self {
        self.events.push(event);
        self
    }

    /// Adds a task to queue.
    #[must_use]
    pub fn task(mut self, task: TaskDescriptor) -> Self {
        self.tasks.push(task);
        self
    }
}

/// What a committed change produced: its events with their ids, and its tasks (an equal task
/// already queued or running stands for a new one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Committed {
    pub events: Vec<Event>,
    pub tasks: Vec<Task>,
}

/// The one way the services change state.
///
/// Contract: `commit` applies every write, appends every event (in order, chained as
/// [`EventRepository::append`] promises) and queues every task (deduplicated as
/// [`TaskRepository::enqueue`] promises) in **one database transaction**: after a crash or an
/// error, either all of the change is stored or none of it. The first write that fails aborts the
/// change with that write's error and stores nothing.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    async fn commit(&self, change: Change) -> StoreResult<Committed>;
}
