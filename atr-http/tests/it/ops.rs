//! The operations endpoints: `/healthz`, `/readyz` (and its failure when the database goes away),
//! and `/metrics` parsed by a Prometheus text-format parser, with its allow-list.

use atr_http::{HttpConfig, MetricsAllow};
use atr_testkit::{Auth, Body, Method, StatusCode, TestApp};
use prometheus_parse::{Scrape, Value};

/// A scrape of `/metrics`, parsed.
async fn scrape(app: &TestApp) -> Scrape {
    let answer = app.get("/metrics", Auth::Nobody).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(answer.content_type().starts_with("application/openmetrics-text"), "{}", answer.content_type());
    assert!(answer.text.ends_with("# EOF\n"), "a complete exposition");
    Scrape::parse(answer.text.lines().map(|l| Ok(l.to_owned()))).expect("the exposition parses")
}

/// The value of the one sample of `metric` whose labels include `labels`.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<f64> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .filter_map(|s| match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(v),
            _ => None,
        })
        .collect();
    assert!(found.len() <= 1, "{metric} {labels:?} matches {} samples", found.len());
    found.first().copied()
}

/// How many observations the histogram `metric` with `labels` holds (its `+Inf` bucket).
fn observations(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .find_map(|s| match &s.value {
            Value::Histogram(buckets) => buckets.iter().find(|b| b.less_than.is_infinite()).map(|b| b.count),
            _ => None,
        })
}

#[tokio::test]
async fn healthz_and_readyz_answer_on_every_engine() {
    for app in TestApp::all().await {
        let health = app.get("/healthz", Auth::Nobody).await;
        assert_eq!(health.expect(200_u16)["status"], "ok");
        let ready = app.get("/readyz", Auth::Nobody).await;
        let body = ready.expect(200_u16);
        assert_eq!(body["ready"], true, "{body}");
        let names: Vec<&str> = body["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["database", "migrations", "storage"]);
        assert!(body["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true), "{body}");
        assert_eq!(ready.header("cache-control"), "no-store");
        app.finish().await;
    }
}

/// The database goes away under the running service (PostgreSQL: dropped by force from another
/// connection): `/readyz` answers 503 naming the database check, without the database's URL,
/// while `/healthz` still answers.
#[tokio::test]
async fn readyz_fails_naming_the_database_when_it_is_gone() {
    let Some(db) = atr_store::testing::postgres().await else {
        eprintln!("skipped: ATR_TEST_DATABASE_URL is not set");
        return;
    };
    let url = db.url.clone();
    let app = TestApp::start(db, HttpConfig::default()).await;
    app.get("/readyz", Auth::Nobody).await.expect(200_u16);
    atr_store::testing::drop_postgres_now(&url).await;

    let answer = app.get("/readyz", Auth::Nobody).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{}", answer.text);
    assert_eq!(answer.json["ready"], false);
    let checks = answer.json["checks"].as_array().unwrap();
    let database = checks.iter().find(|c| c["name"] == "database").unwrap();
    assert_eq!(database["ok"], false, "{}", answer.text);
    assert!(database["detail"].as_str().unwrap().starts_with("the database does not answer: "), "{}", answer.text);
    let migrations = checks.iter().find(|c| c["name"] == "migrations").unwrap();
    assert_eq!(migrations["ok"], false);
    let storage = checks.iter().find(|c| c["name"] == "storage").unwrap();
    assert_eq!(storage["ok"], true, "release storage is still fine: {}", answer.text);
    assert!(!answer.text.contains("postgres://"), "no database URL: {}", answer.text);
    assert!(!answer.text.contains("postgres@"), "no user of the database: {}", answer.text);

    app.get("/healthz", Auth::Nobody).await.expect(200_u16);
    app.finish().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_show_the_queue_and_pool() {
    let app = TestApp::sqlite().await;
    let before = scrape(&app).await;
    let projects = [("method", "GET"), ("route", "/api/projects"), ("status", "200")];
    let base = value(&before, "atr_http_requests_total", &projects).unwrap_or(0.0);
    for _ in 0..3 {
        app.get("/api/projects", Auth::Nobody).await.expect(200_u16);
    }
    let missing = app.get("/api/projects/no-such-project", Auth::Nobody).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // A task in the queue, as a new revision asks for one.
    let task = atr_store::sql::NewTask {
        kind: "analyze".into(),
        args: serde_json::json!({ "probe": 1 }),
        release: None,
        revision: None,
        priority: 0,
        max_attempts: 3,
        scheduled_at_ms: 0,
    };
    app.state.storage.sql.queue_task(&task, 0).await.unwrap();

    let after = scrape(&app).await;
    let text = app.get("/metrics", Auth::Nobody).await.text;
    assert_eq!(value(&after, "atr_http_requests_total", &projects), Some(base + 3.0));
    assert_eq!(observations(&after, "atr_http_request_duration_seconds", &projects), Some(base + 3.0));
    // A route with parameters is labelled by its template. (The parser skips samples whose label
    // values hold `}`, which the format allows, so these lines are read as text.)
    assert!(
        text.lines()
            .any(|l| l == r#"atr_http_requests_total{method="GET",route="/api/projects/{project}",status="404"} 1"#),
        "by template, never by path: {text}"
    );
    assert!(!text.contains("no-such-project"), "{text}");
    // The scrape before this one was counted too.
    let scrapes = [("method", "GET"), ("route", "/metrics"), ("status", "200")];
    assert!(value(&after, "atr_http_requests_total", &scrapes).unwrap() >= 1.0);

    assert_eq!(
        value(&after, "atr_task_queue_tasks", &[("kind", "analyze"), ("status", "queued")]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(value(&after, "atr_task_queue_tasks", &[("kind", "analyze"), ("status", "active")]), Some(0.0));
    assert_eq!(value(&after, "atr_task_queue_tasks", &[("kind", "analyze"), ("status", "failed")]), Some(0.0));
    assert_eq!(value(&after, "atr_db_pool_max_connections", &[]), Some(8.0));
    let idle = value(&after, "atr_db_pool_connections", &[("state", "idle")]).unwrap();
    let in_use = value(&after, "atr_db_pool_connections", &[("state", "in_use")]).unwrap();
    assert!(idle + in_use >= 1.0 && idle + in_use <= 8.0, "{idle} + {in_use}");
    app.finish().await;
}

#[tokio::test]
async fn a_runner_beside_the_service_shows_its_series_in_the_same_scrape() {
    let app = TestApp::sqlite().await;
    let mut config = atr_tasks::runner::RunnerConfig::new("beside");
    config.max_concurrency = 3;
    config.initial_concurrency = 2;
    let runner = atr_tasks::runner::Runner::new(app.state.storage.sql.clone(), config);
    app.state.register_metrics(|registry| runner.register_metrics(registry));
    let scraped = scrape(&app).await;
    assert_eq!(value(&scraped, "atr_runner_concurrency_limit", &[]), Some(2.0));
    assert_eq!(value(&scraped, "atr_runner_max_concurrency", &[]), Some(3.0));
    assert_eq!(value(&scraped, "atr_runner_running_tasks", &[]), Some(0.0));
    app.finish().await;
}

#[tokio::test]
async fn metrics_are_refused_to_addresses_not_allowed() {
    // Loopback is not in this list, so the test's own address is refused.
    let config = HttpConfig { metrics_allow: MetricsAllow::parse(["10.0.0.0/8"]).unwrap(), ..HttpConfig::default() };
    let app = TestApp::start(atr_store::testing::sqlite().await, config).await;
    let answer = app.get("/metrics", Auth::Nobody).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.code(), "forbidden");
    assert!(answer.message().contains("--metrics-allow"), "{}", answer.text);
    assert!(!answer.text.contains("atr_http_requests"), "no series leak");
    // The probes stay open to everyone.
    app.get("/healthz", Auth::Nobody).await.expect(200_u16);
    app.get("/readyz", Auth::Nobody).await.expect(200_u16);
    // Only GET is routed.
    let post = app.send(Method::POST, "/metrics", Auth::Nobody, Body::Empty).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    app.finish().await;
}
