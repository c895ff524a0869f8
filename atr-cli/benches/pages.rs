//! Server time of the web pages at p95, against `atr serve --demo`, with the JSON API's answer
//! for the same release measured in the same run as the baseline.
//!
//! `cargo bench -p atr-cli --bench pages` (`ATR_BENCH_ROUNDS`, default 200 requests per page).
//! Requests are sent one at a time over loopback with a kept-alive connection, so a request's
//! time is the server's time plus a loopback round trip. Not part of the test suite.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn p95(mut times: Vec<Duration>) -> Duration {
    times.sort();
    let at = (times.len() * 95).div_ceil(100).saturating_sub(1);
    times[at]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rounds: usize = std::env::var("ATR_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(200);
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_atr"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--demo"])
        .env_remove("ATR_DATABASE_URL")
        .env_remove("ATR_CONFIG")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_owned();
    lines.by_ref().map(Result::unwrap).find(|l| l.starts_with("demo loaded")).unwrap();
    std::thread::spawn(move || lines.for_each(drop));

    let client = reqwest::Client::new();
    let signed_in = client
        .post(format!("{base}/api/session"))
        .json(&serde_json::json!({ "user": "rm", "password": "atr-demo-password" }))
        .send()
        .await
        .unwrap();
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();

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
        let mut sorted = times.clone();
        sorted.sort();
        let p50 = sorted[sorted.len() / 2];
        let p95 = p95(times);
        let base_p95 = *baseline.get_or_insert(p95);
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.2}x |",
            p95.as_secs_f64() * 1000.0,
            p50.as_secs_f64() * 1000.0,
            p95.as_secs_f64() / base_p95.as_secs_f64()
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}
