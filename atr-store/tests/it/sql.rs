//! The metadata store against real databases: SQLite always, PostgreSQL when
//! `ATR_TEST_DATABASE_URL` names a server (each test gets a fresh database there).

use std::collections::BTreeSet;
use std::future::Future;

use atr_core::model::{
    Actor, Analyze, Ballot, BallotSource, CheckCounts, CheckResult, CheckRun, CheckStatus, Committee, Consent, CveLink,
    CveRecord, Distribution, DistributionStatus, Environment, EventKind, Metadata, NewEvent, Person, Phase, Platform,
    Product, Project, Release, ReleaseKey, Revision, RevisionNumber, SigningKey, TaskDescriptor, VoteRound, VoteValue,
    Voter,
};
use atr_core::policy::PolicyOverrides;
use atr_core::ports::{
    BallotRepository, Change, CommitteeRepository, CveRepository, DistributionRepository, EventFilter, EventRepository,
    KeyRepository, PageRequest, PersonRepository, ProjectRepository, ReleaseRepository, RevisionRepository, StoreError,
    TaskRepository, UnitOfWork, Write,
};
use atr_core::types::{CommitteeKey, CveId, Fingerprint, ProductKey, ProjectKey, Stage, Timestamp, UserId, Version};
use atr_store::sql::{ChainError, Completion, Engine, SqlStore};
use atr_store::testing::databases;

const T0: Timestamp = Timestamp::from_unix(1_750_000_000);

/// Runs a test body on every configured engine.
async fn each<F, Fut>(body: F)
where
    F: Fn(SqlStore) -> Fut,
    Fut: Future<Output = ()>,
{
    for db in databases().await {
        body(db.store.clone()).await;
        db.finish().await;
    }
}

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn ver(s: &str) -> Version {
    Version::parse(s).unwrap()
}

fn rev(n: u32) -> RevisionNumber {
    RevisionNumber::new(n).unwrap()
}

fn key(version: &str) -> ReleaseKey {
    ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, ver(version))
}

fn committee(name: &str) -> Committee {
    let mut c = Committee::new(CommitteeKey::parse(name).unwrap(), name);
    c.pmc_members.insert(uid("pmc1"));
    c
}

fn project(name: &str, committee: &str) -> Project {
    Project {
        key: ProjectKey::parse(name).unwrap(),
        committee: CommitteeKey::parse(committee).unwrap(),
        metadata: Metadata { display_name: name.into(), ..Metadata::default() },
        policy: PolicyOverrides::default(),
        products: Vec::new(),
    }
}

/// A store with committee and project `httpd`.
async fn seeded(store: &SqlStore) {
    CommitteeRepository::put(store, &committee("httpd")).await.unwrap();
    ProjectRepository::create(store, &project("httpd", "httpd")).await.unwrap();
}

fn draft(version: &str) -> Release {
    Release::new_draft(key(version), CommitteeKey::parse("httpd").unwrap(), uid("rm"), T0)
}

fn revision(version: &str, number: u32, parent: Option<u32>) -> Revision {
    Revision {
        release: key(version),
        number: rev(number),
        parent: parent.map(rev),
        phase: Phase::Draft,
        created_at: T0,
        created_by: uid("rm"),
        description: None,
        files: Vec::new(),
    }
}

fn conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Conflict(message)) => message,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn both_engines_have_the_same_migrations() {
    let names = |engine: &str| -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(engine);
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
    assert_eq!(Engine::Sqlite.migrator().iter().count(), Engine::Postgres.migrator().iter().count());
}

#[tokio::test]
async fn migrating_twice_changes_nothing() {
    each(|store| async move {
        store.migrate().await.unwrap();
        seeded(&store).await;
        store.migrate().await.unwrap();
        assert!(ProjectRepository::get(&store, &ProjectKey::parse("httpd").unwrap()).await.unwrap().is_some());
    })
    .await;
}

#[tokio::test]
async fn committees_and_projects() {
    each(|store| async move {
        for name in ["tomcat", "httpd", "airflow", "zookeeper"] {
            CommitteeRepository::put(&store, &committee(name)).await.unwrap();
        }
        let mut updated = committee("httpd");
        updated.release_managers.insert(uid("rm"));
        CommitteeRepository::put(&store, &updated).await.unwrap();
        let got = CommitteeRepository::get(&store, &updated.key).await.unwrap().unwrap();
        assert_eq!(got, updated);

        // Keyset pages: 2 + 2, in key order, nothing repeated.
        let first = CommitteeRepository::list(&store, PageRequest::first(2)).await.unwrap();
        let after = Some(first.last().unwrap().key.clone());
        let second = CommitteeRepository::list(&store, PageRequest { after, limit: 2 }).await.unwrap();
        let keys: Vec<String> = first.iter().chain(&second).map(|c| c.key.to_string()).collect();
        assert_eq!(keys, ["airflow", "httpd", "tomcat", "zookeeper"]);

        ProjectRepository::create(&store, &project("httpd", "httpd")).await.unwrap();
        conflict(ProjectRepository::create(&store, &project("httpd", "httpd")).await);
        let orphan = ProjectRepository::create(&store, &project("orphan", "nosuch")).await;
        assert!(matches!(orphan, Err(StoreError::NotFound(ref what)) if what.contains("nosuch")), "{orphan:?}");
        let missing = ProjectRepository::update(&store, &project("tomcat", "tomcat")).await;
        assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");
    })
    .await;
}

#[tokio::test]
async fn a_product_may_not_be_named_like_a_version() {
    each(|store| async move {
        seeded(&store).await;
        let mut odd = draft("2.4.68");
        odd.key.version = ver("tools");
        ReleaseRepository::create(&store, &odd).await.unwrap();
        let mut p = project("httpd", "httpd");
        p.products.push(Product {
            key: ProductKey::parse("tools").unwrap(),
            metadata: Metadata::default(),
            policy: PolicyOverrides::default(),
        });
        let message = conflict(ProjectRepository::update(&store, &p).await);
        assert!(message.contains("tools"), "{message}");
    })
    .await;
}

#[tokio::test]
async fn one_release_per_project_product_and_version() {
    each(|store| async move {
        seeded(&store).await;
        ReleaseRepository::create(&store, &draft("2.4.68")).await.unwrap();
        let message = conflict(ReleaseRepository::create(&store, &draft("2.4.68")).await);
        assert!(message.contains("2.4.68"), "{message}");
        // Same version of a sub-product is another release.
        let mut sub = draft("2.4.68");
        sub.key.product = Some(ProductKey::parse("mod-tools").unwrap());
        ReleaseRepository::create(&store, &sub).await.unwrap();
        assert_eq!(ReleaseRepository::get(&store, &sub.key).await.unwrap().unwrap().key, sub.key);
    })
    .await;
}

#[tokio::test]
async fn a_phase_change_is_guarded() {
    each(|store| async move {
        seeded(&store).await;
        let before = draft("2.4.68");
        ReleaseRepository::create(&store, &before).await.unwrap();
        let mut moved = before.clone();
        moved.phase = Phase::Candidate;
        ReleaseRepository::update(&store, &moved, &before).await.unwrap();
        assert_eq!(ReleaseRepository::get(&store, &before.key).await.unwrap().unwrap().phase, Phase::Candidate);
        // A second writer that still saw the draft loses, and changes nothing.
        let mut stale = before.clone();
        stale.phase = Phase::Release;
        let message = conflict(ReleaseRepository::update(&store, &stale, &before).await);
        assert!(
            message.contains("read at version 0") && message.contains("now at version 1 (phase candidate"),
            "{message}"
        );
        assert_eq!(ReleaseRepository::get(&store, &before.key).await.unwrap().unwrap().phase, Phase::Candidate);
    })
    .await;
}

#[tokio::test]
async fn every_stored_change_bumps_the_lock_version_so_any_stale_writer_loses() {
    each(|store| async move {
        seeded(&store).await;
        let draft = draft("2.4.68");
        ReleaseRepository::create(&store, &draft).await.unwrap();
        let read = ReleaseRepository::get(&store, &draft.key).await.unwrap().unwrap();
        assert_eq!(read.lock_version, 0);
        // Two writers read the same state; a change that keeps phase and revision (as opening a
        // podling's second round does) still bumps the version, so the second writer loses.
        let mut first = read.clone();
        first.policy.min_hours = Some(96);
        let mut second = read.clone();
        second.policy.min_hours = Some(120);
        UnitOfWork::commit(&store, Change::new().write(Write::UpdateRelease(first))).await.unwrap();
        let message = conflict(UnitOfWork::commit(&store, Change::new().write(Write::UpdateRelease(second))).await);
        assert!(message.contains("read at version 0") && message.contains("now at version 1"), "{message}");
        let stored = ReleaseRepository::get(&store, &draft.key).await.unwrap().unwrap();
        assert_eq!((stored.lock_version, stored.policy.min_hours), (1, Some(96)));
        // Recording a revision bumps it too.
        RevisionRepository::record(&store, &revision("2.4.68", 1, None)).await.unwrap();
        assert_eq!(ReleaseRepository::get(&store, &draft.key).await.unwrap().unwrap().lock_version, 2);
        conflict(UnitOfWork::commit(&store, Change::new().write(Write::UpdateRelease(stored))).await);
    })
    .await;
}

#[tokio::test]
async fn a_change_commits_its_writes_events_and_tasks_together_or_not_at_all() {
    each(|store| async move {
        seeded(&store).await;
        let started = NewEvent::for_release(T0, Actor::User(uid("rm")), &key("2.4.68"), EventKind::ReleaseStarted);
        let analyze = TaskDescriptor::of(&Analyze { release: key("2.4.68"), revision: rev(1), force: false }).unwrap();
        let created = revision_created_change(&started, &analyze);
        // The last write fails (the revision's parent is wrong): nothing of the change is stored.
        let failing = created.clone().write(Write::RecordRevision(revision("2.4.68", 3, Some(2))));
        conflict(UnitOfWork::commit(&store, failing).await);
        assert!(ReleaseRepository::get(&store, &key("2.4.68")).await.unwrap().is_none(), "no release");
        let events = EventRepository::list(&store, &EventFilter::default(), PageRequest::first(10)).await.unwrap();
        assert!(events.is_empty(), "no event of a change that did not happen: {events:?}");
        assert_eq!(store.verify_events().await.unwrap().events, 0, "the chain's head did not move");
        // The same change without the bad write stores everything, once.
        let committed = UnitOfWork::commit(&store, created).await.unwrap();
        assert_eq!((committed.events.len(), committed.tasks.len()), (1, 1));
        assert_eq!(committed.events[0].id, 1);
        assert!(ReleaseRepository::get(&store, &key("2.4.68")).await.unwrap().is_some());
        assert_eq!(TaskRepository::pending(&store, &key("2.4.68"), rev(1)).await.unwrap(), 1);
        assert_eq!(store.verify_events().await.unwrap().events, 1);
        // An equal task already queued stands for a new one, inside a change too.
        let again = UnitOfWork::commit(&store, Change::new().task(analyze)).await.unwrap();
        assert_eq!(again.tasks[0].id, committed.tasks[0].id);
    })
    .await;
}

/// A change that starts a release, records revision 1 and queues its Analyze task.
fn revision_created_change(started: &NewEvent, analyze: &TaskDescriptor) -> Change {
    Change::new()
        .event(started.clone())
        .write(Write::CreateRelease(draft("2.4.68")))
        .write(Write::RecordRevision(revision("2.4.68", 1, None)))
        .task(analyze.clone())
}

#[tokio::test]
async fn a_completed_check_run_is_recorded_with_its_results_and_event() {
    each(|store| async move {
        seeded(&store).await;
        ReleaseRepository::create(&store, &draft("2.4.68")).await.unwrap();
        RevisionRepository::record(&store, &revision("2.4.68", 1, None)).await.unwrap();
        assert!(RevisionRepository::check_run(&store, &key("2.4.68"), rev(1)).await.unwrap().is_none());
        let analyze = TaskDescriptor::of(&Analyze { release: key("2.4.68"), revision: rev(1), force: false }).unwrap();
        TaskRepository::enqueue(&store, &analyze).await.unwrap();
        let far = i64::MAX / 4;
        let claimed = store.claim_task(&["analyze"], "w", far, 60_000).await.unwrap().unwrap();
        let run = CheckRun {
            release: key("2.4.68"),
            revision: rev(1),
            checker_version: "1".into(),
            completed_at: T0,
            counts: CheckCounts { blockers: 1, ..CheckCounts::default() },
            signers: BTreeSet::new(),
            inputs: None,
            reused_from: None,
        };
        let recorded = NewEvent::for_release(
            T0,
            Actor::System,
            &key("2.4.68"),
            EventKind::ChecksRecorded { revision: rev(1), worst: None, results: 1, counts: run.counts },
        );
        let result = serde_json::json!({});
        let completion =
            Completion { result: &result, checks: &[], run: Some(&run), events: std::slice::from_ref(&recorded) };
        // A stale fence commits nothing: no run, no event.
        assert!(store.complete_task_with(claimed.id, claimed.fence + 1, &completion, far).await.is_err());
        assert!(RevisionRepository::check_run(&store, &key("2.4.68"), rev(1)).await.unwrap().is_none());
        store.complete_task_with(claimed.id, claimed.fence, &completion, far).await.unwrap();
        assert_eq!(RevisionRepository::check_run(&store, &key("2.4.68"), rev(1)).await.unwrap(), Some(run));
        let events = EventRepository::list(&store, &EventFilter::default(), PageRequest::first(10)).await.unwrap();
        assert_eq!(events.len(), 1);
        assert!(matches!(events[0].event.kind, EventKind::ChecksRecorded { results: 1, .. }));
    })
    .await;
}

#[tokio::test]
async fn releases_list_by_stage_newest_version_first_in_pages() {
    each(|store| async move {
        seeded(&store).await;
        // Inserted out of order; 2.4.9 is older than 2.4.68 and the rc older than its release.
        let versions = ["2.4.9", "2.4.68", "2.4.68-rc1", "2.4.10", "2.2.34", "2.4.7"];
        for v in versions {
            let mut r = draft(v);
            r.phase = Phase::Release;
            ReleaseRepository::create(&store, &r).await.unwrap();
        }
        ReleaseRepository::create(&store, &draft("3.0.0")).await.unwrap();
        let project = ProjectKey::parse("httpd").unwrap();
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = PageRequest { after: after.clone(), limit: 4 };
            let releases = ReleaseRepository::list(&store, &project, None, Some(Stage::Current), page).await.unwrap();
            if releases.is_empty() {
                break;
            }
            after = Some(releases.last().unwrap().key.version.clone());
            seen.extend(releases.into_iter().map(|r| r.key.version.to_string()));
        }
        assert_eq!(seen, ["2.4.68", "2.4.68-rc1", "2.4.10", "2.4.9", "2.4.7", "2.2.34"]);
        let latest = ReleaseRepository::latest(&store, &project, None, Stage::Current).await.unwrap().unwrap();
        assert_eq!(latest.key.version, ver("2.4.68"));
        let drafts = ReleaseRepository::list(&store, &project, None, None, PageRequest::first(10)).await.unwrap();
        assert_eq!(drafts.len(), 1);
        assert_eq!(drafts[0].key.version, ver("3.0.0"));
        assert!(ReleaseRepository::latest(&store, &project, None, Stage::Revoked).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn release_listing_is_served_by_its_index() {
    // SQLite says which index a query uses; the plan must not scan the table.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("atr.db").display());
    SqlStore::open(&url).await.unwrap().close().await;
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN SELECT data, latest_revision FROM releases WHERE project = 'a' AND product = '' \
         AND stage = 'current' AND version_key < '~' ORDER BY version_key DESC LIMIT 10",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let detail: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
    assert!(detail.iter().any(|d| d.contains("USING INDEX releases_by_stage")), "{detail:?}");
    assert!(!detail.iter().any(|d| d.contains("TEMP B-TREE")), "sorts instead of reading in order: {detail:?}");
}

#[tokio::test]
async fn revisions_move_the_latest_and_a_stale_parent_conflicts() {
    each(|store| async move {
        seeded(&store).await;
        ReleaseRepository::create(&store, &draft("2.4.68")).await.unwrap();
        RevisionRepository::record(&store, &revision("2.4.68", 1, None)).await.unwrap();
        RevisionRepository::record(&store, &revision("2.4.68", 2, Some(1))).await.unwrap();
        let release = ReleaseRepository::get(&store, &key("2.4.68")).await.unwrap().unwrap();
        assert_eq!(release.latest_revision, Some(rev(2)));
        // A writer that still thinks 00001 is the latest.
        let message = conflict(RevisionRepository::record(&store, &revision("2.4.68", 3, Some(1))).await);
        assert!(message.contains("expected revision 00001") && message.contains("it is 00002"), "{message}");
        let listed = RevisionRepository::list(&store, &key("2.4.68"), PageRequest::first(10)).await.unwrap();
        assert_eq!(listed.iter().map(|r| r.number.get()).collect::<Vec<_>>(), [1, 2]);
        let page = PageRequest { after: Some(rev(1)), limit: 10 };
        assert_eq!(RevisionRepository::list(&store, &key("2.4.68"), page).await.unwrap().len(), 1);
        assert!(RevisionRepository::get(&store, &key("2.4.68"), rev(2)).await.unwrap().is_some());
        assert!(RevisionRepository::get(&store, &key("2.4.68"), rev(3)).await.unwrap().is_none());
        // The release's guarded update sees the revision recorded meanwhile.
        let mut stale = draft("2.4.68");
        stale.latest_revision = Some(rev(1));
        let mut next = stale.clone();
        next.phase = Phase::Candidate;
        conflict(ReleaseRepository::update(&store, &next, &stale).await);
    })
    .await;
}

#[tokio::test]
async fn racing_writers_get_one_revision_and_one_conflict() {
    each(|store| async move {
        seeded(&store).await;
        ReleaseRepository::create(&store, &draft("2.4.68")).await.unwrap();
        RevisionRepository::record(&store, &revision("2.4.68", 1, None)).await.unwrap();
        for round in 0..5_u32 {
            let parent = 1 + round;
            let (a, b) = (store.clone(), store.clone());
            let ra = tokio::spawn(async move {
                RevisionRepository::record(&a, &revision("2.4.68", parent + 1, Some(parent))).await
            });
            let rb = tokio::spawn(async move {
                RevisionRepository::record(&b, &revision("2.4.68", parent + 1, Some(parent))).await
            });
            let results = [ra.await.unwrap(), rb.await.unwrap()];
            assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
            let loser = results.into_iter().find(Result::is_err).unwrap();
            assert!(matches!(loser, Err(StoreError::Conflict(_))), "{loser:?}");
        }
        let release = ReleaseRepository::get(&store, &key("2.4.68")).await.unwrap().unwrap();
        assert_eq!(release.latest_revision, Some(rev(6)));
    })
    .await;
}

#[tokio::test]
async fn check_results_replace_per_checker_and_revision() {
    each(|store| async move {
        seeded(&store).await;
        ReleaseRepository::create(&store, &draft("2.4.68")).await.unwrap();
        let result = |status, message: &str| CheckResult {
            release: key("2.4.68"),
            revision: rev(1),
            checker: "signature".into(),
            checker_version: "1".into(),
            path: Some(atr_core::types::ReleasePath::parse("httpd-2.4.68.tar.gz").unwrap()),
            member: None,
            status,
            message: message.into(),
            at: T0,
        };
        RevisionRepository::record_checks(&store, &[result(CheckStatus::Blocker, "bad")]).await.unwrap();
        let mut other = result(CheckStatus::Warning, "old key");
        other.checker = "keys".into();
        let batch = [result(CheckStatus::Success, "good"), other, result(CheckStatus::Note, "a key not in KEYS")];
        RevisionRepository::record_checks(&store, &batch).await.unwrap();
        // Committing the same results again changes nothing.
        RevisionRepository::record_checks(&store, &batch).await.unwrap();
        let checks = RevisionRepository::checks(&store, &key("2.4.68"), rev(1)).await.unwrap();
        let statuses: Vec<(String, CheckStatus)> = checks.iter().map(|c| (c.checker.clone(), c.status)).collect();
        assert_eq!(
            statuses,
            [
                ("signature".into(), CheckStatus::Success),
                ("keys".into(), CheckStatus::Warning),
                ("signature".into(), CheckStatus::Note)
            ]
        );
    })
    .await;
}

fn ballot(voter: Voter, value: VoteValue, at: i64) -> Ballot {
    Ballot {
        release: key("2.4.68"),
        round: VoteRound::Committee,
        voter,
        value,
        comment: None,
        cast_at: T0.plus_seconds(at),
        source: BallotSource::Platform,
    }
}

#[tokio::test]
async fn the_latest_ballot_is_the_active_one() {
    each(|store| async move {
        seeded(&store).await;
        ReleaseRepository::create(&store, &draft("2.4.68")).await.unwrap();
        let alice = Voter::User(uid("alice"));
        BallotRepository::cast(&store, &ballot(alice.clone(), VoteValue::MinusOne, 1)).await.unwrap();
        BallotRepository::cast(&store, &ballot(Voter::Email("x@example.org".into()), VoteValue::PlusOne, 2))
            .await
            .unwrap();
        BallotRepository::cast(&store, &ballot(alice.clone(), VoteValue::PlusOne, 3)).await.unwrap();
        let active = BallotRepository::active(&store, &key("2.4.68"), VoteRound::Committee).await.unwrap();
        assert_eq!(active.len(), 2);
        assert_eq!(active.iter().find(|b| b.voter == alice).unwrap().value, VoteValue::PlusOne);
        assert!(BallotRepository::active(&store, &key("2.4.68"), VoteRound::Parent).await.unwrap().is_empty());
        // Concurrent ballots of one voter: still one active.
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let s = store.clone();
                let v = alice.clone();
                tokio::spawn(async move { BallotRepository::cast(&s, &ballot(v, VoteValue::Zero, 10 + i)).await })
            })
            .collect();
        for t in tasks {
            let result = t.await.unwrap();
            assert!(matches!(result, Ok(()) | Err(StoreError::Conflict(_))), "{result:?}");
        }
        let active = BallotRepository::active(&store, &key("2.4.68"), VoteRound::Committee).await.unwrap();
        assert_eq!(active.iter().filter(|b| b.voter == alice).count(), 1);
    })
    .await;
}

#[tokio::test]
async fn revoking_consent_erases_personal_data_and_keeps_an_anonymous_ballot() {
    each(|store| async move {
        seeded(&store).await;
        ReleaseRepository::create(&store, &draft("2.4.68")).await.unwrap();
        let visitor = uid("visitor");
        let consent = Consent {
            user: visitor.clone(),
            name: "Vi Sitor".into(),
            email: "vi@example.org".into(),
            given_at: T0,
            revoked_at: None,
        };
        PersonRepository::put_consent(&store, &consent).await.unwrap();
        let person = PersonRepository::get(&store, &visitor).await.unwrap().unwrap();
        assert_eq!(person.consent.as_ref().unwrap().email, "vi@example.org");
        BallotRepository::cast(&store, &ballot(Voter::User(visitor.clone()), VoteValue::PlusOne, 5)).await.unwrap();

        let anonymous = Voter::Anonymous("anonymous-42".into());
        PersonRepository::revoke_consent(&store, &visitor, &anonymous, T0.plus_seconds(10)).await.unwrap();
        let person = PersonRepository::get(&store, &visitor).await.unwrap().unwrap();
        let consent = person.consent.unwrap();
        assert_eq!((consent.name.as_str(), consent.email.as_str()), ("", ""));
        assert!(!consent.is_active(T0.plus_seconds(10)));
        let active = BallotRepository::active(&store, &key("2.4.68"), VoteRound::Committee).await.unwrap();
        assert_eq!(active.len(), 1);
        assert_eq!((active[0].voter.clone(), active[0].value), (anonymous.clone(), VoteValue::PlusOne));
        let again = PersonRepository::revoke_consent(&store, &visitor, &anonymous, T0.plus_seconds(20)).await;
        assert!(matches!(again, Err(StoreError::NotFound(_))), "{again:?}");

        store.put_person(&Person { id: uid("root"), asf_member: true, admin: true, consent: None }).await.unwrap();
        let root = PersonRepository::get(&store, &uid("root")).await.unwrap().unwrap();
        assert!(root.admin && root.asf_member && root.consent.is_none());
        assert!(PersonRepository::get(&store, &uid("nobody")).await.unwrap().is_none());
    })
    .await;
}

fn signing_key(fingerprint: &str, owner: &str) -> SigningKey {
    SigningKey {
        fingerprint: Fingerprint::parse(fingerprint).unwrap(),
        owner: Some(uid(owner)),
        algorithm: "RSA".into(),
        bits: Some(4096),
        created_at: T0,
        expires_at: None,
        revoked: false,
        user_ids: vec![format!("{owner} <{owner}@apache.org>")],
        armored: "-----BEGIN PGP PUBLIC KEY BLOCK-----".into(),
        committees: BTreeSet::from([CommitteeKey::parse("httpd").unwrap()]),
        added_at: T0,
    }
}

const FPR_A: &str = "A93D62ECC3C8EA12DB220EC934EA76E6791485A8";
const FPR_B: &str = "B0A1C2D3E4F5061728394A5B6C7D8E9FA0B1C2D3";

#[tokio::test]
async fn keys_are_linked_used_and_kept_while_used() {
    each(|store| async move {
        seeded(&store).await;
        CommitteeRepository::put(&store, &committee("tomcat")).await.unwrap();
        ReleaseRepository::create(&store, &draft("2.4.68")).await.unwrap();
        assert!(KeyRepository::upsert(&store, &signing_key(FPR_A, "alice")).await.unwrap());
        assert!(!KeyRepository::upsert(&store, &signing_key(FPR_A, "alice")).await.unwrap());
        assert!(KeyRepository::upsert(&store, &signing_key(FPR_B, "bob")).await.unwrap());
        let a = Fingerprint::parse(FPR_A).unwrap();
        KeyRepository::link(&store, &a, &CommitteeKey::parse("tomcat").unwrap()).await.unwrap();
        let unknown = KeyRepository::link(&store, &a, &CommitteeKey::parse("nosuch").unwrap()).await;
        assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");
        let got = KeyRepository::get(&store, &a).await.unwrap().unwrap();
        assert_eq!(got.committees.len(), 2);
        let tomcat = KeyRepository::by_committee(&store, &CommitteeKey::parse("tomcat").unwrap()).await.unwrap();
        assert_eq!(tomcat.iter().map(|k| k.fingerprint.clone()).collect::<Vec<_>>(), std::slice::from_ref(&a));
        assert_eq!(KeyRepository::by_committee(&store, &CommitteeKey::parse("httpd").unwrap()).await.unwrap().len(), 2);
        assert_eq!(KeyRepository::find_by_key_id(&store, &a.key_id()).await.unwrap().len(), 1);
        assert_eq!(KeyRepository::by_owner(&store, &uid("bob")).await.unwrap().len(), 1);

        KeyRepository::record_use(&store, &a, &key("2.4.68")).await.unwrap();
        assert_eq!(KeyRepository::releases_signed(&store, &a).await.unwrap(), [key("2.4.68")]);
        let message = conflict(KeyRepository::delete(&store, &a).await);
        assert!(message.contains("2.4.68"), "{message}");
        assert!(KeyRepository::get(&store, &a).await.unwrap().is_some());
        let b = Fingerprint::parse(FPR_B).unwrap();
        KeyRepository::delete(&store, &b).await.unwrap();
        assert!(KeyRepository::get(&store, &b).await.unwrap().is_none());
        assert!(matches!(KeyRepository::delete(&store, &b).await, Err(StoreError::NotFound(_))));
    })
    .await;
}

#[tokio::test]
async fn cves_link_both_ways() {
    each(|store| async move {
        seeded(&store).await;
        for v in ["2.4.67", "2.4.68"] {
            ReleaseRepository::create(&store, &draft(v)).await.unwrap();
        }
        let id = CveId::parse("CVE-2025-12345").unwrap();
        let record = CveRecord {
            id: id.clone(),
            title: "Request smuggling".into(),
            description: "...".into(),
            severity: None,
            cvss: None,
            references: vec![],
            published_at: None,
            affects: BTreeSet::new(),
            resolved_by: BTreeSet::new(),
        };
        CveRepository::put(&store, &record).await.unwrap();
        CveRepository::link(&store, &id, &key("2.4.67"), CveLink::Affects).await.unwrap();
        CveRepository::link(&store, &id, &key("2.4.68"), CveLink::Resolves).await.unwrap();
        let unknown =
            CveRepository::link(&store, &CveId::parse("CVE-2025-99999").unwrap(), &key("2.4.68"), CveLink::Affects)
                .await;
        assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");
        let got = CveRepository::get(&store, &id).await.unwrap().unwrap();
        assert_eq!(got.affects, BTreeSet::from([key("2.4.67")]));
        assert_eq!(got.resolved_by, BTreeSet::from([key("2.4.68")]));
        assert_eq!(
            CveRepository::for_release(&store, &key("2.4.67"), CveLink::Affects).await.unwrap(),
            std::slice::from_ref(&id)
        );
        assert!(CveRepository::for_release(&store, &key("2.4.67"), CveLink::Resolves).await.unwrap().is_empty());
        // Replacing the record keeps its links.
        CveRepository::put(&store, &CveRecord { title: "Smuggling".into(), ..record }).await.unwrap();
        let listed = CveRepository::list(&store, PageRequest::first(10)).await.unwrap();
        assert_eq!((listed.len(), listed[0].title.as_str(), listed[0].affects.len()), (1, "Smuggling", 1));
    })
    .await;
}

#[tokio::test]
async fn a_distribution_record_is_replaced_per_target() {
    each(|store| async move {
        seeded(&store).await;
        ReleaseRepository::create(&store, &draft("2.4.68")).await.unwrap();
        let mut d = Distribution {
            release: key("2.4.68"),
            revision: rev(1),
            platform: Platform::PyPi,
            owner_namespace: "apache".into(),
            package: "httpd".into(),
            version: "2.4.68".into(),
            environment: Environment::Staging,
            status: DistributionStatus::Pending,
            uploaded_at: None,
            api_url: None,
            web_url: None,
        };
        DistributionRepository::put(&store, &d).await.unwrap();
        d.status = DistributionStatus::Done;
        DistributionRepository::put(&store, &d).await.unwrap();
        d.environment = Environment::Production;
        DistributionRepository::put(&store, &d).await.unwrap();
        let got = DistributionRepository::for_release(&store, &key("2.4.68")).await.unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].status, DistributionStatus::Done);
    })
    .await;
}

#[tokio::test]
async fn a_task_is_queued_once() {
    each(|store| async move {
        seeded(&store).await;
        ReleaseRepository::create(&store, &draft("2.4.68")).await.unwrap();
        let task = TaskDescriptor::of(&Analyze { release: key("2.4.68"), revision: rev(1), force: false }).unwrap();
        let first = TaskRepository::enqueue(&store, &task).await.unwrap();
        let again = TaskRepository::enqueue(&store, &task).await.unwrap();
        assert_eq!(first.id, again.id);
        let second = TaskDescriptor::of(&Analyze { release: key("2.4.68"), revision: rev(2), force: false }).unwrap();
        let other = TaskRepository::enqueue(&store, &second).await.unwrap();
        assert_ne!(first.id, other.id);
        assert_eq!(TaskRepository::pending(&store, &key("2.4.68"), rev(1)).await.unwrap(), 1);
        assert_eq!(TaskRepository::pending(&store, &key("2.4.68"), rev(3)).await.unwrap(), 0);
    })
    .await;
}

fn event(project: Option<&str>, release: Option<&str>) -> NewEvent {
    if let Some(v) = release {
        NewEvent::for_release(T0, Actor::User(uid("rm")), &key(v), EventKind::ReleaseStarted)
    } else {
        let mut e = NewEvent::global(T0, Actor::System, EventKind::PolicyChanged);
        e.project = project.map(|p| ProjectKey::parse(p).unwrap());
        e
    }
}

#[tokio::test]
async fn events_are_listed_newest_first_by_filter() {
    each(|store| async move {
        seeded(&store).await;
        let mut ids = Vec::new();
        for e in
            [event(None, None), event(Some("httpd"), None), event(None, Some("2.4.68")), event(None, Some("2.4.67"))]
        {
            ids.push(store_append(&store, &e).await);
        }
        assert_eq!(ids, [1, 2, 3, 4]);
        let all = EventRepository::list(&store, &EventFilter::default(), PageRequest::first(3)).await.unwrap();
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), [4, 3, 2]);
        let rest = EventRepository::list(&store, &EventFilter::default(), PageRequest { after: Some(2), limit: 3 })
            .await
            .unwrap();
        assert_eq!(rest.iter().map(|e| e.id).collect::<Vec<_>>(), [1]);
        let project = EventFilter { project: Some(ProjectKey::parse("httpd").unwrap()), ..EventFilter::default() };
        let listed = EventRepository::list(&store, &project, PageRequest::first(10)).await.unwrap();
        assert_eq!(listed.iter().map(|e| e.id).collect::<Vec<_>>(), [4, 3, 2]);
        let release = EventFilter { release: Some(key("2.4.68")), ..EventFilter::default() };
        let listed = EventRepository::list(&store, &release, PageRequest::first(10)).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].event, event(None, Some("2.4.68")));
    })
    .await;
}

async fn store_append(store: &SqlStore, e: &NewEvent) -> u64 {
    EventRepository::append(store, e).await.unwrap().id
}

/// Runs `body` on a fresh chain of `events` appended events in every engine, with a raw
/// connection for tampering.
async fn tampered<F, Fut>(events: usize, body: F)
where
    F: Fn(SqlStore, sqlx::AnyConnection) -> Fut,
    Fut: Future<Output = ()>,
{
    for db in databases().await {
        for _ in 0..events {
            store_append(&db.store, &event(None, None)).await;
        }
        let conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url).await.unwrap();
        body(db.store.clone(), conn).await;
        db.finish().await;
    }
}

async fn exec(conn: &mut sqlx::AnyConnection, sql: &'static str) {
    sqlx::query(sql).execute(conn).await.unwrap();
}

#[tokio::test]
async fn the_event_chain_holds_under_concurrent_appends() {
    each(|store| async move {
        assert_eq!(store.verify_events().await.unwrap().events, 0);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let s = store.clone();
                tokio::spawn(async move { store_append(&s, &event(None, None)).await })
            })
            .collect();
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        ids.sort_unstable();
        assert_eq!(ids, (1..=8).collect::<Vec<u64>>());
        let report = store.verify_events().await.unwrap();
        assert_eq!((report.events, report.head.len()), (8, 64));
    })
    .await;
}

#[tokio::test]
async fn an_edited_event_is_detected() {
    tampered(5, |store, mut conn| async move {
        exec(&mut conn, "UPDATE events SET data = REPLACE(data, 'policy_changed', 'metadata_changed') WHERE id = 3")
            .await;
        assert_eq!(store.verify_events().await, Err(ChainError::Changed { id: 3 }));
    })
    .await;
}

#[tokio::test]
async fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
    use sha2::{Digest, Sha256};
    use sqlx::Row;
    tampered(5, |store, mut conn| async move {
        let row = sqlx::query("SELECT data, prev_hash FROM events WHERE id = 3").fetch_one(&mut conn).await.unwrap();
        let data: String = row.try_get("data").unwrap();
        let prev: String = row.try_get("prev_hash").unwrap();
        let forged = data.replace("policy_changed", "metadata_changed");
        assert_ne!(forged, data);
        let digest = Sha256::new().chain_update(format!("3\n{prev}\n")).chain_update(&forged).finalize();
        let hash = digest.iter().fold(String::new(), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        });
        sqlx::query("UPDATE events SET data = $1, hash = $2 WHERE id = 3")
            .bind(forged)
            .bind(hash)
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(store.verify_events().await, Err(ChainError::BrokenLink { id: 4 }));
    })
    .await;
}

#[tokio::test]
async fn a_deleted_event_is_detected() {
    tampered(5, |store, mut conn| async move {
        exec(&mut conn, "DELETE FROM events WHERE id = 3").await;
        assert_eq!(store.verify_events().await, Err(ChainError::Missing { expected: 3, found: 4 }));
    })
    .await;
    tampered(5, |store, mut conn| async move {
        exec(&mut conn, "DELETE FROM events WHERE id = 5").await;
        assert_eq!(store.verify_events().await, Err(ChainError::Truncated { expected: 5, found: 4 }));
    })
    .await;
}
