//! The unit of work under SIGKILL: a child process uploads revisions through the real services
//! (files, then one commit of the revision, its event and its Analyze task) as fast as it can,
//! and is killed at random moments, again and again. Afterwards every recorded revision has its
//! `RevisionCreated` event and its Analyze task, every event has its revision, and the event
//! chain verifies: a change is stored whole or not at all. On SQLite, and on PostgreSQL when
//! `ATR_TEST_DATABASE_URL` names a server.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use atr_core::auth::Principal;
use atr_core::model::{Committee, EventKind, Metadata, Person, Project, ReleaseKey};
use atr_core::policy::{PolicyOverrides, VotePolicy};
use atr_core::ports::{
    CommitteeRepository, EventFilter, EventRepository, FileChange, PageRequest, ProjectRepository, ReleaseRepository,
    RevisionRepository, TaskRepository,
};
use atr_core::services::Services;
use atr_core::types::{CommitteeKey, ProjectKey, ReleasePath, Timestamp, UserId, Version};
use atr_store::testing::databases;
use atr_store::{Storage, StorageConfig};
use bytes::Bytes;

const CHILD_DIR: &str = "ATR_UOW_CHILD_DIR";
const CHILD_DB: &str = "ATR_UOW_CHILD_DB";
const MARK: &str = "ATR-UOW-COMMITTED";
const T0: Timestamp = Timestamp::from_unix(1_750_000_000);
/// How many times the writer is killed.
const KILLS: u32 = 8;

fn key() -> ReleaseKey {
    ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse("2.4.68").unwrap())
}

fn rm() -> Principal {
    Principal::Person(Person { id: UserId::parse("rm").unwrap(), asf_member: false, admin: false, consent: None })
}

fn config(dir: &Path, url: &str) -> StorageConfig {
    StorageConfig { database_url: Some(url.to_owned()), ..StorageConfig::new(dir) }
}

fn services(storage: &Storage) -> Services {
    Services::new(storage.ports(), VotePolicy::foundation_default()).unwrap()
}

async fn seed(storage: &Storage) {
    let mut committee = Committee::new(CommitteeKey::parse("httpd").unwrap(), "HTTP Server");
    committee.release_managers.insert(UserId::parse("rm").unwrap());
    CommitteeRepository::put(&storage.sql, &committee).await.unwrap();
    let project = Project {
        key: ProjectKey::parse("httpd").unwrap(),
        committee: committee.key.clone(),
        metadata: Metadata::default(),
        policy: PolicyOverrides::default(),
        products: Vec::new(),
    };
    ProjectRepository::create(&storage.sql, &project).await.unwrap();
    services(storage).start_release(&rm(), key(), T0).await.unwrap();
}

/// A stream of one chunk.
struct Once(Option<Bytes>);

impl futures_core::Stream for Once {
    type Item = std::io::Result<Bytes>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.take().map(Ok))
    }
}

/// The child: uploads one small file per revision, forever, saying after each commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unit_of_work_child() {
    let (Ok(dir), Ok(url)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_DB)) else {
        return;
    };
    let (storage, _) = Storage::open(&config(Path::new(&dir), &url)).await.unwrap();
    let services = services(&storage);
    for n in 0_u64.. {
        let release = ReleaseRepository::get(&storage.sql, &key()).await.unwrap().unwrap();
        let path = ReleasePath::parse(&format!("file-{}.txt", n % 7)).unwrap();
        let content: atr_core::ports::ByteStream = Box::pin(Once(Some(Bytes::from(format!("content {n}\n")))));
        let change = FileChange::Put { path, content };
        services.add_revision(&rm(), &key(), release.latest_revision, vec![change], None, T0).await.unwrap();
        println!("{MARK} {n}");
    }
}

/// Runs the child for `after`, then kills it with SIGKILL. Returns how many commits it reported.
fn run_child_for(dir: &Path, url: &str, after: Duration) -> usize {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "unit_of_work::unit_of_work_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .env(CHILD_DB, url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout).lines().map_while(Result::ok).filter(|l| l.contains(MARK)).count()
    });
    // The first commits show the child is up; then it runs for `after` more.
    let started = Instant::now();
    std::thread::sleep(after);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_mins(1));
    reader.join().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_writer_never_leaves_a_revision_without_its_event_or_task() {
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let (storage, _) = Storage::open(&config(dir.path(), &db.url)).await.unwrap();
        seed(&storage).await;
        storage.sql.close().await;
        let mut reported = 0;
        for kill in 0..KILLS {
            // Kill at moments spread over the child's start-up and its steady state.
            let after = Duration::from_millis(400 + u64::from(kill) * 137 % 600);
            let (child_dir, url) = (dir.path().to_owned(), db.url.clone());
            reported += tokio::task::spawn_blocking(move || run_child_for(&child_dir, &url, after)).await.unwrap();
        }
        let (storage, _) = Storage::open(&config(dir.path(), &db.url)).await.unwrap();
        // Every revision, page by page (a listing returns at most 500).
        let mut revisions = Vec::new();
        let mut page = PageRequest::first(500);
        loop {
            let batch = RevisionRepository::list(&storage.sql, &key(), page.clone()).await.unwrap();
            let Some(last) = batch.last() else { break };
            page.after = Some(last.number);
            revisions.extend(batch);
        }
        assert!(revisions.len() >= reported, "every acknowledged commit is stored: {} < {reported}", revisions.len());
        assert!(revisions.len() >= 5, "the child wrote too little to show anything: {}", revisions.len());
        let mut with_event = BTreeSet::new();
        let mut page = PageRequest::first(500);
        loop {
            let events = EventRepository::list(&storage.sql, &EventFilter::default(), page.clone()).await.unwrap();
            let Some(last) = events.last() else { break };
            page.after = Some(last.id);
            for event in &events {
                if let EventKind::RevisionCreated { revision, .. } = event.event.kind {
                    assert!(with_event.insert(revision), "two events for revision {revision}");
                }
            }
        }
        let recorded: BTreeSet<_> = revisions.iter().map(|r| r.number).collect();
        assert_eq!(with_event, recorded, "events and revisions are the same set");
        for revision in &recorded {
            let pending = TaskRepository::pending(&storage.sql, &key(), *revision).await.unwrap();
            assert_eq!(pending, 1, "revision {revision} has its Analyze task");
        }
        let chain = storage.sql.verify_events().await.unwrap();
        assert_eq!(chain.events, recorded.len() as u64 + 1, "the release's start and one event per revision");
        storage.sql.close().await;
        db.finish().await;
    }
}

/// A podling's release whose first round has three binding +1 and may close.
async fn podling_candidate(storage: &Storage, version: &str) -> ReleaseKey {
    use atr_core::lifecycle::{VoteStart, start_vote};
    use atr_core::model::{Ballot, BallotSource, CheckSummary, Release, VoteRound, VoteValue, Voter};
    use atr_core::ports::{Change, UnitOfWork, Write};
    let key = ReleaseKey::new(ProjectKey::parse("podling").unwrap(), None, Version::parse(version).unwrap());
    let pmc: BTreeSet<UserId> = ["p1", "p2", "p3"].into_iter().map(|u| UserId::parse(u).unwrap()).collect();
    let mut release = Release::new_draft(key.clone(), CommitteeKey::parse("podling").unwrap(), uid("rm"), T0);
    release.latest_revision = atr_core::model::RevisionNumber::new(1);
    let start = VoteStart {
        revision: atr_core::model::RevisionNumber::new(1).unwrap(),
        checks: CheckSummary { completed: true, ..CheckSummary::default() },
        complete_packages: 1,
        policy: VotePolicy::foundation_default(),
        binding_committee: release.committee.clone(),
        binding_voters: pmc.clone(),
        signing_keys: BTreeSet::new(),
        by: uid("rm"),
        now: T0,
    };
    start_vote(&mut release, start).unwrap();
    let mut change = Change::new().write(Write::CreateRelease(release));
    for voter in pmc {
        change = change.write(Write::CastBallot(Ballot {
            release: key.clone(),
            round: VoteRound::Committee,
            voter: Voter::User(voter),
            value: VoteValue::PlusOne,
            comment: None,
            cast_at: T0,
            source: BallotSource::Platform,
        }));
    }
    UnitOfWork::commit(&storage.sql, change).await.unwrap();
    key
}

fn uid(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

/// Two release managers resolve a podling's passed first round at the same moment. Opening the
/// second round keeps phase and revision, so only the release's lock version tells the stale
/// writer apart: exactly one resolve wins, the other is refused, and one round is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_resolves_of_a_podling_round_let_exactly_one_win() {
    use atr_core::model::{VoteOutcome, VoteRound};
    use atr_core::services::ServiceError;
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let (storage, _) = Storage::open(&config(dir.path(), &db.url)).await.unwrap();
        let mut incubator = Committee::new(CommitteeKey::parse("incubator").unwrap(), "Incubator");
        incubator.pmc_members = ["i1", "i2", "i3"].into_iter().map(uid).collect();
        CommitteeRepository::put(&storage.sql, &incubator).await.unwrap();
        let mut podling = Committee::new(CommitteeKey::parse("podling").unwrap(), "A Podling");
        podling.podling = true;
        podling.parent = Some(incubator.key.clone());
        podling.pmc_members = ["p1", "p2", "p3"].into_iter().map(uid).collect();
        podling.release_managers = ["rm", "rm2"].into_iter().map(uid).collect();
        CommitteeRepository::put(&storage.sql, &podling).await.unwrap();
        let project = Project {
            key: ProjectKey::parse("podling").unwrap(),
            committee: podling.key.clone(),
            metadata: Metadata::default(),
            policy: PolicyOverrides::default(),
            products: Vec::new(),
        };
        ProjectRepository::create(&storage.sql, &project).await.unwrap();
        let person =
            |id: &str| Principal::Person(Person { id: uid(id), asf_member: false, admin: false, consent: None });
        let closed = T0.plus_hours(80);
        let mut conflicts = 0;
        for race in 0..8 {
            let key = podling_candidate(&storage, &format!("1.0.{race}")).await;
            let (one, two) = (services(&storage), services(&storage));
            let (a, b) = (person("rm"), person("rm2"));
            let (first, second) = tokio::join!(
                one.resolve_vote(&a, &key, VoteOutcome::Passed, closed),
                two.resolve_vote(&b, &key, VoteOutcome::Passed, closed),
            );
            let wins = [&first, &second].iter().filter(|r| r.is_ok()).count();
            assert_eq!(wins, 1, "race {race}: exactly one resolve wins: {first:?} / {second:?}");
            let lost = if first.is_ok() { second } else { first };
            conflicts += usize::from(matches!(lost, Err(ServiceError::Conflict(_))));
            assert!(
                matches!(lost, Err(ServiceError::Conflict(_) | ServiceError::Transition(_))),
                "race {race}: the loser is refused: {lost:?}"
            );
            let release = ReleaseRepository::get(&storage.sql, &key).await.unwrap().unwrap();
            assert_eq!(release.vote.as_ref().map(|v| v.round), Some(VoteRound::Parent));
            let filter = EventFilter { release: Some(key.clone()), ..EventFilter::default() };
            let events = EventRepository::list(&storage.sql, &filter, PageRequest::first(50)).await.unwrap();
            let resolved = events.iter().filter(|e| matches!(e.event.kind, EventKind::VoteResolved { .. })).count();
            assert_eq!(resolved, 1, "race {race}: one resolution recorded");
        }
        // Both read the same state before either wrote in at least some races (a sequential
        // loser would be refused by the lifecycle instead): the lock version caught them.
        assert!(conflicts > 0, "no race was a real race");
        storage.sql.close().await;
        db.finish().await;
    }
}
