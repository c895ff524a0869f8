//! Server time of the web pages at p95, against `atr serve --demo`, with the JSON API's answer
//! for the same release measured in the same run as the baseline.
//!
//! `cargo bench -p atr-cli --bench pages` (`ATR_BENCH_ROUNDS`, default 200 requests per page).
//! Requests are sent one at a time over loopback with a kept-alive connection, so a request's
//! time is the server's time plus a loopback round trip. Not part of the test suite.

use std::time::Instant;

mod support;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rounds: usize = std::env::var("ATR_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(200);
    let demo = support::Demo::start(&[]);
    let base = demo.base.clone();
    let client = reqwest::Client::new();
    let cookie = demo.rm_cookie(&client).await;

    // The demo's key is generated at start: its page is found through the committee's keys.
    let keys: serde_json::Value =
        client.get(format!("{base}/api/committees/httpd/keys")).send().await.unwrap().json().await.unwrap();
    let key_page = format!("/keys/{}", keys[0]["fingerprint"].as_str().unwrap());

    let targets: [(&str, &str, bool); 15] = [
        ("JSON API: GET /api/projects/httpd/releases/2.4.68 (baseline)", "/api/projects/httpd/releases/2.4.68", false),
        ("directory /", "/", false),
        ("project /projects/httpd", "/projects/httpd", false),
        ("release page, candidate (anonymous)", "/projects/httpd/releases/2.4.68", false),
        ("release page, candidate (rm signed in)", "/projects/httpd/releases/2.4.68", true),
        ("release page, current", "/projects/httpd/releases/2.4.66", false),
        ("project history /projects/httpd/audit", "/projects/httpd/audit", true),
        ("download folder, HTML", "/current/httpd/2.4.66/", false),
        ("sign-in page", "/signin", false),
        ("project configuration /projects/httpd/config", "/projects/httpd/config", false),
        ("key page", key_page.as_str(), false),
        ("CVE page /cves/CVE-2026-10001", "/cves/CVE-2026-10001", false),
        ("task page /tasks/1 (rm signed in)", "/tasks/1", true),
        ("search `/search?q=httpd`", "/search?q=httpd", false),
        ("search by version `/search?q=2.4`", "/search?q=2.4", false),
    ];
    let mut baseline = None;
    println!("| page | p95 | p50 | p95 / baseline |");
    println!("|---|---|---|---|");
    for (name, path, with_session) in targets {
        let mut times = Vec::with_capacity(rounds);
        for round in 0..rounds + 10 {
            let mut request = client.get(format!("{base}{path}")).header("accept", "text/html");
            if with_session {
                request = request.header("cookie", &cookie);
            }
            let started = Instant::now();
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{path}: {}", response.status());
            response.bytes().await.unwrap();
            // The first rounds warm caches and the connection.
            if round >= 10 {
                times.push(started.elapsed());
            }
        }
        let (p95, p50) = support::percentiles(times);
        let base_p95 = *baseline.get_or_insert(p95);
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.2}x |",
            p95.as_secs_f64() * 1000.0,
            p50.as_secs_f64() * 1000.0,
            p95.as_secs_f64() / base_p95.as_secs_f64()
        );
    }
}
