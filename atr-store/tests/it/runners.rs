//! The task runners' registrations and heartbeats, and the tasks of a revision, through the store
//! and the core's `TaskQueue` port: SQLite always, PostgreSQL when `ATR_TEST_DATABASE_URL` names
//! a server.

use std::future::Future;

use atr_core::model::{
    Analyze, Committee, Metadata, Project, Release, ReleaseKey, RevisionNumber, TaskDescriptor, TaskStatus,
};
use atr_core::policy::PolicyOverrides;
use atr_core::ports::{
    CommitteeRepository, ProjectRepository, ReleaseRepository, RunnerRecord, TaskQueue, TaskRepository,
};
use atr_core::types::{CommitteeKey, ProjectKey, Timestamp, UserId, Version};
use atr_store::sql::{RUNNER_RETENTION_MS, SqlStore};
use atr_store::testing::databases;

const T0_MS: i64 = 1_750_000_000_000;

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

fn runner(id: &str, kinds: &[&str], at_ms: i64) -> RunnerRecord {
    RunnerRecord {
        id: id.into(),
        name: format!("{id}-lease"),
        host: "build1.example.org".into(),
        pid: 4242,
        kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
        concurrency: 3,
        started_at_ms: at_ms,
        last_seen_ms: at_ms,
        stopped_at_ms: None,
    }
}

fn key(version: &str) -> ReleaseKey {
    ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse(version).unwrap())
}

fn rev(n: u32) -> RevisionNumber {
    RevisionNumber::new(n).unwrap()
}

async fn seeded(store: &SqlStore) {
    let committee = Committee::new(CommitteeKey::parse("httpd").unwrap(), "httpd");
    CommitteeRepository::put(store, &committee).await.unwrap();
    let project = Project {
        key: ProjectKey::parse("httpd").unwrap(),
        committee: CommitteeKey::parse("httpd").unwrap(),
        metadata: Metadata { display_name: "httpd".into(), ..Metadata::default() },
        policy: PolicyOverrides::default(),
        products: Vec::new(),
    };
    ProjectRepository::create(store, &project).await.unwrap();
    let draft = Release::new_draft(
        key("2.4.68"),
        CommitteeKey::parse("httpd").unwrap(),
        UserId::parse("rm").unwrap(),
        Timestamp::from_unix(T0_MS / 1000),
    );
    ReleaseRepository::create(store, &draft).await.unwrap();
}

#[tokio::test]
async fn a_runner_registers_beats_and_stops() {
    each(|store| async move {
        assert!(TaskQueue::runners(&store).await.unwrap().is_empty(), "no runner has ever run");
        store.register_runner(&runner("a", &["analyze"], T0_MS)).await.unwrap();
        store.register_runner(&runner("b", &["analyze", "report"], T0_MS + 1_000)).await.unwrap();
        // Listed through the core's port, the most recently seen first, with what they registered.
        let listed = TaskQueue::runners(&store).await.unwrap();
        assert_eq!(listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(listed[0], runner("b", &["analyze", "report"], T0_MS + 1_000));

        // A heartbeat moves last_seen and the concurrency, nothing else.
        assert!(store.runner_heartbeat("a", T0_MS + 10_000, 1).await.unwrap());
        let listed = TaskQueue::runners(&store).await.unwrap();
        assert_eq!(listed[0].id, "a");
        assert_eq!((listed[0].last_seen_ms, listed[0].concurrency), (T0_MS + 10_000, 1));
        assert_eq!(listed[0].started_at_ms, T0_MS);
        // An unknown runner's heartbeat says so, and writes nothing.
        assert!(!store.runner_heartbeat("ghost", T0_MS + 10_000, 1).await.unwrap());
        assert_eq!(TaskQueue::runners(&store).await.unwrap().len(), 2);

        // A graceful stop marks it stopped, seen last then; its heartbeat no longer counts.
        store.runner_stopped("a", T0_MS + 12_000).await.unwrap();
        let a = TaskQueue::runners(&store).await.unwrap().into_iter().find(|r| r.id == "a").unwrap();
        assert_eq!((a.stopped_at_ms, a.last_seen_ms), (Some(T0_MS + 12_000), T0_MS + 12_000));
        assert!(!store.runner_heartbeat("a", T0_MS + 20_000, 1).await.unwrap());
        // Registering the same id again makes it a running runner once more.
        store.register_runner(&runner("a", &["analyze"], T0_MS + 30_000)).await.unwrap();
        let a = TaskQueue::runners(&store).await.unwrap().into_iter().find(|r| r.id == "a").unwrap();
        assert_eq!(a, runner("a", &["analyze"], T0_MS + 30_000));
        // Stopping an unknown runner changes nothing.
        store.runner_stopped("ghost", T0_MS + 31_000).await.unwrap();
        assert_eq!(TaskQueue::runners(&store).await.unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn runners_unseen_for_long_are_forgotten_except_the_last_one_seen() {
    each(|store| async move {
        let week = RUNNER_RETENTION_MS;
        store.register_runner(&runner("oldest", &["analyze"], T0_MS)).await.unwrap();
        store.register_runner(&runner("old", &["analyze"], T0_MS + 1_000)).await.unwrap();
        store.runner_stopped("old", T0_MS + 2_000).await.unwrap();
        // A week and more later a runner starts: the oldest goes, the last one seen stays.
        store.register_runner(&runner("new", &["analyze"], T0_MS + 3_000 + week)).await.unwrap();
        let ids: Vec<String> = TaskQueue::runners(&store).await.unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["new", "old"]);
    })
    .await;
}

#[tokio::test]
async fn the_tasks_of_a_revision_are_listed_newest_first() {
    each(|store| async move {
        seeded(&store).await;
        assert!(TaskQueue::revision_tasks(&store, &key("9.9.9"), rev(1)).await.unwrap().is_empty(), "unknown release");
        let first = TaskRepository::enqueue(
            &store,
            &TaskDescriptor::of(&Analyze { release: key("2.4.68"), revision: rev(1), force: false }).unwrap(),
        )
        .await
        .unwrap();
        // Queued through the port at the store's clock: claimed now.
        let now =
            i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis())
                .unwrap();
        let claimed = store.claim_task(&["analyze"], "w", now, 60_000).await.unwrap().unwrap();
        assert_eq!(claimed.id, i64::try_from(first.id).unwrap());
        store.fail_task(claimed.id, claimed.fence, "timed out after 1 s", now, now).await.unwrap();
        // It went back to the queue for another attempt; then it is cancelled.
        assert!(TaskQueue::cancel(&store, first.id).await.unwrap());
        let second = TaskRepository::enqueue(
            &store,
            &TaskDescriptor::of(&Analyze { release: key("2.4.68"), revision: rev(1), force: false }).unwrap(),
        )
        .await
        .unwrap();
        let other = TaskRepository::enqueue(
            &store,
            &TaskDescriptor::of(&Analyze { release: key("2.4.68"), revision: rev(2), force: false }).unwrap(),
        )
        .await
        .unwrap();
        let tasks = TaskQueue::revision_tasks(&store, &key("2.4.68"), rev(1)).await.unwrap();
        assert_eq!(
            tasks.iter().map(|t| (t.id, t.status)).collect::<Vec<_>>(),
            [(second.id, TaskStatus::Queued), (first.id, TaskStatus::Cancelled)]
        );
        assert!(tasks.iter().all(|t| t.kind == "analyze" && t.release == Some(key("2.4.68"))));
        let tasks = TaskQueue::revision_tasks(&store, &key("2.4.68"), rev(2)).await.unwrap();
        assert_eq!(tasks.iter().map(|t| t.id).collect::<Vec<_>>(), [other.id]);
    })
    .await;
}
