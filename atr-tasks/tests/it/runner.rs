//! The task runner against real databases: SQLite always, PostgreSQL when configured.

use std::collections::BTreeSet;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use atr_core::model::TaskStatus;
use atr_store::sql::{NewTask, QueuedTask, SqlStore};
use atr_store::testing::databases;
use atr_tasks::runner::{LoadSample, Runner, RunnerConfig, Shutdown, TaskFailure, TaskHandler, TaskOutput, adjust};
use serde_json::json;

fn now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

async fn each<F, Fut>(body: F)
where
    F: Fn(SqlStore, String) -> Fut,
    Fut: Future<Output = ()>,
{
    for db in databases().await {
        body(db.store.clone(), db.url.clone()).await;
        db.finish().await;
    }
}

fn task(n: u32) -> NewTask {
    NewTask {
        kind: "test".into(),
        args: json!({ "n": n }),
        release: None,
        revision: None,
        priority: 0,
        max_attempts: 3,
        scheduled_at_ms: now_ms(),
    }
}

fn fast(owner: &str) -> RunnerConfig {
    RunnerConfig {
        owner: owner.into(),
        host: "test-host".into(),
        presence_interval: Duration::from_millis(100),
        min_concurrency: 1,
        max_concurrency: 4,
        initial_concurrency: 4,
        lease: Duration::from_millis(600),
        heartbeat: Duration::from_millis(150),
        poll_interval: Duration::from_millis(20),
        task_timeout: Duration::from_secs(10),
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_secs(1),
        shutdown_grace: Duration::from_millis(300),
        adaptive: false,
        adapt_interval: Duration::from_secs(10),
    }
}

/// Records what ran, and fails when a task runs twice at the same time.
#[derive(Default)]
struct Recorder {
    active: Mutex<BTreeSet<i64>>,
    runs: Mutex<Vec<i64>>,
    overlaps: AtomicU32,
    delay: Duration,
    /// Fail this many first attempts of every task.
    fail_first: u32,
    hang: bool,
    dropped: Arc<AtomicBool>,
}

struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl TaskHandler for Recorder {
    fn kind(&self) -> &'static str {
        "test"
    }

    async fn run(&self, task: &QueuedTask) -> Result<TaskOutput, TaskFailure> {
        let _flag = DropFlag(self.dropped.clone());
        if !self.active.lock().unwrap().insert(task.id) {
            self.overlaps.fetch_add(1, Ordering::SeqCst);
        }
        self.runs.lock().unwrap().push(task.id);
        if self.hang {
            tokio::time::sleep(Duration::from_hours(1)).await;
        }
        tokio::time::sleep(self.delay).await;
        self.active.lock().unwrap().remove(&task.id);
        if task.attempts <= self.fail_first {
            return Err(TaskFailure(format!("attempt {} broke", task.attempts)));
        }
        Ok(TaskOutput { result: json!({ "done": task.args["n"] }), ..TaskOutput::default() })
    }
}

/// Runs `runners` runners until `done` says so (or 20 s), then shuts them down.
async fn run_until(runners: Vec<Runner>, done: impl Fn() -> bool) -> Vec<Runner> {
    let (shutdown, rx) = Shutdown::new();
    let runners: Vec<Arc<Runner>> = runners.into_iter().map(Arc::new).collect();
    let handles: Vec<_> = runners
        .iter()
        .map(|r| {
            let r = r.clone();
            let rx = rx.clone();
            tokio::spawn(async move { r.run(rx).await })
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.trigger();
    for h in handles {
        h.await.unwrap();
    }
    runners.into_iter().map(|r| Arc::try_unwrap(r).unwrap()).collect()
}

async fn count(store: &SqlStore, status: TaskStatus) -> usize {
    store.tasks_with_status(status, 1000).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_runners_run_each_task_once() {
    each(|store, _| async move {
        for n in 0..40 {
            store.queue_task(&task(n), now_ms()).await.unwrap();
        }
        let recorder = Arc::new(Recorder { delay: Duration::from_millis(15), ..Recorder::default() });
        // Claims are what is tested here, not lease expiry: a lease long enough that a heartbeat
        // held up by a loaded machine never lets another runner take a task over.
        let config = |i: usize| RunnerConfig { lease: Duration::from_secs(10), ..fast(&format!("runner-{i}")) };
        let runners: Vec<Runner> =
            (0..3).map(|i| Runner::new(store.clone(), config(i)).with(recorder.clone())).collect();
        let probe = store.clone();
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        tokio::spawn(async move {
            while count(&probe, TaskStatus::Completed).await < 40 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            flag.store(true, Ordering::SeqCst);
        });
        let runners = run_until(runners, || done.load(Ordering::SeqCst)).await;
        assert_eq!(count(&store, TaskStatus::Completed).await, 40);
        let runs = recorder.runs.lock().unwrap().clone();
        assert_eq!(runs.len(), 40, "a task ran more than once: {runs:?}");
        assert_eq!(runs.iter().collect::<BTreeSet<_>>().len(), 40);
        assert_eq!(recorder.overlaps.load(Ordering::SeqCst), 0);
        // The work was shared, and every runner reports what it did.
        let completed: u64 = runners.iter().map(|r| r.status().completed).sum();
        assert_eq!(completed, 40);
        let status = runners[0].status_with_queue().await.unwrap();
        assert!(status.queue.contains(&("test".into(), "completed".into(), 40)), "{:?}", status.queue);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_work_is_queued_once() {
    each(|store, _| async move {
        let (first, created) = store.queue_task(&task(1), now_ms()).await.unwrap();
        assert!(created);
        let (again, created) = store.queue_task(&task(1), now_ms()).await.unwrap();
        assert!(!created);
        assert_eq!(first.id, again.id);
        let (other, created) = store.queue_task(&task(2), now_ms()).await.unwrap();
        assert!(created && other.id != first.id);
        // Once the work is done, it may be queued again.
        let claimed = store.claim_task(&["test"], "w", now_ms(), 1000).await.unwrap().unwrap();
        store.complete_task(claimed.id, claimed.fence, &json!(null), &[], now_ms()).await.unwrap();
        let n = claimed.args["n"].as_u64().unwrap();
        let (later, created) = store.queue_task(&task(u32::try_from(n).unwrap()), now_ms()).await.unwrap();
        assert!(created && later.id != claimed.id);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_is_claimed_again_and_the_old_holder_cannot_commit() {
    each(|store, _| async move {
        let (queued, _) = store.queue_task(&task(1), now_ms()).await.unwrap();
        let first = store.claim_task(&["test"], "dead", now_ms(), 200).await.unwrap().unwrap();
        assert_eq!((first.id, first.attempts, first.lease_owner.as_deref()), (queued.id, 1, Some("dead")));
        // While the lease holds, nobody else gets it.
        assert!(store.claim_task(&["test"], "other", now_ms(), 200).await.unwrap().is_none());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let second = store.claim_task(&["test"], "other", now_ms(), 5000).await.unwrap().unwrap();
        assert_eq!((second.id, second.attempts), (queued.id, 2));
        assert!(second.fence > first.fence);
        // Fencing: the first holder can neither renew, nor complete, nor fail, nor give back.
        assert!(!store.renew_lease(first.id, first.fence, now_ms(), 1000).await.unwrap());
        assert!(store.complete_task(first.id, first.fence, &json!("stale"), &[], now_ms()).await.is_err());
        assert!(store.fail_task(first.id, first.fence, "stale", now_ms(), now_ms()).await.is_err());
        assert!(store.release_task(first.id, first.fence, now_ms()).await.is_err());
        store.complete_task(second.id, second.fence, &json!("fresh"), &[], now_ms()).await.unwrap();
        let done = store.task(queued.id).await.unwrap().unwrap();
        assert_eq!((done.status, done.result), (TaskStatus::Completed, Some(json!("fresh"))));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_back_off_then_fail_for_good() {
    each(|store, _| async move {
        let config = fast("r");
        assert_eq!(config.backoff(1), Duration::from_millis(100));
        assert_eq!(config.backoff(2), Duration::from_millis(200));
        assert_eq!(config.backoff(3), Duration::from_millis(400));
        assert_eq!(config.backoff(30), Duration::from_secs(1));

        let (queued, _) = store.queue_task(&task(1), now_ms()).await.unwrap();
        let claimed = store.claim_task(&["test"], "w", now_ms(), 5000).await.unwrap().unwrap();
        let before = now_ms();
        let status = store.fail_task(claimed.id, claimed.fence, "boom", before, before + 10_000).await.unwrap();
        assert_eq!(status, TaskStatus::Queued);
        // Not claimable before its time.
        assert!(store.claim_task(&["test"], "w", now_ms(), 5000).await.unwrap().is_none());
        let t = store.task(queued.id).await.unwrap().unwrap();
        assert_eq!((t.scheduled_at_ms, t.error.as_deref()), (before + 10_000, Some("boom")));

        // A runner retries with backoff: two failed attempts, then success on the third.
        let (second, _) = store.queue_task(&task(2), now_ms()).await.unwrap();
        let recorder = Arc::new(Recorder { fail_first: 2, ..Recorder::default() });
        let runner = Runner::new(store.clone(), fast("r")).with(recorder.clone());
        let probe = store.clone();
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let id = second.id;
        tokio::spawn(async move {
            while probe.task(id).await.unwrap().unwrap().status != TaskStatus::Completed {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            flag.store(true, Ordering::SeqCst);
        });
        let started = std::time::Instant::now();
        let runners = run_until(vec![runner], || done.load(Ordering::SeqCst)).await;
        let t = store.task(id).await.unwrap().unwrap();
        assert_eq!((t.status, t.attempts), (TaskStatus::Completed, 3));
        // 100 ms then 200 ms of backoff at least.
        assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
        assert_eq!(runners[0].status().failed_attempts, 2);

        // Out of attempts: failed for good, with the last error.
        let (third, _) = store.queue_task(&NewTask { max_attempts: 1, ..task(3) }, now_ms()).await.unwrap();
        let claimed = store.claim_task(&["test"], "w", now_ms(), 5000).await.unwrap().unwrap();
        assert_eq!(claimed.id, third.id);
        let status = store.fail_task(claimed.id, claimed.fence, "broken", now_ms(), now_ms()).await.unwrap();
        assert_eq!(status, TaskStatus::Failed);
        // And it can be retried by hand.
        let retried = store.retry_task(third.id, now_ms()).await.unwrap();
        assert_eq!((retried.status, retried.attempts), (TaskStatus::Queued, 0));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_task_stops_and_a_queued_one_never_runs() {
    each(|store, _| async move {
        let (queued, _) = store.queue_task(&task(1), now_ms()).await.unwrap();
        assert!(store.cancel_task(queued.id, now_ms()).await.unwrap());
        assert!(!store.cancel_task(queued.id, now_ms()).await.unwrap());
        assert!(store.claim_task(&["test"], "w", now_ms(), 5000).await.unwrap().is_none());

        let (running, _) = store.queue_task(&task(2), now_ms()).await.unwrap();
        let recorder = Arc::new(Recorder { hang: true, ..Recorder::default() });
        let runner = Runner::new(store.clone(), fast("r")).with(recorder.clone());
        let probe = store.clone();
        let dropped = recorder.dropped.clone();
        let id = running.id;
        tokio::spawn(async move {
            while probe.task(id).await.unwrap().unwrap().status != TaskStatus::Active {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            probe.cancel_task(id, now_ms()).await.unwrap();
        });
        let runners = run_until(vec![runner], || dropped.load(Ordering::SeqCst)).await;
        assert!(recorder.dropped.load(Ordering::SeqCst), "the handler was not stopped");
        let t = store.task(id).await.unwrap().unwrap();
        assert_eq!(t.status, TaskStatus::Cancelled);
        assert_eq!(runners[0].status().completed, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_that_runs_too_long_times_out() {
    each(|store, _| async move {
        let (queued, _) = store.queue_task(&NewTask { max_attempts: 1, ..task(1) }, now_ms()).await.unwrap();
        let recorder = Arc::new(Recorder { hang: true, ..Recorder::default() });
        let config = RunnerConfig { task_timeout: Duration::from_millis(300), ..fast("r") };
        let runner = Runner::new(store.clone(), config).with(recorder);
        let probe = store.clone();
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        tokio::spawn(async move {
            while probe.task(queued.id).await.unwrap().unwrap().status != TaskStatus::Failed {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            flag.store(true, Ordering::SeqCst);
        });
        let runners = run_until(vec![runner], || done.load(Ordering::SeqCst)).await;
        let t = store.task(queued.id).await.unwrap().unwrap();
        assert_eq!(t.status, TaskStatus::Failed);
        assert!(t.error.as_deref().unwrap().contains("timed out"), "{t:?}");
        assert_eq!(runners[0].status().timeouts, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_unfinished_tasks_back() {
    each(|store, _| async move {
        let (queued, _) = store.queue_task(&task(1), now_ms()).await.unwrap();
        let recorder = Arc::new(Recorder { hang: true, ..Recorder::default() });
        let runner = Runner::new(store.clone(), fast("r")).with(recorder.clone());
        let runs = recorder.clone();
        run_until(vec![runner], || !runs.runs.lock().unwrap().is_empty()).await;
        let t = store.task(queued.id).await.unwrap().unwrap();
        assert_eq!((t.status, t.attempts, t.lease_owner), (TaskStatus::Queued, 0, None));
        // Another runner picks it up at once.
        let again = store.claim_task(&["test"], "next", now_ms(), 1000).await.unwrap().unwrap();
        assert_eq!(again.id, queued.id);
    })
    .await;
}

const CHILD_ENV: &str = "ATR_RUNNER_CHILD_DB";

/// The child: a runner whose handler hangs, so the parent can kill it mid-task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runner_child() {
    let Ok(url) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = SqlStore::open(&url).await.unwrap();
    let recorder = Arc::new(Recorder { hang: true, ..Recorder::default() });
    let config =
        RunnerConfig { lease: Duration::from_millis(800), heartbeat: Duration::from_millis(200), ..fast("child") };
    let runner = Runner::new(store, config).with(recorder);
    let (_shutdown, rx) = Shutdown::new();
    runner.run(rx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_runner_loses_its_task_to_another() {
    each(|store, url| async move {
        let (queued, _) = store.queue_task(&task(1), now_ms()).await.unwrap();
        let mut child = Command::new("/proc/self/exe")
            .args(["--exact", "runner::runner_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &url)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the child holds the task, and its heartbeat has renewed the lease once.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let t = store.task(queued.id).await.unwrap().unwrap();
            if t.lease_owner.as_deref() == Some("child")
                && t.lease_expires_at_ms.unwrap() > t.started_at_ms.unwrap() + 800
            {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the child never claimed the task: {t:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let _ = BufReader::new(child.stdout.take().unwrap()).lines().count();
        // Another runner takes it over once the lease expires, and completes it.
        let recorder = Arc::new(Recorder::default());
        let runner = Runner::new(store.clone(), fast("survivor")).with(recorder.clone());
        let probe = recorder.clone();
        run_until(vec![runner], || !probe.runs.lock().unwrap().is_empty() && probe.active.lock().unwrap().is_empty())
            .await;
        let t = store.task(queued.id).await.unwrap().unwrap();
        assert_eq!((t.status, t.attempts), (TaskStatus::Completed, 2), "{t:?}");
    })
    .await;
}

fn sample(load: f64, memory: f64, latency: u64, throughput: u64, saturated: bool) -> LoadSample {
    LoadSample {
        load_per_core: load,
        memory_available: memory,
        queue_latency_ms: latency,
        throughput_per_minute: throughput,
        saturated_slots: saturated,
    }
}

#[test]
fn the_load_watch_lowers_and_raises_the_limit() {
    // Saturated CPU: down by a quarter (at least one), never below the minimum.
    assert_eq!(adjust(8, 1, 16, &sample(2.0, 0.5, 0, 10, true), None).0, 6);
    assert_eq!(adjust(1, 1, 16, &sample(2.0, 0.5, 0, 10, true), None), (1, None));
    // Memory short.
    let (limit, why) = adjust(4, 1, 16, &sample(0.2, 0.05, 0, 10, false), None);
    assert_eq!(limit, 3);
    assert!(why.unwrap().contains("memory"));
    // Latency rising without throughput: down.
    let before = sample(0.5, 0.5, 200, 60, true);
    let (limit, why) = adjust(4, 1, 16, &sample(0.5, 0.5, 400, 60, true), Some(&before));
    assert_eq!(limit, 3);
    assert!(why.unwrap().contains("latency"));
    // Latency rising with throughput rising too: the machine keeps up, so up.
    assert_eq!(adjust(4, 1, 16, &sample(0.5, 0.5, 400, 120, true), Some(&before)).0, 5);
    // Room and waiting work: up by one, never above the maximum.
    assert_eq!(adjust(4, 1, 16, &sample(0.3, 0.5, 0, 10, true), None).0, 5);
    assert_eq!(adjust(16, 1, 16, &sample(0.3, 0.5, 0, 10, true), None), (16, None));
    // Idle: unchanged.
    assert_eq!(adjust(4, 1, 16, &sample(0.3, 0.5, 0, 10, false), None), (4, None));
}

/// The runner's series, as a Prometheus scrape reads them: attempts by kind and outcome with
/// their durations, and the concurrency figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_counts_its_attempts_in_a_metrics_registry() {
    use prometheus_parse::{Scrape, Value};

    each(|store, _| async move {
        for n in 0..3 {
            store.queue_task(&task(n), now_ms()).await.unwrap();
        }
        let recorder = Arc::new(Recorder { fail_first: 1, ..Recorder::default() });
        let config = RunnerConfig { max_concurrency: 3, initial_concurrency: 2, ..fast("r") };
        let runner = Runner::new(store.clone(), config).with(recorder);
        let mut registry = prometheus_client::registry::Registry::default();
        runner.register_metrics(&mut registry);
        let probe = store.clone();
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        tokio::spawn(async move {
            while count(&probe, TaskStatus::Completed).await < 3 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            flag.store(true, Ordering::SeqCst);
        });
        run_until(vec![runner], || done.load(Ordering::SeqCst)).await;

        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
        let value = |metric: &str, labels: &[(&str, &str)]| {
            scrape
                .samples
                .iter()
                .filter(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
                .find_map(|s| match &s.value {
                    Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(*v),
                    Value::Histogram(buckets) => buckets.iter().find(|b| b.less_than.is_infinite()).map(|b| b.count),
                    Value::Summary(_) => None,
                })
        };
        assert_eq!(
            value("atr_runner_attempts_total", &[("kind", "test"), ("outcome", "completed")]),
            Some(3.0),
            "{text}"
        );
        assert_eq!(value("atr_runner_attempts_total", &[("kind", "test"), ("outcome", "failed")]), Some(3.0), "{text}");
        assert_eq!(value("atr_runner_attempts_total", &[("kind", "test"), ("outcome", "timed_out")]), None);
        assert_eq!(
            value("atr_runner_attempt_duration_seconds", &[("kind", "test"), ("outcome", "completed")]),
            Some(3.0),
            "{text}"
        );
        assert_eq!(value("atr_runner_running_tasks", &[]), Some(0.0), "{text}");
        assert_eq!(value("atr_runner_concurrency_limit", &[]), Some(2.0));
        assert_eq!(value("atr_runner_max_concurrency", &[]), Some(3.0));
    })
    .await;
}

/// A runner registers itself when it starts, keeps its heartbeat while it runs (registering again
/// when its row went away), and marks itself stopped after a graceful stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_is_seen_while_it_runs_and_marked_stopped_when_it_stops() {
    each(|store, _| async move {
        let runner = Arc::new(Runner::new(store.clone(), fast("present")).with(Arc::new(Recorder::default())));
        let id = runner.id().to_owned();
        assert!(id.starts_with(&format!("test-host-{}-", std::process::id())), "{id}");
        let (shutdown, rx) = Shutdown::new();
        let running = runner.clone();
        let handle = tokio::spawn(async move { running.run(rx).await });
        let started = now_ms();
        let seen = |store: SqlStore| {
            let id = id.clone();
            async move { atr_core::ports::TaskQueue::runners(&store).await.unwrap().into_iter().find(|r| r.id == id) }
        };
        let mut first = None;
        for _ in 0..100 {
            first = seen(store.clone()).await;
            if first.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let first = first.expect("the runner registers itself at start");
        assert_eq!((first.name.as_str(), first.host.as_str(), first.pid), ("present", "test-host", std::process::id()));
        assert_eq!(first.kinds, ["test"]);
        assert_eq!(first.concurrency, 4);
        assert_eq!(first.stopped_at_ms, None);
        // Its heartbeat moves last_seen while it runs.
        tokio::time::sleep(Duration::from_millis(350)).await;
        let later = seen(store.clone()).await.unwrap();
        assert!(later.last_seen_ms > first.last_seen_ms, "{first:?} {later:?}");
        assert!(later.last_seen_ms >= started);
        // A row that no longer says it runs is written again by the next heartbeat.
        store.runner_stopped(runner.id(), now_ms()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(seen(store.clone()).await.unwrap().stopped_at_ms, None, "the runner registers again");
        shutdown.trigger();
        handle.await.unwrap();
        let stopped = seen(store.clone()).await.unwrap();
        let at = stopped.stopped_at_ms.expect("a graceful stop marks the runner stopped");
        assert_eq!(stopped.last_seen_ms, at);
        // Stopped, it beats no more.
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(seen(store.clone()).await.unwrap().last_seen_ms, at);
    })
    .await;
}
