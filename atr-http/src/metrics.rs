//! The service's metrics in one `prometheus-client` registry, and who may read them.
//!
//! The request middleware ([`crate::log`]) counts every answer and its latency by method, route
//! template and status; the task queue's depth and the database pool are read when `/metrics` is
//! scraped; a task runner in the same process registers its own series
//! ([`crate::AppState::register_metrics`]).

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use atr_core::model::TaskStatus;
use atr_core::ports::TaskCount;
use atr_store::sql::SqlStore;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The latency buckets of requests, in seconds: from a millisecond to a minute.
const LATENCY_BUCKETS: [f64; 15] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// The content type of the exposition (`prometheus-client` writes the `OpenMetrics` text format,
/// which Prometheus reads).
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route template (`/api/projects/{project}`), never the path, so the series are bounded.
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    kind: String,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The registry and the series the HTTP side keeps.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram, fn() -> Histogram>,
    queue: Family<QueueLabels, Gauge>,
    pool: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    /// The store whose connection pool the pool series describe, read at scrape time.
    store: SqlStore,
}

impl Metrics {
    /// The service's series, with the pool series read from `store`'s pool.
    pub(crate) fn new(store: SqlStore) -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let queue = Family::<QueueLabels, Gauge>::default();
        let pool = Family::<PoolLabels, Gauge>::default();
        let pool_max = Gauge::default();
        let mut registry = Registry::default();
        registry.register(
            "atr_http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "atr_http_request_duration_seconds",
            "Time from a request's arrival to its answer's head, by method, route template and status",
            latency.clone(),
        );
        registry.register(
            "atr_task_queue_tasks",
            "Tasks in the queue by kind and status (queued, active, completed, failed, cancelled), read at scrape time",
            queue.clone(),
        );
        registry.register(
            "atr_db_pool_connections",
            "Connections of the database pool by state (idle, in_use), read at scrape time",
            pool.clone(),
        );
        registry.register(
            "atr_db_pool_max_connections",
            "The most connections the database pool opens",
            pool_max.clone(),
        );
        Self { registry: Mutex::new(registry), requests, latency, queue, pool, pool_max, store }
    }

    /// Counts one answer.
    pub(crate) fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let labels = RequestLabels { method: method.to_owned(), route: route.to_owned(), status };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(elapsed.as_secs_f64());
    }

    /// Lets another part of the process (a task runner) register its series.
    pub(crate) fn register(&self, register: impl FnOnce(&mut Registry)) {
        register(&mut self.registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    /// The exposition, with the queue's counts as given and the pool's use as it is now.
    pub(crate) fn render(&self, counts: Option<&[TaskCount]>) -> String {
        let pool = self.store.pool_stats();
        if let Some(counts) = counts {
            self.queue.clear();
            let kinds: std::collections::BTreeSet<&str> = counts.iter().map(|c| c.kind.as_str()).collect();
            // Every status of every kind seen, so a status that emptied reads 0 instead of vanishing.
            for kind in kinds {
                for status in [
                    TaskStatus::Queued,
                    TaskStatus::Active,
                    TaskStatus::Completed,
                    TaskStatus::Failed,
                    TaskStatus::Cancelled,
                ] {
                    let count = counts.iter().find(|c| c.kind == kind && c.status == status).map_or(0, |c| c.count);
                    let labels = QueueLabels { kind: kind.to_owned(), status: status.as_str().to_owned() };
                    self.queue.get_or_create(&labels).set(i64::try_from(count).unwrap_or(i64::MAX));
                }
            }
        }
        let in_use = pool.size.saturating_sub(pool.idle);
        self.pool.get_or_create(&PoolLabels { state: "idle" }).set(i64::from(pool.idle));
        self.pool.get_or_create(&PoolLabels { state: "in_use" }).set(i64::from(in_use));
        self.pool_max.set(i64::from(pool.max));
        let mut text = String::new();
        let registry = self.registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &registry) {
            tracing::error!(%error, "the metrics could not be written");
        }
        text
    }
}

/// The addresses `/metrics` answers: networks in CIDR notation (a plain address is a network of
/// one). The default is loopback only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsAllow(Vec<ipnet::IpNet>);

impl Default for MetricsAllow {
    fn default() -> Self {
        Self::parse(["127.0.0.0/8", "::1/128"]).expect("the loopback networks are valid")
    }
}

impl MetricsAllow {
    /// The networks of `items`, such as `10.0.0.0/8`, `fd00::/8` or `192.0.2.7`; an item that is
    /// neither a network nor an address is refused by name.
    pub fn parse<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Result<Self, String> {
        items
            .into_iter()
            .map(|item| {
                let item = item.as_ref().trim();
                item.parse::<ipnet::IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("{item:?} is not a network (such as 10.0.0.0/8 or fd00::/8) or an address"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether `address` may read the metrics. An IPv4 address seen through an IPv6 socket
    /// (`::ffff:127.0.0.1`) counts as the IPv4 address.
    pub fn allows(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The networks, as given.
    pub fn networks(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::MetricsAllow;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn loopback_only_by_default() {
        let allow = MetricsAllow::default();
        assert!(allow.allows(ip("127.0.0.1")));
        assert!(allow.allows(ip("127.3.4.5")));
        assert!(allow.allows(ip("::1")));
        assert!(allow.allows(ip("::ffff:127.0.0.1")), "IPv4 loopback through an IPv6 socket");
        assert!(!allow.allows(ip("10.0.0.1")));
        assert!(!allow.allows(ip("192.0.2.1")));
        assert!(!allow.allows(ip("::2")));
        assert!(!allow.allows(ip("::ffff:10.0.0.1")));
    }

    #[test]
    fn networks_and_addresses_are_allowed_as_given() {
        let allow = MetricsAllow::parse(["10.0.0.0/8", "192.0.2.7", "fd00::/8"]).unwrap();
        assert!(allow.allows(ip("10.200.3.4")));
        assert!(allow.allows(ip("192.0.2.7")));
        assert!(!allow.allows(ip("192.0.2.8")));
        assert!(allow.allows(ip("fd12::1")));
        assert!(!allow.allows(ip("127.0.0.1")), "an explicit list replaces the default");
        assert_eq!(allow.networks(), ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8"]);
    }

    #[test]
    fn a_bad_item_is_named() {
        let error = MetricsAllow::parse(["10.0.0.0/8", "10.0.0.0/33"]).unwrap_err();
        assert!(error.contains("\"10.0.0.0/33\" is not a network"), "{error}");
        assert!(MetricsAllow::parse(["localhost"]).is_err());
    }
}
