//! Releases, their revisions, files, packages and check results, and the calls that change them.

use atr_core::model;
use atr_core::types;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::projects::PolicyOverrides;
use crate::tasks::TaskStatus;
use crate::votes::{Tally, VoteRecord};
use crate::{text, texts};

/// What names a release: project, optional product, version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub struct ReleaseKey {
    pub project: String,
    /// The sub-product; `null` for the project's main product.
    pub product: Option<String>,
    pub version: String,
}

impl From<&model::ReleaseKey> for ReleaseKey {
    fn from(key: &model::ReleaseKey) -> Self {
        Self { project: text(&key.project), product: key.product.as_ref().map(text), version: text(&key.version) }
    }
}

/// The internal phase of a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
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

impl From<model::Phase> for Phase {
    fn from(phase: model::Phase) -> Self {
        match phase {
            model::Phase::Draft => Self::Draft,
            model::Phase::Candidate => Self::Candidate,
            model::Phase::Preview => Self::Preview,
            model::Phase::Release => Self::Release,
        }
    }
}

/// What a release is busy with, if anything (`atrest` when nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseState {
    AtRest,
    Analyzing,
    Voting,
    Announcing,
    Distributing,
}

impl From<model::ReleaseState> for ReleaseState {
    fn from(state: model::ReleaseState) -> Self {
        match state {
            model::ReleaseState::AtRest => Self::AtRest,
            model::ReleaseState::Analyzing => Self::Analyzing,
            model::ReleaseState::Voting => Self::Voting,
            model::ReleaseState::Announcing => Self::Announcing,
            model::ReleaseState::Distributing => Self::Distributing,
        }
    }
}

/// A public stage: the first segment of a download path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Under vote.
    Candidate,
    /// Released.
    Current,
    /// Revoked: still downloadable, marked with the reason.
    Revoked,
}

impl From<types::Stage> for Stage {
    fn from(stage: types::Stage) -> Self {
        match stage {
            types::Stage::Candidate => Self::Candidate,
            types::Stage::Current => Self::Current,
            types::Stage::Revoked => Self::Revoked,
        }
    }
}

/// Why and when a release was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Revocation {
    /// Unix seconds.
    pub at: i64,
    pub by: String,
    pub reason: String,
}

impl From<&model::Revocation> for Revocation {
    fn from(r: &model::Revocation) -> Self {
        Self { at: r.at.unix(), by: text(&r.by), reason: r.reason.clone() }
    }
}

/// A release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Release {
    pub key: ReleaseKey,
    /// The committee that owned the project when the release started.
    pub committee: String,
    pub phase: Phase,
    pub state: ReleaseState,
    /// Set when revoked. A revoked release keeps its files and history.
    pub revocation: Option<Revocation>,
    /// The newest revision, if any file was ever added.
    pub latest_revision: Option<u32>,
    /// Policy settings set on this release alone.
    pub policy: PolicyOverrides,
    /// The current or last vote, with the policy and keys snapshotted when it started.
    pub vote: Option<VoteRecord>,
    /// Fingerprints of the keys that signed the released files, sorted.
    pub signing_keys: Vec<String>,
    /// CVEs that affect this release, sorted.
    pub cves_affecting: Vec<String>,
    /// CVEs this release resolves, sorted.
    pub cves_resolved: Vec<String>,
    /// SBOM files of the release.
    pub sboms: Vec<String>,
    /// The git repository and commit its source archive was made from, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceOrigin>,
    /// Unix seconds.
    pub created_at: i64,
    pub created_by: String,
    /// When it was announced (Unix seconds).
    pub released_at: Option<i64>,
    /// Bumped by every stored change of the release.
    #[serde(default)]
    pub lock_version: u64,
}

impl From<&model::Release> for Release {
    fn from(r: &model::Release) -> Self {
        Self {
            key: (&r.key).into(),
            committee: text(&r.committee),
            phase: r.phase.into(),
            state: r.state.into(),
            revocation: r.revocation.as_ref().map(Revocation::from),
            latest_revision: r.latest_revision.map(model::RevisionNumber::get),
            policy: (&r.policy).into(),
            vote: r.vote.as_ref().map(VoteRecord::from),
            signing_keys: texts(&r.signing_keys),
            cves_affecting: texts(&r.cves_affecting),
            cves_resolved: texts(&r.cves_resolved),
            sboms: texts(&r.sboms),
            source: r.source.as_ref().map(SourceOrigin::from),
            created_at: r.created_at.unix(),
            created_by: text(&r.created_by),
            released_at: r.released_at.map(types::Timestamp::unix),
            lock_version: r.lock_version,
        }
    }
}

/// `GET /api/projects/{project}/releases/{version}`: a release with its public stage, the
/// packages of its latest revision and the tally of its vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseDetails {
    pub release: Release,
    /// `null` while not public (a draft or a preview).
    pub stage: Option<Stage>,
    /// `null` before the first upload.
    pub packages: Option<PackageListing>,
    /// `null` when no vote was ever started.
    pub tally: Option<Tally>,
}

/// One file of a revision, as its manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha512: String,
    /// Lowercase hex.
    pub sha3_256: String,
}

impl From<&model::FileEntry> for FileEntry {
    fn from(f: &model::FileEntry) -> Self {
        Self { path: text(&f.path), size: f.size, sha512: text(&f.sha512), sha3_256: text(&f.sha3_256) }
    }
}

/// A revision: a complete, immutable snapshot of a release's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Revision {
    pub release: ReleaseKey,
    /// From 1, never reused.
    pub number: u32,
    pub parent: Option<u32>,
    /// The phase the release was in when the revision was made.
    pub phase: Phase,
    /// Unix seconds.
    pub created_at: i64,
    pub created_by: String,
    pub description: Option<String>,
    /// The manifest: every file with size and digests, sorted by path.
    pub files: Vec<FileEntry>,
}

impl From<&model::Revision> for Revision {
    fn from(r: &model::Revision) -> Self {
        Self {
            release: (&r.release).into(),
            number: r.number.get(),
            parent: r.parent.map(model::RevisionNumber::get),
            phase: r.phase.into(),
            created_at: r.created_at.unix(),
            created_by: text(&r.created_by),
            description: r.description.clone(),
            files: r.files.iter().map(FileEntry::from).collect(),
        }
    }
}

/// An artifact with its signature and checksum files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Package {
    pub artifact: String,
    pub signature: Option<String>,
    /// The preferred checksum present (`.sha512` over `.sha256`).
    pub checksum: Option<String>,
    /// Other checksum files of the artifact (a second accepted one, or weak ones).
    pub other_checksums: Vec<String>,
}

impl From<&model::Package> for Package {
    fn from(p: &model::Package) -> Self {
        Self {
            artifact: text(&p.artifact),
            signature: p.signature.as_ref().map(text),
            checksum: p.checksum.as_ref().map(text),
            other_checksums: texts(&p.other_checksums),
        }
    }
}

/// A revision's files grouped into packages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PackageListing {
    /// One per artifact, sorted by path.
    pub packages: Vec<Package>,
    /// Signatures and checksums whose artifact is missing.
    pub orphans: Vec<String>,
}

impl From<&model::PackageListing> for PackageListing {
    fn from(l: &model::PackageListing) -> Self {
        Self { packages: l.packages.iter().map(Package::from).collect(), orphans: texts(&l.orphans) }
    }
}

/// The status of one check result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Stops a vote.
    Blocker,
    Warning,
    Note,
    Success,
    /// The checker itself broke.
    Exception,
}

impl From<CheckStatus> for model::CheckStatus {
    fn from(status: CheckStatus) -> Self {
        match status {
            CheckStatus::Blocker => Self::Blocker,
            CheckStatus::Warning => Self::Warning,
            CheckStatus::Note => Self::Note,
            CheckStatus::Success => Self::Success,
            CheckStatus::Exception => Self::Exception,
        }
    }
}

impl From<model::CheckStatus> for CheckStatus {
    fn from(status: model::CheckStatus) -> Self {
        match status {
            model::CheckStatus::Blocker => Self::Blocker,
            model::CheckStatus::Warning => Self::Warning,
            model::CheckStatus::Note => Self::Note,
            model::CheckStatus::Success => Self::Success,
            model::CheckStatus::Exception => Self::Exception,
        }
    }
}

/// How many results of each status a check run found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckCounts {
    pub blockers: u32,
    pub warnings: u32,
    pub notes: u32,
    pub successes: u32,
    pub exceptions: u32,
}

impl From<&model::CheckCounts> for CheckCounts {
    fn from(c: &model::CheckCounts) -> Self {
        Self {
            blockers: c.blockers,
            warnings: c.warnings,
            notes: c.notes,
            successes: c.successes,
            exceptions: c.exceptions,
        }
    }
}

/// One result of one checker on one file (or archive member) of one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckResult {
    pub release: ReleaseKey,
    pub revision: u32,
    pub checker: String,
    pub checker_version: String,
    /// The file checked, if the result is about one.
    pub path: Option<String>,
    /// The member of an archive, as the archive names it.
    pub member: Option<String>,
    pub status: CheckStatus,
    pub message: String,
    /// Unix seconds.
    pub at: i64,
    /// The id of the project's check ignore that silences this result (its oldest, if several
    /// do); absent when none does. An ignored result does not count against a vote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored_by: Option<u64>,
}

impl From<&atr_core::services::ReviewedCheck> for CheckResult {
    fn from(c: &atr_core::services::ReviewedCheck) -> Self {
        Self { ignored_by: c.ignored_by, ..Self::from(&c.result) }
    }
}

impl From<&model::CheckResult> for CheckResult {
    fn from(c: &model::CheckResult) -> Self {
        Self {
            release: (&c.release).into(),
            revision: c.revision.get(),
            checker: c.checker.clone(),
            checker_version: c.checker_version.clone(),
            path: c.path.as_ref().map(text),
            member: c.member.clone(),
            status: c.status.into(),
            message: c.message.clone(),
            at: c.at.unix(),
            ignored_by: None,
        }
    }
}

/// What a queued task runs: its kind's name and payload, and the release revision it is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskDescriptor {
    /// The task's kind, such as `analyze`.
    pub kind: String,
    /// The kind's payload (for `analyze`: `release`, `revision`).
    pub args: serde_json::Value,
    /// The release and the revision number the task is about: `[release, revision]`.
    #[schema(value_type = Option<Vec<serde_json::Value>>)]
    pub subject: Option<(ReleaseKey, u32)>,
    /// Lower runs first.
    pub priority: i32,
}

impl From<&model::TaskDescriptor> for TaskDescriptor {
    fn from(d: &model::TaskDescriptor) -> Self {
        Self {
            kind: d.kind.clone(),
            args: d.args.clone(),
            subject: d.subject.as_ref().map(|(release, revision)| (release.into(), revision.get())),
            priority: d.priority,
        }
    }
}

/// The task a change queued, as the change's answer shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueuedTask {
    pub id: u64,
    pub descriptor: TaskDescriptor,
    pub status: TaskStatus,
    pub attempts: u32,
    pub error: Option<String>,
}

impl From<&model::Task> for QueuedTask {
    fn from(t: &model::Task) -> Self {
        Self {
            id: t.id,
            descriptor: (&t.descriptor).into(),
            status: t.status.into(),
            attempts: t.attempts,
            error: t.error.clone(),
        }
    }
}

/// The answer to a change of files: the new revision and the Analyze task queued for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewRevision {
    pub revision: Revision,
    pub analyze_task: QueuedTask,
}

impl From<&atr_core::services::NewRevision> for NewRevision {
    fn from(new: &atr_core::services::NewRevision) -> Self {
        Self { revision: (&new.revision).into(), analyze_task: (&new.analyze).into() }
    }
}

/// The git repository and commit a release's source archive was made from; the checks compare
/// the archive with that commit. `PUT .../source` takes it as its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceOrigin {
    /// An `https://` address (or another scheme the service's runners are allowed to fetch).
    #[schema(example = "https://github.com/apache/httpd.git")]
    pub repository: String,
    /// The full commit id: 40 or 64 hexadecimal digits.
    pub commit: String,
    /// The tag naming the commit, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

impl From<&model::SourceOrigin> for SourceOrigin {
    fn from(s: &model::SourceOrigin) -> Self {
        Self { repository: s.repository.to_string(), commit: s.commit.to_string(), tag: s.tag.clone() }
    }
}

impl TryFrom<&SourceOrigin> for model::SourceOrigin {
    type Error = model::SourceError;
    fn try_from(s: &SourceOrigin) -> Result<Self, Self::Error> {
        model::SourceOrigin::new(&s.repository, &s.commit, s.tag.as_deref())
    }
}

/// The answer to setting a release's source: the release, and the checks queued again on its
/// latest revision (none while it has no revision).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SourceSet {
    pub release: Release,
    pub analyze_task: Option<QueuedTask>,
}

impl From<&atr_core::services::SourceSet> for SourceSet {
    fn from(set: &atr_core::services::SourceSet) -> Self {
        Self { release: (&set.release).into(), analyze_task: set.analyze.as_ref().map(QueuedTask::from) }
    }
}

/// An SBOM file of a revision with the results of its validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SbomFile {
    pub file: FileEntry,
    pub checks: Vec<CheckResult>,
}

/// `GET .../sboms`: the SBOM files (`*.cdx.json`, `*.spdx.json`) of the latest revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SbomListing {
    /// The latest revision; `null` before the first upload.
    pub revision: Option<u32>,
    pub sboms: Vec<SbomFile>,
}

/// `POST /api/projects/{project}/releases`: starts a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRelease {
    pub version: String,
    /// The project's sub-product; absent for the main product.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    pub product: Option<String>,
}

/// `POST .../moves`: moves or renames a file or folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveFile {
    pub from: String,
    pub to: String,
}

/// `POST .../vote`: starts the vote on a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartVote {
    /// The revision voted on: exactly these files.
    pub revision: u32,
}

/// `POST .../announce`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Announce {
    /// The release manager confirms the pause the policy may ask for.
    #[serde(default)]
    pub confirmed: bool,
}

/// `DELETE /api/projects/{project}/releases/{version}`: revokes the release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Revoke {
    /// Why, shown with every download of the release.
    pub reason: String,
}

/// `POST .../analyze`: queues the checks of a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Analyze {
    pub revision: u32,
    /// Run every check again instead of reusing the results of a run with the same inputs
    /// (admins only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
}

/// `?product=` on release routes: the sub-product, absent for the main one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    /// The project's sub-product the release is of.
    pub product: Option<String>,
}

/// `GET /api/projects/{project}/releases`: releases by stage, newest version first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReleasesQuery {
    /// A public stage; absent for the drafts and previews.
    pub stage: Option<Stage>,
    /// The sub-product; absent for the main product.
    pub product: Option<String>,
    /// Start after this version.
    pub after: Option<String>,
    /// Most releases answered (100 when absent).
    pub limit: Option<u32>,
}

impl From<&atr_core::services::ReleaseView> for ReleaseDetails {
    fn from(view: &atr_core::services::ReleaseView) -> Self {
        Self {
            release: (&view.release).into(),
            stage: view.stage.map(Stage::from),
            packages: view.packages.as_ref().map(PackageListing::from),
            tally: view.tally.as_ref().map(Tally::from),
        }
    }
}

impl From<&atr_core::services::SbomListing> for SbomListing {
    fn from(listing: &atr_core::services::SbomListing) -> Self {
        Self {
            revision: listing.revision.map(model::RevisionNumber::get),
            sboms: listing
                .sboms
                .iter()
                .map(|sbom| SbomFile {
                    file: (&sbom.file).into(),
                    checks: sbom.checks.iter().map(CheckResult::from).collect(),
                })
                .collect(),
        }
    }
}

impl From<Stage> for types::Stage {
    fn from(stage: Stage) -> Self {
        match stage {
            Stage::Candidate => Self::Candidate,
            Stage::Current => Self::Current,
            Stage::Revoked => Self::Revoked,
        }
    }
}
