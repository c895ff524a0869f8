//! Check ignores and draft deletion through the real services, on SQLite and on PostgreSQL when
//! `ATR_TEST_DATABASE_URL` names a server: ignores keep the id of the event that added them and
//! silence the results they match; a deleted draft leaves no row, task or folder behind, keeps
//! its history, and its version can be started again.

use std::path::Path;

use atr_core::auth::Principal;
use atr_core::model::{
    CheckIgnore, CheckResult, CheckStatus, Committee, EventKind, Metadata, Person, Project, ReleaseKey, RevisionNumber,
    TaskStatus,
};
use atr_core::policy::{PolicyOverrides, VotePolicy};
use atr_core::ports::{
    Change, CommitteeRepository, EventFilter, EventRepository, FileChange, PageRequest, ProjectRepository,
    ReleaseRepository, RevisionRepository, SearchIndex, StoreError, TaskQueue, UnitOfWork, Write,
};
use atr_core::search::{SearchSubject, SearchTerms};
use atr_core::services::{ServiceError, Services};
use atr_core::types::{CommitteeKey, ProjectKey, ReleasePath, Timestamp, UserId, Version};
use atr_store::testing::databases;
use atr_store::{Storage, StorageConfig};
use bytes::Bytes;

const T0: Timestamp = Timestamp::from_unix(1_750_000_000);

fn httpd() -> ProjectKey {
    ProjectKey::parse("httpd").unwrap()
}

fn key() -> ReleaseKey {
    ReleaseKey::new(httpd(), None, Version::parse("2.4.70").unwrap())
}

fn rm() -> Principal {
    Principal::Person(Person { id: UserId::parse("rm").unwrap(), asf_member: false, admin: false, consent: None })
}

async fn open(dir: &Path, url: &str) -> (Storage, Services) {
    let config = StorageConfig { database_url: Some(url.to_owned()), ..StorageConfig::new(dir) };
    let (storage, _) = Storage::open(&config).await.unwrap();
    let services = Services::new(storage.ports(), VotePolicy::foundation_default()).unwrap();
    (storage, services)
}

async fn seed(storage: &Storage) {
    let mut committee = Committee::new(CommitteeKey::parse("httpd").unwrap(), "HTTP Server");
    committee.release_managers.insert(UserId::parse("rm").unwrap());
    CommitteeRepository::put(&storage.sql, &committee).await.unwrap();
    let project = Project {
        key: httpd(),
        committee: committee.key.clone(),
        metadata: Metadata::default(),
        policy: PolicyOverrides::default(),
        products: Vec::new(),
    };
    ProjectRepository::create(&storage.sql, &project).await.unwrap();
}

fn put(name: &str, content: &str) -> FileChange {
    let reader = std::io::Cursor::new(Bytes::from(content.to_owned()));
    let content: atr_core::ports::ByteStream = Box::pin(tokio_util::io::ReaderStream::new(reader));
    FileChange::Put { path: ReleasePath::parse(name).unwrap(), content }
}

fn result(status: CheckStatus, path: &str, member: Option<&str>) -> CheckResult {
    CheckResult {
        release: key(),
        revision: RevisionNumber::FIRST,
        checker: "license_headers".into(),
        checker_version: "1".into(),
        path: Some(ReleasePath::parse(path).unwrap()),
        member: member.map(str::to_owned),
        status,
        message: "no license header".into(),
        at: T0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignores_keep_their_ids_and_silence_what_they_match() {
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let (storage, services) = open(dir.path(), &db.url).await;
        seed(&storage).await;
        services.start_release(&rm(), key(), T0).await.unwrap();
        services.add_revision(&rm(), &key(), None, vec![put("a-src.tar.gz", "a")], None, T0).await.unwrap();
        storage
            .sql
            .record_checks(&[
                result(CheckStatus::Blocker, "a-src.tar.gz", Some("a/test/data.c")),
                result(CheckStatus::Blocker, "a-src.tar.gz", Some("a/src/main.c")),
            ])
            .await
            .unwrap();
        let tests = CheckIgnore {
            checker_glob: Some("license_*".into()),
            member_glob: Some("*/test/*".into()),
            ..CheckIgnore::new(httpd(), "test data has no header")
        };
        let added = services.add_ignore(&rm(), &httpd(), tests.clone(), T0).await.unwrap();
        let other = CheckIgnore { status: Some(CheckStatus::Warning), ..CheckIgnore::new(httpd(), "warnings") };
        let second = services.add_ignore(&rm(), &httpd(), other, T0).await.unwrap();
        assert!(second.id > added.id, "{} then {}", added.id, second.id);
        // The id is the event's that recorded the addition.
        let events =
            EventRepository::list(&storage.sql, &EventFilter::default(), PageRequest::first(50)).await.unwrap();
        let adding: Vec<u64> =
            events.iter().filter(|e| e.event.kind == EventKind::IgnoreAdded).map(|e| e.id).rev().collect();
        assert_eq!(adding, vec![added.id, second.id]);
        // The same selectors again are refused, naming the ignore that has them.
        let again = services.add_ignore(&rm(), &httpd(), tests, T0).await.unwrap_err();
        assert!(matches!(&again, ServiceError::Conflict(m) if m.contains(&format!("(id {})", added.id))), "{again}");

        // Read back after a restart, with their ids and every selector.
        storage.sql.close().await;
        let (storage, services) = open(dir.path(), &db.url).await;
        let listed = services.list_ignores(&httpd()).await.unwrap();
        assert_eq!(listed, vec![added.clone(), second.clone()]);
        assert_eq!(listed[0].member_glob.as_deref(), Some("*/test/*"));
        let reviewed = services.reviewed_checks(&rm(), &key(), RevisionNumber::FIRST, T0).await.unwrap();
        let by_member: Vec<(Option<&str>, Option<u64>)> =
            reviewed.iter().map(|c| (c.result.member.as_deref(), c.ignored_by)).collect();
        assert!(by_member.contains(&(Some("a/test/data.c"), Some(added.id))), "{by_member:?}");
        assert!(by_member.contains(&(Some("a/src/main.c"), None)), "{by_member:?}");

        let deleted = services.delete_ignore(&rm(), &httpd(), added.id, T0).await.unwrap();
        assert_eq!(deleted, added);
        assert_eq!(services.list_ignores(&httpd()).await.unwrap(), vec![second.clone()]);
        let gone = services.delete_ignore(&rm(), &httpd(), added.id, T0).await.unwrap_err();
        assert!(matches!(gone, ServiceError::NotFound(_)), "{gone}");
        // An ignore needs its event for an id: a change without one stores nothing.
        let alone = UnitOfWork::commit(&storage.sql, Change::new().write(Write::AddIgnore(second))).await;
        assert!(matches!(alone, Err(StoreError::Refused(_))), "{alone:?}");
        assert_eq!(services.list_ignores(&httpd()).await.unwrap().len(), 1);
        storage.sql.close().await;
        db.finish().await;
    }
}

/// How many queued tasks are about the release.
async fn queued_of_release(storage: &Storage) -> usize {
    let queued = TaskQueue::with_status(&storage.sql, TaskStatus::Queued, PageRequest::first(100)).await.unwrap();
    queued.iter().filter(|t| t.release.as_ref() == Some(&key())).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_draft_leaves_nothing_but_its_history_and_can_start_again() {
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let (storage, services) = open(dir.path(), &db.url).await;
        seed(&storage).await;
        services.start_release(&rm(), key(), T0).await.unwrap();
        let first = services.add_revision(&rm(), &key(), None, vec![put("a.tar.gz", "one")], None, T0).await.unwrap();
        let stale = ReleaseRepository::get(&storage.sql, &key()).await.unwrap().unwrap();
        services
            .add_revision(&rm(), &key(), Some(first.revision.number), vec![put("b.txt", "two")], None, T0)
            .await
            .unwrap();
        storage.sql.record_checks(&[result(CheckStatus::Blocker, "a.tar.gz", None)]).await.unwrap();
        assert_eq!(queued_of_release(&storage).await, 2, "an Analyze task for each revision");
        let folder = storage.files.revision_path(&key(), first.revision.number);
        assert!(folder.exists(), "{}", folder.display());

        // A delete of the release as it was before the second upload is refused whole.
        let change = Change::new().write(Write::DeleteRelease(stale));
        let refused = UnitOfWork::commit(&storage.sql, change).await.unwrap_err();
        assert!(matches!(&refused, StoreError::Conflict(m) if m.contains("moved on")), "{refused}");
        assert!(ReleaseRepository::get(&storage.sql, &key()).await.unwrap().is_some());

        let deleted = services.delete_draft(&rm(), &key(), T0).await.unwrap();
        assert_eq!(deleted.files_left, None);
        assert_eq!(deleted.release.latest_revision, RevisionNumber::new(2));
        assert!(ReleaseRepository::get(&storage.sql, &key()).await.unwrap().is_none());
        let revisions = RevisionRepository::list(&storage.sql, &key(), PageRequest::first(10)).await;
        assert!(matches!(revisions, Err(StoreError::NotFound(_))), "{revisions:?}");
        let checks = RevisionRepository::checks(&storage.sql, &key(), RevisionNumber::FIRST).await;
        assert!(
            matches!(&checks, Err(StoreError::NotFound(_))) || checks.as_ref().is_ok_and(Vec::is_empty),
            "{checks:?}"
        );
        assert_eq!(queued_of_release(&storage).await, 0, "its tasks went with it");
        for number in [1, 2] {
            assert!(!storage.files.revision_path(&key(), RevisionNumber::new(number).unwrap()).exists());
        }
        let hits = storage.sql.search(&SearchTerms::parse("2.4.70").unwrap(), 10).await.unwrap();
        assert!(!hits.iter().any(|h| matches!(&h.subject, SearchSubject::Release(_))), "{hits:?}");
        // Its history stays, with the deletion last.
        let filter = EventFilter { release: Some(key()), ..EventFilter::default() };
        let history = EventRepository::list(&storage.sql, &filter, PageRequest::first(10)).await.unwrap();
        let kinds: Vec<&EventKind> = history.iter().map(|e| &e.event.kind).collect();
        assert_eq!(kinds.first(), Some(&&EventKind::DraftDeleted { revisions: 2 }), "{kinds:?}");
        assert_eq!(kinds.len(), 4, "{kinds:?}");

        // The version starts again, after a restart too, and its revision numbers go on after the
        // deleted draft's: a number is never used twice.
        storage.sql.close().await;
        let (storage, services) = open(dir.path(), &db.url).await;
        assert_eq!(ReleaseRepository::numbered_after(&storage.sql, &key()).await.unwrap(), RevisionNumber::new(2));
        services.start_release(&rm(), key(), T0).await.unwrap();
        let again = services.add_revision(&rm(), &key(), None, vec![put("c.txt", "three")], None, T0).await.unwrap();
        assert_eq!(again.revision.number, RevisionNumber::new(3).unwrap());
        assert_eq!(again.revision.parent, None);
        let files: Vec<String> = again.revision.files.iter().map(|f| f.path.to_string()).collect();
        assert_eq!(files, ["c.txt"]);
        let three = RevisionNumber::new(3).unwrap();
        assert!(services.reviewed_checks(&rm(), &key(), three, T0).await.unwrap().is_empty());
        // Deleted again before any upload, the floor stays where it was: it never goes down.
        services.delete_draft(&rm(), &key(), T0).await.unwrap();
        assert_eq!(ReleaseRepository::numbered_after(&storage.sql, &key()).await.unwrap(), Some(three));
        services.start_release(&rm(), key(), T0).await.unwrap();
        services.delete_draft(&rm(), &key(), T0).await.unwrap();
        assert_eq!(ReleaseRepository::numbered_after(&storage.sql, &key()).await.unwrap(), Some(three));
        storage.sql.close().await;
        db.finish().await;
    }
}
