//! Keyset paging of a project's releases at scale: the drafts section of the project page and
//! the JSON listing, first page and a page deep in the list, for a project with a handful of
//! drafts and for one with `ATR_BENCH_RELEASES` (default 100,000).
//!
//! `cargo bench -p atr-cli --bench paging` (`ATR_BENCH_ROUNDS`, default 200 requests per page).
//! The bench starts `atr serve --demo` over a fresh data directory, then opens the same storage
//! in this process and starts the drafts through the core's services (each one transaction, as
//! the API would), and measures requests one at a time over a kept-alive loopback connection, as
//! the bench of the pages does. Not part of the test suite.

use std::time::{Instant, SystemTime};

use atr_core::auth::Principal;
use atr_core::model::ReleaseKey;
use atr_core::policy::VotePolicy;
use atr_core::services::Services;
use atr_core::types::{ProjectKey, Timestamp, UserId, Version};
use atr_store::{Storage, StorageConfig};

mod support;

fn now() -> Timestamp {
    let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    Timestamp::from_unix(i64::try_from(secs).unwrap())
}

/// The `i`th bench version: 9.<i / 1000>.<i % 1000>, so that version order and number order agree
/// within a thousand and the keyset cursor crosses many segments.
fn version(i: u32) -> Version {
    Version::parse(&format!("9.{}.{}", i / 1000, i % 1000)).unwrap()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rounds: usize = std::env::var("ATR_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(200);
    let many: u32 = std::env::var("ATR_BENCH_RELEASES").ok().and_then(|r| r.parse().ok()).unwrap_or(100_000);
    let demo = support::Demo::start(&["--no-worker"]);
    let base = demo.base.clone();

    // The drafts, through the core's services over the same database.
    let (storage, _) = Storage::open(&StorageConfig::new(demo.data.as_ref().unwrap().path())).await.unwrap();
    let services = Services::new(storage.ports(), VotePolicy::foundation_default()).unwrap();
    let rm_id = UserId::parse("rm").unwrap();
    let rm = Principal::Person(storage.ports().persons.get(&rm_id).await.unwrap().unwrap());
    let started = Instant::now();
    for (project, count) in [("wayang", 10), ("httpd", many)] {
        let project = ProjectKey::parse(project).unwrap();
        for i in 0..count {
            let key = ReleaseKey::new(project.clone(), None, version(i));
            services.start_release(&rm, key, now()).await.unwrap();
        }
    }
    eprintln!("started {} drafts in {:.1} s", many + 10, started.elapsed().as_secs_f64());
    drop(services);
    drop(storage);

    let client = reqwest::Client::new();
    let cookie = demo.rm_cookie(&client).await;

    let deep = version(many / 2);
    let targets = [
        ("JSON, wayang: 10 drafts, first page".to_owned(), "/api/projects/wayang/releases?limit=25".to_owned()),
        (format!("JSON, httpd: {many} drafts, first page"), "/api/projects/httpd/releases?limit=25".to_owned()),
        (
            format!("JSON, httpd: {many} drafts, after {deep}"),
            format!("/api/projects/httpd/releases?limit=25&after={deep}"),
        ),
        ("page, wayang: 10 drafts".to_owned(), "/projects/wayang?stage=draft".to_owned()),
        (format!("page, httpd: {many} drafts, first page"), "/projects/httpd?stage=draft".to_owned()),
        (format!("page, httpd: {many} drafts, after {deep}"), format!("/projects/httpd?stage=draft&after={deep}")),
    ];
    let mut baseline = None;
    println!("| listing | p95 | p50 | p95 / 10 drafts |");
    println!("|---|---|---|---|");
    for (name, path) in targets {
        let mut times = Vec::with_capacity(rounds);
        let mut last = String::new();
        for round in 0..rounds + 10 {
            let request = client.get(format!("{base}{path}")).header("accept", "text/html").header("cookie", &cookie);
            let started = Instant::now();
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{path}: {}", response.status());
            last = response.text().await.unwrap();
            // The first rounds warm caches and the connection.
            if round >= 10 {
                times.push(started.elapsed());
            }
        }
        // Each listing answers a full page of drafts (rm may read them), not an empty one.
        assert!(last.matches("9.").count() >= 10, "{path} listed too few drafts");
        let (p95, p50) = support::percentiles(times);
        if name.contains("wayang") {
            baseline = Some(p95);
        }
        let base_p95 = baseline.unwrap_or(p95);
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.2}x |",
            p95.as_secs_f64() * 1000.0,
            p50.as_secs_f64() * 1000.0,
            p95.as_secs_f64() / base_p95.as_secs_f64()
        );
    }
}
