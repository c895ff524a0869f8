//! The crash loop for runners: several `atr worker`s share the queue of Analyze tasks of a real
//! release (the httpd 2.4.68 tarball, so that each task takes a while), and one of them is killed
//! with SIGKILL at random moments and started again, over and over, until every task is done.
//! Then every task has completed, exactly once: each revision has one `ChecksRecorded` event (the
//! effect log: the event is written with the task's fenced completion, so a runner that lost its
//! lease cannot add a second) and its check run; and tasks whose runner was killed were taken over
//! once their short lease (`--lease-secs 2`) ran out.
//!
//! `ATR_RUNNER_KILLS` bounds the kills (12 by default), `ATR_RUNNER_TASKS` sets how many tasks
//! (6), and `ATR_CRASH_SEED` seeds the kills' moments and victims. A task whose runner is killed
//! in each of its 5 attempts fails for good, by design (a task that kills its runner must not run
//! forever); the harness's pace keeps that unlikely, and it fails the run if it happens.
//! On SQLite, and on PostgreSQL as well when `ATR_TEST_DATABASE_URL` names a server.

#[expect(dead_code, reason = "this harness checks no digest: the shared hex helper goes unused")]
mod support;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use atr_core::model::{EventKind, ReleaseKey, RevisionNumber, TaskStatus};
use atr_core::ports::{EventFilter, EventRepository, PageRequest, RevisionRepository};
use atr_core::types::{ProjectKey, Version};
use atr_store::StorageConfig;
use atr_store::sql::SqlStore;

use support::{Running, atr};

const PASSWORD: &str = "atr-demo-password";
const VERSION: &str = "9.0.0";
/// Revisions uploaded, each with its Analyze task, unless `ATR_RUNNER_TASKS` says otherwise.
const REVISIONS: u32 = 6;
/// Runners sharing the queue.
const RUNNERS: usize = 3;

fn succeeded(command: &mut Command) -> String {
    let output = command.stdin(Stdio::null()).output().unwrap();
    assert!(output.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn worker(config: &StorageConfig, n: usize) -> Running {
    let child = atr(config)
        .args(["worker", "--concurrency", "1", "--lease-secs", "2", "--name", &format!("crash-{n}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Running(child)
}

/// The folder holding the real httpd release.
fn httpd_tarball() -> PathBuf {
    let dir = std::env::var_os("ATR_HTTPD_FIXTURE").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fixtures/httpd-2.4.68"),
        PathBuf::from,
    );
    dir.join("httpd-2.4.68.tar.gz")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_task_completes_once_although_runners_are_killed() {
    for db in atr_store::testing::databases().await {
        let data = tempfile::tempdir().unwrap();
        crash_loop(&StorageConfig { database_url: Some(db.url.clone()), ..StorageConfig::new(data.path()) }).await;
        db.finish().await;
    }
}

async fn crash_loop(config: &StorageConfig) {
    let kills = std::env::var("ATR_RUNNER_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(12u32);
    let revisions = std::env::var("ATR_RUNNER_TASKS").ok().and_then(|v| v.parse().ok()).unwrap_or(REVISIONS);
    let mut seed: u64 = std::env::var("ATR_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED_2026) | 1;
    let mut random = move |bound: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    };
    let (_server, address) = serve(config);
    let token = succeeded(
        atr(config)
            .args(["--server", &address, "token", "create", "--user", "rm", "--project", "httpd"])
            .args(["--action", "manage_release"])
            .env("ATR_PASSWORD", PASSWORD),
    )
    .trim()
    .to_owned();
    succeeded(atr(config).args(["--server", &address, "release", "start", "httpd", VERSION]).env("ATR_TOKEN", &token));

    // Revision 1 holds the tarball; each next one adds a small file, so that every revision has
    // inputs of its own and its checks read the whole tarball again.
    let http = reqwest::Client::new();
    let mut tasks: BTreeMap<u32, i64> = BTreeMap::new();
    for n in 1..=revisions {
        let (name, body) = if n == 1 {
            ("httpd-2.4.68.tar.gz".to_owned(), std::fs::read(httpd_tarball()).unwrap())
        } else {
            (format!("note-{n}.txt"), format!("revision {n}\n").into_bytes())
        };
        let url = format!("{address}/api/projects/httpd/releases/{VERSION}/files/{name}");
        let answer = http.put(&url).bearer_auth(&token).body(body).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 201);
        let answer: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(answer["revision"]["number"], n, "{answer}");
        tasks.insert(n, answer["analyze_task"]["id"].as_i64().unwrap());
    }

    let store = SqlStore::open(config.database_url.as_deref().unwrap()).await.unwrap();
    let mut runners: Vec<Running> = (0..RUNNERS).map(|n| worker(config, n)).collect();
    let started = Instant::now();
    let deadline = started + Duration::from_mins(4);
    let mut killed = 0u32;
    let mut spawned = RUNNERS;
    loop {
        let mut done = 0;
        for id in tasks.values() {
            let task = store.task(*id).await.unwrap().unwrap();
            assert_ne!(task.status, TaskStatus::Failed, "task {id} failed: {:?}", task.error);
            done += usize::from(task.status == TaskStatus::Completed);
        }
        if done == tasks.len() {
            break;
        }
        assert!(Instant::now() < deadline, "{done} of {} tasks done after {:?}", tasks.len(), started.elapsed());
        tokio::time::sleep(Duration::from_millis(300 + random(900))).await;
        if killed < kills {
            let victim = usize::try_from(random(u64::try_from(RUNNERS).unwrap())).unwrap();
            // Dropping the old one kills it; the new one takes its place at once.
            runners[victim] = worker(config, spawned);
            (killed, spawned) = (killed + 1, spawned + 1);
        }
    }
    let took = started.elapsed();
    drop(runners);

    // Exactly once: one ChecksRecorded event and one check run per revision.
    let key = ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse(VERSION).unwrap());
    let recorded = checks_recorded(&store, &key).await;
    let once: BTreeMap<u32, usize> = (1..=revisions).map(|n| (n, 1)).collect();
    assert_eq!(recorded, once, "each revision's checks were recorded once");
    let mut retried = 0;
    for (n, id) in &tasks {
        let run = RevisionRepository::check_run(&store, &key, RevisionNumber::new(*n).unwrap()).await.unwrap();
        assert!(run.is_some_and(|run| run.counts.successes > 0), "revision {n} has its check run");
        let task = store.task(*id).await.unwrap().unwrap();
        retried += usize::from(task.attempts > 1);
    }
    eprintln!(
        "{}: {} tasks done in {took:?} with {killed} kills; {retried} tasks were taken over from a killed runner",
        if config.database_url.as_deref().is_some_and(|u| u.starts_with("postgres")) { "PostgreSQL" } else { "SQLite" },
        tasks.len()
    );
    store.close().await;
}

/// How many `ChecksRecorded` events each revision of the release has.
async fn checks_recorded(store: &SqlStore, key: &ReleaseKey) -> BTreeMap<u32, usize> {
    let filter = EventFilter { release: Some(key.clone()), ..EventFilter::default() };
    let mut events = Vec::new();
    loop {
        let page = PageRequest { after: events.last().map(|e: &atr_core::model::Event| e.id), limit: 500 };
        let more = EventRepository::list(store, &filter, page).await.unwrap();
        if more.is_empty() {
            break;
        }
        events.extend(more);
    }
    let mut recorded: BTreeMap<u32, usize> = BTreeMap::new();
    for event in &events {
        if let (EventKind::ChecksRecorded { revision, .. }, Some(release)) = (&event.event.kind, &event.event.release)
            && release == key
        {
            *recorded.entry(revision.get()).or_default() += 1;
        }
    }
    recorded
}

/// `atr serve --demo` without a runner of its own; answers it and its address.
fn serve(config: &StorageConfig) -> (Running, String) {
    let mut server = atr(config)
        .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--no-worker"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let address = first.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_owned();
    lines.by_ref().map(Result::unwrap).find(|l| l.starts_with("demo loaded")).unwrap();
    std::thread::spawn(move || lines.for_each(drop));
    (Running(server), address)
}
