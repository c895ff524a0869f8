//! Workers started beside a serving `atr serve` lose nothing the server acknowledged.
//!
//! The real binary: one `atr serve --demo` takes streamed uploads to three releases at once while
//! `atr worker`s on the same data directory and database are started (each reconciles storage at
//! start) and killed with SIGKILL, over and over. Every upload must be answered 201, and every
//! acknowledged revision must afterwards be recorded with all its files, byte for byte. Bounded:
//! 3 releases of 8 uploads, on loopback only; on PostgreSQL as well when `ATR_TEST_DATABASE_URL`
//! is set.

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use atr_core::model::{ReleaseKey, RevisionNumber};
use atr_core::ports::{ReleaseFiles, ReleaseRepository, RevisionRepository};
use atr_core::types::{ProjectKey, ReleasePath, Version};
use atr_store::{Storage, StorageConfig};
use sha2::{Digest, Sha512};

use support::{Running, atr, hex};

const PASSWORD: &str = "atr-demo-password";
const RELEASES: [&str; 3] = ["9.0.0", "9.1.0", "9.2.0"];
const UPLOADS: usize = 8;
const CHUNKS: usize = 16;
const CHUNK: usize = 32 * 1024;
const PAUSE: Duration = Duration::from_millis(15);

/// Starts `atr serve --demo`; answers it and its address once the demo is loaded.
fn serve(config: &StorageConfig) -> (Running, String) {
    let mut child = atr(config)
        .args(["serve", "--listen", "127.0.0.1:0", "--demo"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let address = first.split_whitespace().find(|w| w.starts_with("http://")).unwrap().trim_end_matches('/').to_owned();
    lines.by_ref().map(Result::unwrap).find(|l| l.starts_with("demo loaded")).unwrap();
    std::thread::spawn(move || lines.for_each(drop));
    (Running(child), address)
}

/// Starts and kills workers until `stop`; answers how many started, and what each reported of
/// its start-up reconciliation.
fn churn_workers(config: &StorageConfig, stop: &AtomicBool, seed: u64) -> (usize, Vec<String>) {
    let mut started = 0;
    let mut reports = Vec::new();
    let mut state = seed | 1;
    while !stop.load(Ordering::SeqCst) {
        let mut child = atr(config)
            .args(["worker", "--concurrency", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let errors =
            std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>());
        let stdout = child.stdout.take().unwrap();
        let running = BufReader::new(stdout).lines().map_while(Result::ok).any(|l| l.contains("running tasks"));
        // Its start-up reconciliation is over; let it run a moment, then kill it.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        std::thread::sleep(Duration::from_millis(state % 60));
        let mut worker = Running(child);
        let _ = worker.0.kill();
        let _ = worker.0.wait();
        drop(worker);
        let errors = errors.join().unwrap();
        assert!(running, "a worker did not start: {errors:?}");
        reports.extend(errors.into_iter().filter(|l| l.starts_with("storage at start: ")));
        started += 1;
    }
    (started, reports)
}

fn token(config: &StorageConfig, server: &str) -> String {
    let output = atr(config)
        .args(["--server", server, "token", "create", "--user", "rm", "--project", "httpd"])
        .args(["--action", "manage_release", "--action", "perform_actions"])
        .env("ATR_PASSWORD", PASSWORD)
        .env("XDG_CONFIG_HOME", config.data_dir.join("client-config"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Reproducible bytes of upload `index` to release `release`.
fn chunk(release: usize, index: usize, part: usize) -> Vec<u8> {
    let seed = u64::try_from((release * 1000 + index) * 100 + part).unwrap();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..CHUNK)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[3]
        })
        .collect()
}

fn content(release: usize, index: usize) -> Vec<u8> {
    (0..CHUNKS).flat_map(|part| chunk(release, index, part)).collect()
}

/// An upload the server acknowledged: release, revision, file name, SHA-512.
type Acknowledged = (String, u64, String, String);

/// Uploads `UPLOADS` files to one release, one after the other, each streamed slowly; every
/// answer must be 201.
async fn upload_all(client: reqwest::Client, server: String, token: String, release: usize) -> Vec<Acknowledged> {
    let version = RELEASES[release];
    let base = format!("{server}/api/projects/httpd/releases");
    let started =
        client.post(&base).bearer_auth(&token).json(&serde_json::json!({ "version": version })).send().await.unwrap();
    assert_eq!(started.status(), 201, "{}", started.text().await.unwrap());
    let mut latest: Option<u64> = None;
    let mut acknowledged = Vec::new();
    for index in 0..UPLOADS {
        let name = format!("part-{index}.bin");
        // The body is written into a pipe slowly, so the upload is in flight for a while.
        let (mut writer, reader) = tokio::io::duplex(CHUNK);
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt as _;
            for part in 0..CHUNKS {
                if writer.write_all(&chunk(release, index, part)).await.is_err() {
                    return;
                }
                tokio::time::sleep(PAUSE).await;
            }
        });
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(reader));
        let if_match = latest.map_or_else(|| "none".to_owned(), |n| format!("\"{n}\""));
        let answer = client
            .put(format!("{base}/{version}/files/{name}"))
            .bearer_auth(&token)
            .header("if-match", if_match)
            .header("content-length", CHUNKS * CHUNK)
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let text = answer.text().await.unwrap();
        assert_eq!(status, 201, "upload {index} to {version}: {text}");
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        let number = answer["revision"]["number"].as_u64().unwrap();
        let digest = hex(&Sha512::digest(content(release, index)));
        acknowledged.push((version.to_owned(), number, name, digest));
        latest = Some(number);
    }
    acknowledged
}

/// Every acknowledged upload is in a recorded revision whose files are on disk, byte for byte.
async fn assert_nothing_lost(config: &StorageConfig, acknowledged: &[Acknowledged]) {
    let (storage, recovery) = Storage::open(config).await.unwrap();
    assert!(recovery.missing_folders.is_empty(), "{recovery:?}");
    assert!(recovery.unrecorded_removed.is_empty(), "the server was stopped between uploads: {recovery:?}");
    for (version, number, name, digest) in acknowledged {
        let key = ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse(version).unwrap());
        let number = RevisionNumber::new(u32::try_from(*number).unwrap()).unwrap();
        let revision = RevisionRepository::get(&storage.sql, &key, number).await.unwrap();
        let revision = revision.unwrap_or_else(|| panic!("revision {number} of {version} is not recorded"));
        let manifest = storage.files.manifest(&key, number).await.unwrap();
        assert_eq!(revision.files, manifest, "revision {number} of {version}");
        let entry = manifest.iter().find(|e| e.path == ReleasePath::parse(name).unwrap()).unwrap();
        assert_eq!(&entry.sha512.to_hex(), digest, "{name} in revision {number} of {version}");
        let stream = storage.files.open(&key, number, &entry.path).await.unwrap();
        let mut bytes = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut tokio_util::io::StreamReader::new(stream), &mut bytes).await.unwrap();
        assert_eq!(&hex(&Sha512::digest(&bytes)), digest, "{name} as stored in revision {number} of {version}");
    }
    for version in RELEASES {
        let key = ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse(version).unwrap());
        let release = ReleaseRepository::get(&storage.sql, &key).await.unwrap().unwrap();
        let latest = release.latest_revision.unwrap();
        assert_eq!(storage.files.manifest(&key, latest).await.unwrap().len(), UPLOADS, "{version}");
    }
    storage.sql.close().await;
}

async fn run(config: StorageConfig) {
    let (server, address) = serve(&config);
    let token = token(&config, &address);
    let stop = Arc::new(AtomicBool::new(false));
    let starts = Arc::new(AtomicUsize::new(0));
    let churners: Vec<_> = (0..2_u64)
        .map(|seed| {
            let (config, stop, starts) = (config.clone(), stop.clone(), starts.clone());
            std::thread::spawn(move || {
                let (started, reports) = churn_workers(&config, &stop, seed + 7);
                starts.fetch_add(started, Ordering::SeqCst);
                reports
            })
        })
        .collect();
    let client = reqwest::Client::builder().timeout(Duration::from_mins(1)).build().unwrap();
    let uploads: Vec<_> = (0..RELEASES.len())
        .map(|release| tokio::spawn(upload_all(client.clone(), address.clone(), token.clone(), release)))
        .collect();
    let mut acknowledged = Vec::new();
    let mut failure = None;
    for upload in uploads {
        match upload.await {
            Ok(done) => acknowledged.extend(done),
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    stop.store(true, Ordering::SeqCst);
    let reports: Vec<String> = churners.into_iter().flat_map(|c| c.join().unwrap()).collect();
    drop(server);
    if let Some(e) = failure {
        std::panic::resume_unwind(e.into_panic());
    }
    let starts = starts.load(Ordering::SeqCst);
    assert!(starts >= 4, "only {starts} workers started during the uploads");
    // Workers write no revisions, and the server was running all along: no worker may have
    // removed anything or missed a folder; all a worker may report is revisions the server was
    // recording as it looked.
    for report in &reports {
        assert!(report.contains("alone that a running process is still recording"), "{report}");
    }
    assert_eq!(acknowledged.len(), RELEASES.len() * UPLOADS);
    assert_nothing_lost(&config, &acknowledged).await;
    println!("{} uploads acknowledged and kept beside {starts} worker starts", acknowledged.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_started_beside_the_server_lose_no_acknowledged_upload() {
    let data = tempfile::tempdir().unwrap();
    run(StorageConfig::new(data.path())).await;
    for db in atr_store::testing::databases().await {
        if db.url.starts_with("postgres") {
            let data = tempfile::tempdir().unwrap();
            run(StorageConfig { database_url: Some(db.url.clone()), ..StorageConfig::new(data.path()) }).await;
        }
        db.finish().await;
    }
}
