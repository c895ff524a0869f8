//! Unit tests of the use cases over mockall mocks of the ports: they show that each use case
//! asks for permission, enforces the lifecycle and policy, writes through the ports and emits its
//! events. The real adapters are tested against real databases in `atr-store`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use super::{Ports, ServiceError, Services};
use crate::auth::{Denied, Principal};
use crate::lifecycle::TransitionError;
use crate::model::{
    Analyze, Ballot, CheckCounts, CheckIgnore, CheckResult, CheckRun, CheckStatus, Committee, Consent, Event,
    EventKind, FileEntry, Metadata, Person, Phase, Project, Release, ReleaseKey, Revision, RevisionNumber, Task,
    TaskStatus, VoteOutcome, VoteRound, VoteValue, Voter,
};
use crate::policy::{PolicyOverrides, VotePolicy};
use crate::ports::{
    Change, Committed, FileChange, MockBallotRepository, MockCommitteeRepository, MockCveRepository,
    MockDistributionRepository, MockEventRepository, MockKeyRepository, MockPersonRepository, MockProjectRepository,
    MockReleaseFiles, MockReleaseRepository, MockRevisionRepository, MockTaskRepository, StoreError, UnitOfWork, Write,
};
use crate::types::{CommitteeKey, ProjectKey, ReleasePath, Sha3_256Digest, Sha512Digest, Timestamp, UserId, Version};

const T0: Timestamp = Timestamp::from_unix(1_750_000_000);

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn person(id: &str) -> Principal {
    Principal::Person(Person { id: uid(id), asf_member: false, admin: false, consent: None })
}

fn visitor(consent: bool) -> Principal {
    let consent = consent.then(|| Consent {
        user: uid("visitor"),
        name: "Vi Sitor".into(),
        email: "vi@example.org".into(),
        given_at: T0,
        revoked_at: None,
    });
    Principal::Person(Person { id: uid("visitor"), asf_member: false, admin: false, consent })
}

fn httpd_committee() -> Committee {
    let mut c = Committee::new(CommitteeKey::parse("httpd").unwrap(), "Apache HTTP Server");
    c.pmc_members = ["pmc1", "pmc2", "pmc3", "pmc4"].into_iter().map(uid).collect();
    c.committers = ["dev1"].into_iter().map(uid).collect();
    c.release_managers = ["rm"].into_iter().map(uid).collect();
    c
}

fn podling_committee() -> Committee {
    let mut c = httpd_committee();
    c.podling = true;
    c.parent = Some(CommitteeKey::parse("incubator").unwrap());
    c
}

fn incubator() -> Committee {
    let mut c = Committee::new(CommitteeKey::parse("incubator").unwrap(), "Incubator");
    c.pmc_members = ["ipmc1", "ipmc2", "ipmc3"].into_iter().map(uid).collect();
    c
}

fn project(policy: PolicyOverrides) -> Project {
    Project {
        key: ProjectKey::parse("httpd").unwrap(),
        committee: CommitteeKey::parse("httpd").unwrap(),
        metadata: Metadata::default(),
        policy,
        products: vec![],
    }
}

fn key() -> ReleaseKey {
    ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse("2.4.68").unwrap())
}

fn rev(n: u32) -> RevisionNumber {
    RevisionNumber::new(n).unwrap()
}

fn draft_with(revisions: u32) -> Release {
    let mut r = Release::new_draft(key(), CommitteeKey::parse("httpd").unwrap(), uid("rm"), T0);
    r.latest_revision = RevisionNumber::new(revisions);
    r
}

/// The mocks, configured by each test before they are frozen into `Services`.
#[derive(Default)]
struct Mocks {
    persons: MockPersonRepository,
    committees: MockCommitteeRepository,
    projects: MockProjectRepository,
    releases: MockReleaseRepository,
    revisions: MockRevisionRepository,
    files: MockReleaseFiles,
    keys: MockKeyRepository,
    ballots: MockBallotRepository,
    cves: MockCveRepository,
    distributions: MockDistributionRepository,
    events: MockEventRepository,
    tasks: MockTaskRepository,
    changes: Log,
    accounts: crate::ports::MockAccountRepository,
    credentials: crate::ports::MockCredentials,
    queue: crate::ports::MockTaskQueue,
    audit: crate::ports::MockAuditLog,
    search: crate::ports::MockSearchIndex,
}

/// A unit of work that records every change it commits (or refuses them all with `fail`).
#[derive(Default)]
struct Recorder {
    changes: Mutex<Vec<Change>>,
    fail: Mutex<Option<StoreError>>,
}

#[async_trait::async_trait]
impl UnitOfWork for Recorder {
    async fn commit(&self, change: Change) -> Result<Committed, StoreError> {
        if let Some(error) = self.fail.lock().unwrap().clone() {
            return Err(error);
        }
        let mut changes = self.changes.lock().unwrap();
        let first = changes.iter().map(|c| c.events.len() as u64).sum::<u64>() + 1;
        let events =
            change.events.iter().enumerate().map(|(i, e)| Event { id: first + i as u64, event: e.clone() }).collect();
        let tasks = change
            .tasks
            .iter()
            .map(|t| Task { id: 7, descriptor: t.clone(), status: TaskStatus::Queued, attempts: 0, error: None })
            .collect();
        changes.push(change);
        Ok(Committed { events, tasks })
    }
}

impl Recorder {
    /// The kinds of the events committed, in order.
    fn events(&self) -> Vec<EventKind> {
        self.changes.lock().unwrap().iter().flat_map(|c| c.events.iter().map(|e| e.kind.clone())).collect()
    }

    /// Every write committed, in order.
    fn writes(&self) -> Vec<Write> {
        self.changes.lock().unwrap().iter().flat_map(|c| c.writes.clone()).collect()
    }

    /// The last release written by an update.
    fn updated(&self) -> Option<Release> {
        self.writes().into_iter().rev().find_map(|w| match w {
            Write::UpdateRelease(r) => Some(r),
            _ => None,
        })
    }

    /// Every change committed, in order.
    fn changes(&self) -> Vec<Change> {
        self.changes.lock().unwrap().clone()
    }
}

/// What the services committed.
type Log = Arc<Recorder>;

impl Mocks {
    /// Mocks that know the httpd committee (and the incubator) and project, and record events.
    fn new(committee: Committee, project: Project) -> (Self, Log) {
        let mut m = Mocks::default();
        m.committees
            .expect_get()
            .returning(move |k| Ok([committee.clone(), incubator()].into_iter().find(|c| &c.key == k)));
        m.projects.expect_get().returning(move |k| Ok((&project.key == k).then(|| project.clone())));
        m.releases.expect_numbered_after().returning(|_| Ok(None));
        let log = m.changes.clone();
        (m, log)
    }

    fn with_release(mut self, release: Release) -> Self {
        self.releases.expect_get().returning(move |k| Ok((k == &release.key).then(|| release.clone())));
        self
    }

    /// What the services commit, to read the release an update wrote.
    fn capture_update(&mut self) -> Log {
        self.changes.clone()
    }

    fn services(self) -> Services {
        let ports = Ports {
            persons: Arc::new(self.persons),
            committees: Arc::new(self.committees),
            projects: Arc::new(self.projects),
            releases: Arc::new(self.releases),
            revisions: Arc::new(self.revisions),
            files: Arc::new(self.files),
            keys: Arc::new(self.keys),
            ballots: Arc::new(self.ballots),
            cves: Arc::new(self.cves),
            distributions: Arc::new(self.distributions),
            events: Arc::new(self.events),
            tasks: Arc::new(self.tasks),
            changes: self.changes,
            accounts: Arc::new(self.accounts),
            credentials: Arc::new(self.credentials),
            queue: Arc::new(self.queue),
            audit: Arc::new(self.audit),
            search: Arc::new(self.search),
        };
        Services::new(ports, VotePolicy::foundation_default()).unwrap()
    }
}

fn denied(result: Result<impl std::fmt::Debug, ServiceError>) -> Denied {
    match result {
        Err(ServiceError::Denied(d)) => d,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn start_release_needs_manage_release_and_emits() {
    let (m, log) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let s = m.services();
    let release = s.start_release(&person("rm"), key(), T0).await.unwrap();
    assert_eq!(release.phase, Phase::Draft);
    let changes = log.changes();
    assert_eq!(changes.len(), 1, "one change: the release and its event together");
    let [Write::CreateRelease(r)] = changes[0].writes.as_slice() else { panic!("{:?}", changes[0].writes) };
    assert_eq!((r.phase, r.latest_revision, &r.created_by), (Phase::Draft, None, &uid("rm")));
    assert_eq!(log.events(), vec![EventKind::ReleaseStarted]);

    // A committer may not; nothing is written.
    let (m, log) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let d = denied(m.services().start_release(&person("dev1"), key(), T0).await);
    assert!(d.to_string().contains("manage_release"), "{d}");
    assert!(log.changes().is_empty());
}

#[tokio::test]
async fn start_release_of_unknown_product_or_project() {
    let (m, log) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let s = m.services();
    let mut k = key();
    k.product = Some(crate::types::ProductKey::parse("server").unwrap());
    assert!(
        matches!(s.start_release(&person("rm"), k, T0).await, Err(ServiceError::NotFound(w)) if w.contains("product server"))
    );
    let mut k = key();
    k.project = ProjectKey::parse("nope").unwrap();
    assert!(
        matches!(s.start_release(&person("rm"), k, T0).await, Err(ServiceError::NotFound(w)) if w.contains("project nope"))
    );
    assert!(log.changes().is_empty());
}

#[tokio::test]
async fn start_release_conflict_passes_through() {
    let (m, log) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    *log.fail.lock().unwrap() = Some(StoreError::Conflict("release httpd 2.4.68 exists".into()));
    let err = m.services().start_release(&person("rm"), key(), T0).await.unwrap_err();
    assert!(matches!(err, ServiceError::Conflict(ref w) if w.contains("exists")), "{err}");
    assert!(log.events().is_empty(), "no event for a change that did not happen");
}

fn put(path: &str) -> FileChange {
    FileChange::Put { path: ReleasePath::parse(path).unwrap(), content: Box::pin(EmptyStream) }
}

/// A stream with no chunks; the mocked file store never reads it.
struct EmptyStream;
impl futures_core::Stream for EmptyStream {
    type Item = std::io::Result<bytes::Bytes>;
    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(None)
    }
}

fn entry(path: &str) -> FileEntry {
    FileEntry {
        path: ReleasePath::parse(path).unwrap(),
        size: 3,
        sha512: Sha512Digest::from_bytes([1; 64]),
        sha3_256: Sha3_256Digest::from_bytes([2; 32]),
    }
}

#[tokio::test]
async fn add_revision_builds_records_and_queues_analyze() {
    let (m, log) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let mut m = m.with_release(draft_with(1));
    m.files
        .expect_create_revision()
        .times(1)
        .withf(|_, parent, number, changes| *parent == Some(rev(1)) && *number == rev(2) && changes.len() == 1)
        .returning(|_, _, _, _| Ok(vec![entry("a.tar.gz")]));
    let s = m.services();
    let new = s.add_revision(&person("rm"), &key(), Some(rev(1)), vec![put("a.tar.gz")], None, T0).await.unwrap();
    assert_eq!((new.revision.number, new.analyze.id), (rev(2), 7));
    // The revision, its event and its Analyze task are one change.
    let changes = log.changes();
    assert_eq!(changes.len(), 1);
    let [Write::RecordRevision(r)] = changes[0].writes.as_slice() else { panic!("{:?}", changes[0].writes) };
    assert_eq!((r.parent, r.number), (Some(rev(1)), rev(2)));
    assert_eq!(changes[0].tasks.len(), 1);
    assert_eq!(
        changes[0].tasks[0].payload::<Analyze>().unwrap(),
        Analyze { release: key(), revision: rev(2), force: false }
    );
    assert_eq!(log.events(), vec![EventKind::RevisionCreated { revision: rev(2), files: 1 }]);
}

#[tokio::test]
async fn only_an_admin_may_force_the_checks_to_run_again() {
    let (m, log) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let mut m = m.with_release(draft_with(1));
    m.revisions.expect_get().returning(|_, _| Ok(Some(revision_with(&["a.tar.gz"]))));
    let d = denied(m.services().queue_analyze(&person("rm"), &key(), rev(1), true, T0).await);
    assert!(d.to_string().contains("manage_tasks"), "{d}");
    assert!(log.changes().is_empty(), "a refused forced run queues nothing");
}

#[tokio::test]
async fn add_revision_refuses_a_stale_parent_before_writing() {
    let (m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let mut m = m.with_release(draft_with(3));
    m.files.expect_create_revision().times(0);
    let err = m.services().add_revision(&person("rm"), &key(), Some(rev(2)), vec![put("a")], None, T0).await;
    assert!(matches!(err, Err(ServiceError::Conflict(ref w)) if w.contains("00002") && w.contains("00003")), "{err:?}");
}

#[tokio::test]
async fn add_revision_losing_a_race_discards_its_folder() {
    let (m, log) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let mut m = m.with_release(draft_with(1));
    m.files.expect_create_revision().returning(|_, _, _, _| Ok(vec![entry("a")]));
    *log.fail.lock().unwrap() = Some(StoreError::Conflict("expected revision 00001 to be the latest".into()));
    m.files.expect_discard_revision().times(1).withf(|_, n| *n == rev(2)).returning(|_, _| Ok(()));
    let err = m.services().add_revision(&person("rm"), &key(), Some(rev(1)), vec![put("a")], None, T0).await;
    assert!(matches!(err, Err(ServiceError::Conflict(ref w)) if w.contains("00001")), "{err:?}");
    assert!(log.events().is_empty());
}

#[tokio::test]
async fn add_revision_refused_during_a_vote() {
    let (m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let mut release = draft_with(1);
    release.phase = Phase::Candidate;
    let mut m = m.with_release(release);
    m.files.expect_create_revision().times(0);
    let err = m.services().add_revision(&person("rm"), &key(), Some(rev(1)), vec![put("a")], None, T0).await;
    assert!(matches!(err, Err(ServiceError::Transition(TransitionError::WrongPhase { .. }))), "{err:?}");
}

fn check(status: CheckStatus, path: &str) -> CheckResult {
    CheckResult {
        release: key(),
        revision: rev(1),
        checker: "signature".into(),
        checker_version: "1".into(),
        path: Some(ReleasePath::parse(path).unwrap()),
        member: None,
        status,
        message: "bad signature".into(),
        at: T0,
    }
}

fn fpr(hex: char) -> crate::types::Fingerprint {
    crate::types::Fingerprint::parse(&hex.to_string().repeat(40)).unwrap()
}

/// The checks of revision 1 ran to completion; key A made good signatures.
fn completed_run() -> CheckRun {
    CheckRun {
        release: key(),
        revision: rev(1),
        checker_version: "1".into(),
        completed_at: T0,
        counts: CheckCounts::default(),
        signers: BTreeSet::from([fpr('a')]),
        inputs: None,
        reused_from: None,
    }
}

/// Revision 1 with one complete package: artifact, signature, checksum.
fn revision_with(files: &[&str]) -> Revision {
    Revision {
        release: key(),
        number: rev(1),
        parent: None,
        phase: Phase::Draft,
        created_at: T0,
        created_by: uid("rm"),
        description: None,
        files: files.iter().map(|f| entry(f)).collect(),
    }
}

const PACKAGE: [&str; 3] = ["a.tar.gz", "a.tar.gz.asc", "a.tar.gz.sha512"];

/// Mocks for starting a vote on revision 1 (a complete package) whose checks completed with
/// the given results.
fn vote_mocks(
    policy: PolicyOverrides,
    pending: u32,
    results: Vec<CheckResult>,
    ignores: Vec<CheckIgnore>,
) -> (Mocks, Log) {
    vote_mocks_with(policy, pending, results, ignores, Some(completed_run()), &PACKAGE)
}

fn vote_mocks_with(
    policy: PolicyOverrides,
    pending: u32,
    results: Vec<CheckResult>,
    ignores: Vec<CheckIgnore>,
    run: Option<CheckRun>,
    files: &[&str],
) -> (Mocks, Log) {
    let (m, log) = Mocks::new(httpd_committee(), project(policy));
    let mut m = m.with_release(draft_with(1));
    m.tasks.expect_pending().returning(move |_, _| Ok(pending));
    m.revisions.expect_checks().returning(move |_, _| Ok(results.clone()));
    m.revisions.expect_check_run().returning(move |_, _| Ok(run.clone()));
    let revision = revision_with(files);
    m.revisions.expect_get().returning(move |_, _| Ok(Some(revision.clone())));
    m.projects.expect_ignores().returning(move |_| Ok(ignores.clone()));
    (m, log)
}

#[tokio::test]
async fn start_vote_snapshots_policy_voters_and_signing_keys() {
    let strict = PolicyOverrides { min_hours: Some(96), strict_checking: Some(true), ..Default::default() };
    let (mut m, log) = vote_mocks(strict, 0, vec![check(CheckStatus::Note, "a")], vec![]);
    let written = m.capture_update();
    let release = m.services().start_vote(&person("rm"), &key(), rev(1), T0).await.unwrap();
    let vote = release.vote.clone().unwrap();
    assert_eq!(vote.closes_at, T0.plus_hours(96), "the project's policy is in force");
    assert!(vote.policy.strict_checking);
    assert_eq!(vote.binding_voters, httpd_committee().pmc_members);
    // The keys that signed the voted revision are snapshotted and linked to the release.
    assert_eq!(vote.signing_keys, BTreeSet::from([fpr('a')]));
    assert_eq!(release.signing_keys, BTreeSet::from([fpr('a')]));
    assert!(
        log.writes().contains(&Write::RecordKeyUse { fingerprint: fpr('a'), release: key() }),
        "{:?}",
        log.writes()
    );
    let mut stored = written.updated().unwrap();
    assert_eq!(stored.lock_version, 0, "the update names the lock version it read");
    stored.lock_version += 1;
    assert_eq!(stored, release, "the answer is the stored release with its bumped lock version");
    let changes = log.changes();
    assert_eq!(changes.len(), 1, "the phase change and its events are one change");
    let log = log.events();
    assert!(matches!(log[0], EventKind::VoteStarted { round: VoteRound::Committee, .. }));
    assert_eq!(log[1], EventKind::PhaseChanged { from: Phase::Draft, to: Phase::Candidate });
}

#[tokio::test]
async fn start_vote_guards_pending_checks_and_blockers() {
    let strict = PolicyOverrides { strict_checking: Some(true), ..Default::default() };
    let (m, log) = vote_mocks(strict.clone(), 1, vec![], vec![]);
    let err = m.services().start_vote(&person("rm"), &key(), rev(1), T0).await.unwrap_err();
    assert!(matches!(err, ServiceError::Transition(TransitionError::ChecksPending { pending: 1, .. })), "{err}");
    assert!(log.changes().is_empty());

    // A blocker stops the vote whatever the policy.
    for policy in [strict.clone(), PolicyOverrides::default()] {
        let (m, log) = vote_mocks(policy, 0, vec![check(CheckStatus::Blocker, "a.tar.gz")], vec![]);
        let err = m.services().start_vote(&person("rm"), &key(), rev(1), T0).await.unwrap_err();
        assert!(matches!(err, ServiceError::Transition(TransitionError::BlockingResults { blockers: 1, .. })), "{err}");
        assert!(log.changes().is_empty());
    }

    // The same blocker, silenced by a project ignore, no longer stops the vote.
    let ignore = CheckIgnore {
        checker_glob: Some("signature".into()),
        path_glob: Some("a.tar.gz".into()),
        ..CheckIgnore::new(ProjectKey::parse("httpd").unwrap(), "known")
    };
    let (m, log) = vote_mocks(strict, 0, vec![check(CheckStatus::Blocker, "a.tar.gz")], vec![ignore]);
    m.services().start_vote(&person("rm"), &key(), rev(1), T0).await.unwrap();
    assert_eq!(log.changes().len(), 1);
}

#[tokio::test]
async fn start_vote_needs_completed_checks_and_a_complete_package() {
    // Checks cancelled or failed for good: nothing pending, no results, and no completed run.
    let (m, log) = vote_mocks_with(PolicyOverrides::default(), 0, vec![], vec![], None, &PACKAGE);
    let err = m.services().start_vote(&person("rm"), &key(), rev(1), T0).await.unwrap_err();
    assert!(matches!(err, ServiceError::Transition(TransitionError::ChecksNotCompleted { .. })), "{err}");
    assert!(log.changes().is_empty());

    // Only a notes file, or an artifact without its signature: no complete package.
    for files in [&["notes.txt"][..], &["a.tar.gz", "a.tar.gz.sha512"][..]] {
        let (m, log) = vote_mocks_with(PolicyOverrides::default(), 0, vec![], vec![], Some(completed_run()), files);
        let err = m.services().start_vote(&person("rm"), &key(), rev(1), T0).await.unwrap_err();
        assert!(matches!(err, ServiceError::Transition(TransitionError::NoCompletePackage { .. })), "{err}");
        assert!(log.changes().is_empty());
    }
}

#[tokio::test]
async fn start_vote_refuses_an_invalid_resolved_policy() {
    // Stored data is not trusted: an out-of-range setting is refused when resolved.
    let bad = PolicyOverrides { min_hours: Some(12), ..Default::default() };
    let (m, log) = vote_mocks(bad, 0, vec![], vec![]);
    let err = m.services().start_vote(&person("rm"), &key(), rev(1), T0).await.unwrap_err();
    assert!(matches!(err, ServiceError::Policy(_)), "{err}");
    assert!(log.changes().is_empty());
}

fn candidate(committee: &Committee) -> Release {
    let mut r = draft_with(1);
    let start = crate::lifecycle::VoteStart {
        revision: rev(1),
        checks: crate::model::CheckSummary { completed: true, ..Default::default() },
        complete_packages: 1,
        policy: VotePolicy::foundation_default(),
        binding_committee: committee.key.clone(),
        binding_voters: committee.pmc_members.clone(),
        signing_keys: BTreeSet::new(),
        by: uid("rm"),
        now: T0,
    };
    crate::lifecycle::start_vote(&mut r, start).unwrap();
    r
}

#[tokio::test]
async fn ballots_bind_by_snapshot_and_visitors_need_consent() {
    let (m, log) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let m = m.with_release(candidate(&httpd_committee()));
    let s = m.services();
    s.cast_ballot(&person("pmc1"), &key(), VoteValue::PlusOne, None, T0).await.unwrap();
    s.cast_ballot(&person("dev1"), &key(), VoteValue::PlusOne, None, T0).await.unwrap();
    let d = denied(s.cast_ballot(&visitor(false), &key(), VoteValue::PlusOne, None, T0).await);
    assert!(d.to_string().contains("consent"), "{d}");
    s.cast_ballot(&visitor(true), &key(), VoteValue::MinusOne, None, T0).await.unwrap();
    let voters: Vec<Voter> = log
        .writes()
        .into_iter()
        .filter_map(|w| match w {
            Write::CastBallot(b) => Some(b.voter),
            _ => None,
        })
        .collect();
    assert_eq!(voters, vec![Voter::User(uid("pmc1")), Voter::User(uid("dev1")), Voter::User(uid("visitor"))]);
    assert_eq!(
        log.events(),
        vec![
            EventKind::BallotCast { round: VoteRound::Committee, value: VoteValue::PlusOne, binding: true },
            EventKind::BallotCast { round: VoteRound::Committee, value: VoteValue::PlusOne, binding: false },
            EventKind::BallotCast { round: VoteRound::Committee, value: VoteValue::MinusOne, binding: false },
        ]
    );
}

#[tokio::test]
async fn ballots_only_while_a_vote_is_open() {
    let (m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let m = m.with_release(draft_with(1));
    let err = m.services().cast_ballot(&person("pmc1"), &key(), VoteValue::PlusOne, None, T0).await.unwrap_err();
    assert!(matches!(err, ServiceError::Transition(TransitionError::WrongPhase { .. })), "{err}");
}

fn ballot(voter: &str, value: VoteValue, round: VoteRound) -> Ballot {
    Ballot {
        release: key(),
        round,
        voter: Voter::User(uid(voter)),
        value,
        comment: None,
        cast_at: T0,
        source: crate::model::BallotSource::Platform,
    }
}

fn resolve_mocks(committee: &Committee, ballots: Vec<Ballot>) -> (Mocks, Log) {
    let (m, log) = Mocks::new(committee.clone(), project(PolicyOverrides::default()));
    let mut m = m.with_release(candidate(committee));
    m.ballots
        .expect_active()
        .returning(move |_, round| Ok(ballots.iter().filter(|b| b.round == round).cloned().collect()));
    (m, log)
}

#[tokio::test]
async fn resolve_passed_needs_the_pass_rule_and_the_minimum_time() {
    let three = ["pmc1", "pmc2", "pmc3"].map(|v| ballot(v, VoteValue::PlusOne, VoteRound::Committee)).to_vec();
    let after = T0.plus_hours(72);

    let (mut m, log) = resolve_mocks(&httpd_committee(), three.clone());
    let written = m.capture_update();
    let release = m.services().resolve_vote(&person("rm"), &key(), VoteOutcome::Passed, after).await.unwrap();
    assert_eq!(release.phase, Phase::Preview);
    assert_eq!(written.updated().as_ref().map(|r| r.phase), Some(Phase::Preview));
    let events = log.events();
    assert!(matches!(events[0], EventKind::VoteTallied { binding_plus: 3, passes: true, .. }), "{events:?}");
    assert_eq!(events[1], EventKind::VoteResolved { round: VoteRound::Committee, outcome: VoteOutcome::Passed });
    assert_eq!(events[2], EventKind::PhaseChanged { from: Phase::Candidate, to: Phase::Preview });

    let (m, log) = resolve_mocks(&httpd_committee(), three[..2].to_vec());
    let err = m.services().resolve_vote(&person("rm"), &key(), VoteOutcome::Passed, after).await.unwrap_err();
    assert!(matches!(err, ServiceError::Transition(TransitionError::VoteNotPassed)), "{err}");
    assert!(log.changes().is_empty());

    let (m, log) = resolve_mocks(&httpd_committee(), three.clone());
    let early = T0.plus_hours(71);
    let err = m.services().resolve_vote(&person("rm"), &key(), VoteOutcome::Passed, early).await.unwrap_err();
    assert!(matches!(err, ServiceError::Transition(TransitionError::VoteStillOpen { .. })), "{err}");
    assert!(log.changes().is_empty());

    // A committer may not resolve.
    let (m, _) = resolve_mocks(&httpd_committee(), three);
    denied(m.services().resolve_vote(&person("dev1"), &key(), VoteOutcome::Failed, after).await);
}

#[tokio::test]
async fn podling_vote_goes_to_the_incubator() {
    let three = ["pmc1", "pmc2", "pmc3"].map(|v| ballot(v, VoteValue::PlusOne, VoteRound::Committee)).to_vec();
    let (mut m, log) = resolve_mocks(&podling_committee(), three);
    let _ = m.capture_update();
    let after = T0.plus_hours(72);
    let release = m.services().resolve_vote(&person("rm"), &key(), VoteOutcome::Passed, after).await.unwrap();
    assert_eq!(release.phase, Phase::Candidate, "still under vote, in the second round");
    let vote = release.vote.unwrap();
    assert_eq!(vote.round, VoteRound::Parent);
    assert_eq!(vote.binding_voters, incubator().pmc_members);
    assert!(matches!(log.events().last(), Some(EventKind::VoteStarted { round: VoteRound::Parent, .. })));
}

#[tokio::test]
async fn failed_vote_returns_to_draft() {
    let (mut m, log) = resolve_mocks(&httpd_committee(), vec![]);
    let _ = m.capture_update();
    let release = m.services().resolve_vote(&person("pmc1"), &key(), VoteOutcome::Failed, T0).await.unwrap();
    assert_eq!(release.phase, Phase::Draft);
    assert_eq!(log.events()[2], EventKind::PhaseChanged { from: Phase::Candidate, to: Phase::Draft });
}

#[tokio::test]
async fn revoke_keeps_the_release_and_needs_permission() {
    let (m, log) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let mut m = m.with_release(draft_with(1));
    let written = m.capture_update();
    let s = m.services();
    denied(s.revoke(&person("dev1"), &key(), "broken", T0).await);
    let release = s.revoke(&person("pmc2"), &key(), "broken build", T0).await.unwrap();
    assert_eq!(release.stage(), Some(crate::types::Stage::Revoked));
    assert_eq!(written.updated().as_ref().unwrap().revocation.as_ref().unwrap().reason, "broken build");
    assert_eq!(log.events(), vec![EventKind::Revoked { reason: "broken build".into() }]);
}

#[tokio::test]
async fn announce_from_preview() {
    let (m, log) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let mut release = candidate(&httpd_committee());
    crate::lifecycle::resolve_vote(&mut release, VoteOutcome::Passed, true, T0.plus_hours(72)).unwrap();
    let mut m = m.with_release(release);
    let _ = m.capture_update();
    let release = m.services().announce(&person("rm"), &key(), false, T0.plus_hours(80)).await.unwrap();
    assert_eq!(release.stage(), Some(crate::types::Stage::Current));
    let log = log.events();
    assert_eq!(log[0], EventKind::Announced { revision: rev(1) });
    assert_eq!(log[1], EventKind::PhaseChanged { from: Phase::Preview, to: Phase::Release });
}

#[tokio::test]
async fn a_token_cannot_vote_but_can_start_a_release() {
    use crate::auth::{Activity, MachineToken};
    let token = MachineToken::new(
        "tok-1".into(),
        uid("rm"),
        BTreeSet::from([ProjectKey::parse("httpd").unwrap()]),
        BTreeSet::from([Activity::ManageRelease]),
        T0,
        T0.plus_hours(24),
    )
    .unwrap();
    let owner = Person { id: uid("rm"), asf_member: false, admin: false, consent: None };
    let principal = Principal::Token { owner, token };
    let (m, log) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let s = m.services();
    s.start_release(&principal, key(), T0).await.unwrap();
    assert_eq!(log.events(), vec![EventKind::ReleaseStarted]);
    // Expired: refused.
    let d = denied(s.start_release(&principal, key(), T0.plus_hours(25)).await);
    assert!(d.to_string().contains("expired"), "{d}");
}

mod admin;
mod runners;

#[tokio::test]
async fn configuration_and_release_policy_tell_where_each_value_comes_from() {
    use crate::model::Product;
    use crate::policy::PolicySource;
    use crate::types::ProductKey;

    let mut httpd = project(PolicyOverrides { min_hours: Some(96), ..PolicyOverrides::default() });
    let tools = ProductKey::parse("tools").unwrap();
    httpd.products.push(Product {
        key: tools.clone(),
        metadata: Metadata::default(),
        policy: PolicyOverrides { strict_checking: Some(true), ..PolicyOverrides::default() },
    });
    let mut release = draft_with(1);
    release.key = ReleaseKey::new(key().project, Some(tools.clone()), key().version);
    release.policy = PolicyOverrides { min_hours: Some(120), ..PolicyOverrides::default() };
    let (mut mocks, _) = Mocks::new(httpd_committee(), httpd);
    mocks.projects.expect_ignores().returning(|_| Ok(Vec::new()));
    mocks.keys.expect_by_committee().returning(|_| Ok(Vec::new()));
    let services = mocks.with_release(release.clone()).services();

    let config = services.project_config(&key().project).await.unwrap();
    let products: Vec<_> = config.policies.iter().map(|p| p.product.clone()).collect();
    assert_eq!(products, [None, Some(tools.clone())]);
    let (main, product) = (&config.policies[0].policy, &config.policies[1].policy);
    assert_eq!((main.policy.min_hours, main.source("min_hours")), (96, Some(PolicySource::Project)));
    assert_eq!(main.source("strict_checking"), Some(PolicySource::Foundation));
    assert_eq!(product.source("strict_checking"), Some(PolicySource::Product));
    assert_eq!(config.committee.release_managers, BTreeSet::from([uid("rm")]));

    let for_release = services.release_policy(&person("rm"), &release.key, T0).await.unwrap();
    assert_eq!((for_release.policy.min_hours, for_release.source("min_hours")), (120, Some(PolicySource::Release)));
    assert!(for_release.policy.strict_checking);
    assert_eq!(for_release.source("strict_checking"), Some(PolicySource::Product));

    // Only those who may manage the committee's keys are offered the import.
    let offered = |who: Principal| {
        let services = services.clone();
        async move { services.project_offers(&who, &key().project, T0).await.unwrap().import_keys }
    };
    assert!(offered(person("pmc1")).await);
    assert!(!offered(person("rm")).await && !offered(person("dev1")).await && !offered(Principal::Anonymous).await);
}
