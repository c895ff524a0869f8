//! The task runner: claims tasks from the queue in the metadata database, runs them with their
//! handlers under a lease, and records the outcome.
//!
//! - **Leases and fencing.** A claim leases the task to this runner until `now + lease`; a
//!   heartbeat renews it every `heartbeat`. A runner that dies stops renewing, the lease expires,
//!   and another runner claims the task again (the claim moves the task's fence). Every write of
//!   the outcome is guarded by the fence of the claim, so a runner that lost its lease cannot
//!   commit a result; results and check results are written in one transaction.
//! - **Retries.** A failed attempt is queued again after an exponential backoff
//!   (`backoff_base * 2^(attempt-1)`, capped at `backoff_max`) until its attempts run out.
//! - **Timeouts and cancellation.** An attempt that runs longer than `task_timeout` fails; a task
//!   cancelled while running is noticed at the next heartbeat and its handler is dropped.
//! - **Shutdown.** On shutdown the runner stops claiming, lets running tasks finish for
//!   `shutdown_grace`, and gives the others back to the queue without counting the attempt.
//! - **Load.** With `adaptive` set, the runner samples the machine's load and memory and its own
//!   queue latency and throughput, and lowers or raises its concurrency between
//!   `min_concurrency` and `max_concurrency` ([`adjust`]); [`Runner::status`] shows the limit.
//!
//! Several runners, in one process or on several machines against one PostgreSQL, share the
//! queue safely: the claim is atomic (`FOR UPDATE SKIP LOCKED` there).
//!
//! - **Presence.** A runner registers itself in the database when it starts (table `runners`: an
//!   id chosen at start from the host, the process id and a random part, the kinds it handles,
//!   its concurrency), refreshes its `last_seen` every `presence_interval` while it runs (10 s by
//!   default) and marks itself stopped once a graceful stop is over. A runner that is killed just
//!   stops being seen; the core decides from `last_seen` whether waiting work has a runner.
//!
//! - **Metrics.** [`Runner::register_metrics`] adds the runner's series to a `prometheus-client`
//!   registry (the one `/metrics` of `atr serve` writes): attempts by kind and outcome with their
//!   durations, tasks running, the concurrency limit and the load watch's changes to it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use atr_core::model::task::decode;
use atr_core::model::{CheckResult, CheckRun, NewEvent, TaskKind};
use atr_core::ports::RunnerRecord;
use atr_store::sql::{Completion, QueueCount, QueuedTask, SqlStore};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// What a task produced, all stored in the same transaction as the completion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskOutput {
    /// The task's result, stored with it.
    pub result: Value,
    /// Check results.
    pub checks: Vec<CheckResult>,
    /// The record that a revision's checks ran to completion.
    pub run: Option<CheckRun>,
    /// Events recording what the task did.
    pub events: Vec<NewEvent>,
}

impl TaskOutput {
    /// What the store commits with the completion.
    pub fn completion(&self) -> Completion<'_> {
        Completion { result: &self.result, checks: &self.checks, run: self.run.as_ref(), events: &self.events }
    }
}

/// Why an attempt failed. The message is stored with the task and shown to people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TaskFailure(pub String);

/// Runs the tasks of one kind. Handlers must be idempotent: an attempt whose runner died may be
/// run again, and only the fenced completion counts.
#[async_trait]
pub trait TaskHandler: Send + Sync {
    /// The task kind this handler runs, such as `analyze`.
    fn kind(&self) -> &'static str;
    /// Runs one attempt.
    async fn run(&self, task: &QueuedTask) -> Result<TaskOutput, TaskFailure>;
}

/// Runs the tasks of one typed kind ([`TaskKind`]): the runner decodes the payload, so a handler
/// never reads its arguments as loose JSON, and the kind's name comes from its type.
#[async_trait]
pub trait KindHandler: Send + Sync + 'static {
    type Kind: TaskKind;
    /// Runs one attempt on the decoded payload.
    async fn run(&self, payload: Self::Kind, task: &QueuedTask) -> Result<TaskOutput, TaskFailure>;
}

/// A typed handler as the runner's untyped one.
struct Typed<H>(H);

#[async_trait]
impl<H: KindHandler> TaskHandler for Typed<H> {
    fn kind(&self) -> &'static str {
        H::Kind::NAME
    }

    async fn run(&self, task: &QueuedTask) -> Result<TaskOutput, TaskFailure> {
        let payload = decode::<H::Kind>(&task.kind, &task.args)
            .map_err(|e| TaskFailure(format!("the task's arguments do not fit its kind: {e}")))?;
        self.0.run(payload, task).await
    }
}

/// How a runner behaves.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// This runner's name in leases; unique among the runners sharing a queue.
    pub owner: String,
    /// The machine it runs on, as its registration names it (by default the kernel's host name).
    pub host: String,
    /// How often it refreshes its `last_seen` in the database while it runs.
    pub presence_interval: Duration,
    pub min_concurrency: usize,
    pub max_concurrency: usize,
    /// Concurrency to start with.
    pub initial_concurrency: usize,
    pub lease: Duration,
    pub heartbeat: Duration,
    /// How long to wait before looking again when the queue is empty.
    pub poll_interval: Duration,
    pub task_timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub shutdown_grace: Duration,
    /// Whether to adjust concurrency to the machine's load.
    pub adaptive: bool,
    /// How often the load is sampled.
    pub adapt_interval: Duration,
}

impl RunnerConfig {
    /// Defaults for a runner named `owner`: concurrency up to the number of cores.
    pub fn new(owner: impl Into<String>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            owner: owner.into(),
            host: host_name(),
            presence_interval: Duration::from_secs(10),
            min_concurrency: 1,
            max_concurrency: cores * 2,
            initial_concurrency: cores,
            lease: Duration::from_mins(1),
            heartbeat: Duration::from_secs(15),
            poll_interval: Duration::from_secs(1),
            task_timeout: Duration::from_mins(30),
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_hours(1),
            shutdown_grace: Duration::from_secs(30),
            adaptive: true,
            adapt_interval: Duration::from_secs(10),
        }
    }

    /// The delay before attempt `attempt + 1`, after `attempt` failed attempts.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2_u32.saturating_pow(attempt.saturating_sub(1));
        self.backoff_base.saturating_mul(factor).min(self.backoff_max)
    }
}

/// The kernel's host name (Linux), or `localhost`.
#[expect(clippy::disallowed_methods, reason = "the runner names its host from /proc, not from release storage")]
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// A runner id that no other runner has: host, process id and a random part.
fn runner_id(host: &str) -> String {
    use std::hash::BuildHasher as _;
    let random = std::collections::hash_map::RandomState::new().hash_one(now_ms());
    format!("{host}-{}-{:08x}", std::process::id(), random & 0xffff_ffff)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// What the runner reports about itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunnerStatus {
    pub owner: String,
    /// The concurrency limit in force (found by the load watch when adaptive).
    pub concurrency_limit: usize,
    pub max_concurrency: usize,
    pub running: usize,
    pub completed: u64,
    pub failed_attempts: u64,
    pub timeouts: u64,
    pub lost_leases: u64,
    /// Completions in the last minute.
    pub throughput_per_minute: u64,
    /// Time from a task's scheduled time to its start, over the recent claims.
    pub queue_latency_ms_avg: u64,
    pub queue_latency_ms_p95: u64,
    /// Why the limit last changed.
    pub last_adjustment: Option<String>,
    /// Tasks in the queue by kind and status.
    pub queue: Vec<(String, String, u64)>,
}

/// The labels of an attempt's series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    kind: String,
    /// `completed`, `failed`, `timed_out`, `lost` (the lease or the fence was lost: cancelled or
    /// claimed by another runner), `given_back` (at shutdown) or `no_handler`.
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AdjustmentLabels {
    /// `lowered` or `raised`.
    direction: &'static str,
}

/// Durations of attempts, in seconds: from a tenth of a second to an hour.
const DURATION_BUCKETS: [f64; 14] =
    [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0];

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// The runner's series for a metrics registry.
#[derive(Debug)]
struct Series {
    attempts: Family<AttemptLabels, Counter>,
    durations: Family<AttemptLabels, Histogram, fn() -> Histogram>,
    running: Gauge,
    limit: Gauge,
    max: Gauge,
    adjustments: Family<AdjustmentLabels, Counter>,
}

impl Default for Series {
    fn default() -> Self {
        Self {
            attempts: Family::default(),
            durations: Family::new_with_constructor(duration_histogram),
            running: Gauge::default(),
            limit: Gauge::default(),
            max: Gauge::default(),
            adjustments: Family::default(),
        }
    }
}

#[derive(Debug, Default)]
struct Metrics {
    running: AtomicUsize,
    completed: AtomicU64,
    failed: AtomicU64,
    timeouts: AtomicU64,
    lost: AtomicU64,
    /// Completion instants in the last minute.
    completions: Mutex<VecDeque<Instant>>,
    /// Recent queue latencies (ms), newest last.
    latencies: Mutex<VecDeque<u64>>,
    last_adjustment: Mutex<Option<String>>,
    series: Series,
}

const LATENCY_WINDOW: usize = 200;

impl Metrics {
    fn started(&self) {
        self.running.fetch_add(1, Ordering::Relaxed);
        self.series.running.inc();
    }

    fn ended(&self) {
        self.running.fetch_sub(1, Ordering::Relaxed);
        self.series.running.dec();
    }

    /// Records an attempt's outcome and how long it ran.
    fn attempt(&self, kind: &str, outcome: &'static str, started: Instant) {
        let labels = AttemptLabels { kind: kind.to_owned(), outcome };
        self.series.attempts.get_or_create(&labels).inc();
        self.series.durations.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    }

    fn limit(&self, limit: usize) {
        self.series.limit.set(i64::try_from(limit).unwrap_or(i64::MAX));
    }

    fn completed(&self) {
        self.completed.fetch_add(1, Ordering::Relaxed);
        let mut c = self.completions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        c.push_back(Instant::now());
        while c.front().is_some_and(|t| t.elapsed() > Duration::from_mins(1)) {
            c.pop_front();
        }
    }

    fn throughput(&self) -> u64 {
        let mut c = self.completions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while c.front().is_some_and(|t| t.elapsed() > Duration::from_mins(1)) {
            c.pop_front();
        }
        c.len() as u64
    }

    fn latency(&self, ms: u64) {
        let mut l = self.latencies.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        l.push_back(ms);
        if l.len() > LATENCY_WINDOW {
            l.pop_front();
        }
    }

    fn latency_stats(&self) -> (u64, u64) {
        let l = self.latencies.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if l.is_empty() {
            return (0, 0);
        }
        let mut sorted: Vec<u64> = l.iter().copied().collect();
        sorted.sort_unstable();
        let avg = sorted.iter().sum::<u64>() / sorted.len() as u64;
        let p95 = sorted[(sorted.len() * 95 / 100).min(sorted.len() - 1)];
        (avg, p95)
    }
}

/// One sample of the machine and of the runner, for [`adjust`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadSample {
    /// The one-minute load average divided by the number of cores.
    pub load_per_core: f64,
    /// Available memory as a fraction of the total.
    pub memory_available: f64,
    pub queue_latency_ms: u64,
    pub throughput_per_minute: u64,
    /// Whether every slot was busy and work was waiting.
    pub saturated_slots: bool,
}

/// The load watch's rule: lower the limit by a quarter when the machine saturates (load above 1.5
/// per core, less than 10% memory available, or queue latency rising by a fifth while throughput
/// does not rise); raise it by one when every slot is busy, work waits and the machine has room.
/// Returns the new limit and the reason when it changed.
pub fn adjust(
    limit: usize,
    min: usize,
    max: usize,
    now: &LoadSample,
    before: Option<&LoadSample>,
) -> (usize, Option<String>) {
    let latency_rising = before.is_some_and(|b| {
        now.queue_latency_ms > 100
            && now.queue_latency_ms * 5 > b.queue_latency_ms * 6
            && now.throughput_per_minute * 20 <= b.throughput_per_minute * 21
    });
    let reason = if now.load_per_core > 1.5 {
        Some(format!("load {:.2} per core", now.load_per_core))
    } else if now.memory_available < 0.10 {
        Some(format!("{:.0}% memory available", now.memory_available * 100.0))
    } else if latency_rising && now.saturated_slots {
        Some(format!("queue latency rising to {} ms without more throughput", now.queue_latency_ms))
    } else {
        None
    };
    if let Some(reason) = reason {
        let lowered = limit.saturating_sub((limit / 4).max(1)).max(min);
        return if lowered == limit {
            (limit, None)
        } else {
            (lowered, Some(format!("lowered to {lowered}: {reason}")))
        };
    }
    if now.saturated_slots && now.load_per_core < 1.0 && limit < max {
        let raised = limit + 1;
        return (raised, Some(format!("raised to {raised}: all slots busy and the machine has room")));
    }
    (limit, None)
}

/// Reads the machine's load and memory from `/proc` (Linux); `None` elsewhere.
#[expect(clippy::disallowed_methods, reason = "the load watch reads /proc, not release storage")]
fn machine_load() -> Option<(f64, f64)> {
    let loadavg = std::fs::read_to_string("/proc/loadavg").ok()?;
    let load1: f64 = loadavg.split_whitespace().next()?.parse().ok()?;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| -> Option<f64> {
        meminfo.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
    };
    let (total, available) = (field("MemTotal:")?, field("MemAvailable:")?);
    #[expect(clippy::cast_precision_loss, reason = "a load ratio: core counts and memory sizes are far below 2^52")]
    Some((load1 / cores as f64, available / total))
}

/// A task runner over a queue.
pub struct Runner {
    store: SqlStore,
    config: RunnerConfig,
    /// Its id in the table of runners, chosen when it is made.
    id: String,
    handlers: BTreeMap<&'static str, Arc<dyn TaskHandler>>,
    metrics: Arc<Metrics>,
    limit: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("id", &self.id)
            .field("owner", &self.config.owner)
            .field("kinds", &self.kinds())
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// Signals a runner to shut down.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Sender<bool>);

impl Shutdown {
    pub fn new() -> (Self, watch::Receiver<bool>) {
        let (tx, rx) = watch::channel(false);
        (Self(tx), rx)
    }

    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

impl Runner {
    /// A runner with no handlers yet.
    pub fn new(store: SqlStore, config: RunnerConfig) -> Self {
        let limit = config.initial_concurrency.clamp(config.min_concurrency.max(1), config.max_concurrency.max(1));
        let metrics = Metrics::default();
        metrics.limit(limit);
        metrics.series.max.set(i64::try_from(config.max_concurrency).unwrap_or(i64::MAX));
        Self {
            store,
            id: runner_id(&config.host),
            config,
            handlers: BTreeMap::new(),
            metrics: Arc::new(metrics),
            limit: Arc::new(AtomicUsize::new(limit)),
        }
    }

    /// Adds the handler of a typed task kind.
    #[must_use]
    pub fn with_kind<H: KindHandler>(self, handler: H) -> Self {
        self.with(Arc::new(Typed(handler)))
    }

    /// Adds the handler of a task kind.
    #[must_use]
    pub fn with(mut self, handler: Arc<dyn TaskHandler>) -> Self {
        self.handlers.insert(handler.kind(), handler);
        self
    }

    /// The task kinds this runner runs.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.handlers.keys().copied().collect()
    }

    /// Its id in the table of runners (host, process id and a random part).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its registration as of `now_ms`.
    fn registration(&self, now_ms: i64) -> RunnerRecord {
        RunnerRecord {
            id: self.id.clone(),
            name: self.config.owner.clone(),
            host: self.config.host.clone(),
            pid: std::process::id(),
            kinds: self.kinds().into_iter().map(str::to_owned).collect(),
            concurrency: u32::try_from(self.limit.load(Ordering::Relaxed)).unwrap_or(u32::MAX),
            started_at_ms: now_ms,
            last_seen_ms: now_ms,
            stopped_at_ms: None,
        }
    }

    /// Refreshes the runner's `last_seen` every `presence_interval` until `stop` turns true,
    /// registering it again when its row went missing. A failed write is logged and the next
    /// heartbeat tries again.
    fn presence(
        &self,
        mut registration: RunnerRecord,
        mut stop: watch::Receiver<bool>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let store = self.store.clone();
        let limit = self.limit.clone();
        let every = self.config.presence_interval;
        async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => break,
                }
                let now = now_ms();
                let concurrency = u32::try_from(limit.load(Ordering::Relaxed)).unwrap_or(u32::MAX);
                match store.runner_heartbeat(&registration.id, now, concurrency).await {
                    Ok(true) => {}
                    Ok(false) => {
                        registration.last_seen_ms = now;
                        registration.concurrency = concurrency;
                        if let Err(error) = store.register_runner(&registration).await {
                            tracing::warn!(runner = %registration.id, %error, "registering the runner again failed");
                        }
                    }
                    Err(error) => tracing::warn!(runner = %registration.id, %error, "a runner heartbeat failed"),
                }
            }
        }
    }

    /// Adds the runner's series to `registry`: `atr_runner_attempts_total` and
    /// `atr_runner_attempt_duration_seconds` by kind and outcome, `atr_runner_running_tasks`,
    /// `atr_runner_concurrency_limit`, `atr_runner_max_concurrency` and
    /// `atr_runner_load_adjustments_total` by direction. Register one runner per registry.
    pub fn register_metrics(&self, registry: &mut Registry) {
        let series = &self.metrics.series;
        registry.register(
            "atr_runner_attempts",
            "Task attempts this runner ended, by kind and outcome (completed, failed, timed_out, lost, given_back, no_handler)",
            series.attempts.clone(),
        );
        registry.register(
            "atr_runner_attempt_duration_seconds",
            "How long this runner's task attempts ran, by kind and outcome",
            series.durations.clone(),
        );
        registry.register("atr_runner_running_tasks", "Tasks this runner is running now", series.running.clone());
        registry.register(
            "atr_runner_concurrency_limit",
            "The most tasks this runner runs at once now (the load watch moves it)",
            series.limit.clone(),
        );
        registry.register(
            "atr_runner_max_concurrency",
            "The highest concurrency limit the load watch may set",
            series.max.clone(),
        );
        registry.register(
            "atr_runner_load_adjustments",
            "Changes of the concurrency limit by the load watch, by direction (lowered, raised)",
            series.adjustments.clone(),
        );
    }

    /// The runner's own figures (without the queue's counts).
    pub fn status(&self) -> RunnerStatus {
        let (avg, p95) = self.metrics.latency_stats();
        RunnerStatus {
            owner: self.config.owner.clone(),
            concurrency_limit: self.limit.load(Ordering::Relaxed),
            max_concurrency: self.config.max_concurrency,
            running: self.metrics.running.load(Ordering::Relaxed),
            completed: self.metrics.completed.load(Ordering::Relaxed),
            failed_attempts: self.metrics.failed.load(Ordering::Relaxed),
            timeouts: self.metrics.timeouts.load(Ordering::Relaxed),
            lost_leases: self.metrics.lost.load(Ordering::Relaxed),
            throughput_per_minute: self.metrics.throughput(),
            queue_latency_ms_avg: avg,
            queue_latency_ms_p95: p95,
            last_adjustment: self
                .metrics
                .last_adjustment
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
            queue: Vec::new(),
        }
    }

    /// The runner's figures with the queue's counts by kind and status.
    pub async fn status_with_queue(&self) -> atr_core::ports::StoreResult<RunnerStatus> {
        let mut status = self.status();
        status.queue = self
            .store
            .queue_counts()
            .await?
            .into_iter()
            .map(|QueueCount { kind, status, count }| (kind, format!("{status:?}").to_lowercase(), count))
            .collect();
        Ok(status)
    }

    /// Runs until `shutdown` turns true, then shuts down gracefully. Registers the runner at
    /// start, keeps its heartbeat while it runs, and marks it stopped once the shutdown is over.
    pub async fn run(&self, shutdown: watch::Receiver<bool>) {
        let registration = self.registration(now_ms());
        if let Err(error) = self.store.register_runner(&registration).await {
            tracing::warn!(runner = %self.id, %error, "registering the runner failed; its heartbeat tries again");
        }
        let (present, presence_stop) = watch::channel(false);
        let presence = tokio::spawn(self.presence(registration, presence_stop));
        self.work(shutdown).await;
        let _ = present.send(true);
        let _ = presence.await;
        if let Err(error) = self.store.runner_stopped(&self.id, now_ms()).await {
            tracing::warn!(runner = %self.id, %error, "marking the runner stopped failed");
        }
    }

    /// Claims and runs tasks until `shutdown` turns true, then shuts down gracefully.
    async fn work(&self, mut shutdown: watch::Receiver<bool>) {
        let kinds = self.kinds();
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut running: JoinSet<()> = JoinSet::new();
        let mut adapt = tokio::time::interval(self.config.adapt_interval);
        adapt.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut previous: Option<LoadSample> = None;
        let mut work_waiting = false;
        loop {
            if *shutdown.borrow() {
                break;
            }
            while running.try_join_next().is_some() {}
            let limit = self.limit.load(Ordering::Relaxed);
            if running.len() < limit {
                match self.store.claim_task(&kinds, &self.config.owner, now_ms(), millis(self.config.lease)).await {
                    Ok(Some(task)) => {
                        let latency = task.started_at_ms.unwrap_or(0).saturating_sub(task.scheduled_at_ms).max(0);
                        self.metrics.latency(u64::try_from(latency).unwrap_or(0));
                        running.spawn(self.execute(task, stop_rx.clone()));
                        continue;
                    }
                    Ok(None) => work_waiting = false,
                    Err(error) => tracing::warn!(%error, "claiming a task failed"),
                }
            } else {
                work_waiting = true;
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
                _ = adapt.tick(), if self.config.adaptive => {
                    if let Some((load_per_core, memory_available)) = machine_load() {
                        let (latency, _) = self.metrics.latency_stats();
                        let sample = LoadSample {
                            load_per_core,
                            memory_available,
                            queue_latency_ms: latency,
                            throughput_per_minute: self.metrics.throughput(),
                            saturated_slots: work_waiting && running.len() >= self.limit.load(Ordering::Relaxed),
                        };
                        let current = self.limit.load(Ordering::Relaxed);
                        let (next, why) = adjust(current, self.config.min_concurrency, self.config.max_concurrency, &sample, previous.as_ref());
                        if let Some(why) = why {
                            tracing::info!(limit = next, %why, "concurrency adjusted");
                            self.limit.store(next, Ordering::Relaxed);
                            self.metrics.limit(next);
                            let direction = if next < current { "lowered" } else { "raised" };
                            self.metrics.series.adjustments.get_or_create(&AdjustmentLabels { direction }).inc();
                            *self.metrics.last_adjustment.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(why);
                        }
                        previous = Some(sample);
                    }
                }
            }
        }
        // Graceful shutdown: no new claims; finish within the grace period, then give back.
        let grace = tokio::time::sleep(self.config.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                next = running.join_next() => if next.is_none() { break },
                () = &mut grace => {
                    let _ = stop_tx.send(true);
                    while running.join_next().await.is_some() {}
                    break;
                }
            }
        }
    }

    /// Runs one claimed task to an outcome.
    fn execute(&self, task: QueuedTask, mut stop: watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
        let store = self.store.clone();
        let config = self.config.clone();
        let metrics = self.metrics.clone();
        let handler = self.handlers.get(task.kind.as_str()).cloned();
        async move {
            metrics.started();
            let started = Instant::now();
            let (id, fence) = (task.id, task.fence);
            let Some(handler) = handler else {
                let _ = store.fail_task(id, fence, "no handler for this task kind", now_ms(), now_ms()).await;
                metrics.attempt(&task.kind, "no_handler", started);
                metrics.ended();
                return;
            };
            let attempt = handler.run(&task);
            tokio::pin!(attempt);
            let deadline = tokio::time::sleep(config.task_timeout);
            tokio::pin!(deadline);
            let mut heartbeat = tokio::time::interval(config.heartbeat);
            heartbeat.tick().await;
            let retry_at = || now_ms().saturating_add(millis(config.backoff(task.attempts)));
            loop {
                tokio::select! {
                    outcome = &mut attempt => {
                        match outcome {
                            Ok(output) => match store.complete_task_with(id, fence, &output.completion(), now_ms()).await {
                                Ok(()) => {
                                    metrics.completed();
                                    metrics.attempt(&task.kind, "completed", started);
                                }
                                Err(error) => {
                                    metrics.lost.fetch_add(1, Ordering::Relaxed);
                                    metrics.attempt(&task.kind, "lost", started);
                                    tracing::warn!(task = id, %error, "a result could not be committed");
                                }
                            },
                            Err(failure) => {
                                metrics.failed.fetch_add(1, Ordering::Relaxed);
                                if let Err(error) = store.fail_task(id, fence, &failure.0, now_ms(), retry_at()).await {
                                    metrics.lost.fetch_add(1, Ordering::Relaxed);
                                    metrics.attempt(&task.kind, "lost", started);
                                    tracing::warn!(task = id, %error, "a failure could not be recorded");
                                } else {
                                    metrics.attempt(&task.kind, "failed", started);
                                }
                            }
                        }
                        break;
                    }
                    () = &mut deadline => {
                        metrics.timeouts.fetch_add(1, Ordering::Relaxed);
                        metrics.failed.fetch_add(1, Ordering::Relaxed);
                        metrics.attempt(&task.kind, "timed_out", started);
                        let message = format!("timed out after {} s", config.task_timeout.as_secs_f64());
                        let _ = store.fail_task(id, fence, &message, now_ms(), retry_at()).await;
                        break;
                    }
                    _ = heartbeat.tick() => {
                        match store.renew_lease(id, fence, now_ms(), millis(config.lease)).await {
                            Ok(true) => {}
                            Ok(false) => {
                                // Cancelled, or another runner holds it now: stop working on it.
                                metrics.lost.fetch_add(1, Ordering::Relaxed);
                                metrics.attempt(&task.kind, "lost", started);
                                break;
                            }
                            Err(error) => tracing::warn!(task = id, %error, "renewing a lease failed"),
                        }
                    }
                    _ = stop.changed() => {
                        if let Err(error) = store.release_task(id, fence, now_ms()).await {
                            tracing::warn!(task = id, %error, "giving a task back failed");
                        }
                        metrics.attempt(&task.kind, "given_back", started);
                        break;
                    }
                }
            }
            metrics.ended();
        }
    }
}
