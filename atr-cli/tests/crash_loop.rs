//! The crash loop for revisions: `atr serve` on a temporary data directory takes uploads from
//! several clients at once and is killed with SIGKILL at random moments, again and again. After
//! each kill, before the next start, the data directory is checked:
//!
//! - every upload the service acknowledged (201) is in the release's latest revision, with the
//!   SHA-512 of the bytes sent, and the file on disk has those bytes;
//! - every revision on disk has its row and every row its folder, whose files match the manifest
//!   (once the storage has reconciled, as every start does: a folder the killed writer left
//!   without its row is removed then);
//! - the event chain verifies (`atr verify-events`).
//!
//! On SQLite, and on PostgreSQL as well when `ATR_TEST_DATABASE_URL` names a server.
//!
//! `ATR_CRASH_KILLS` sets the number of kills (10 by default: the short version the test command
//! runs; `docs/reliability.md` has the long one) and `ATR_CRASH_SEED` the seed of the sizes, the
//! contents and the moments of the kills, so that a failing run can be repeated.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use atr_core::model::ReleaseKey;
use atr_core::ports::{PageRequest, ReleaseRepository, RevisionRepository};
use atr_core::types::{ProjectKey, ReleasePath, Version};
use atr_store::{Storage, StorageConfig};
use sha2::{Digest, Sha512};

use support::{Running, atr, hex};

const PASSWORD: &str = "atr-demo-password";
const VERSION: &str = "9.0.0";
/// Clients uploading at once.
const CLIENTS: usize = 3;

/// A small seedable generator: the run is repeatable from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Starts the service (with the demo data the first time) and answers it with its address.
fn start(config: &StorageConfig, demo: bool) -> (Running, String) {
    let mut command = atr(config);
    command.args(["serve", "--listen", "127.0.0.1:0", "--no-worker"]);
    if demo {
        command.arg("--demo");
    }
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("the service prints its address").unwrap();
    let address = first.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_owned();
    if demo {
        lines.by_ref().map(Result::unwrap).find(|l| l.starts_with("demo loaded")).unwrap();
    }
    std::thread::spawn(move || lines.for_each(drop));
    (Running(child), address)
}

fn succeeded(command: &mut Command) -> String {
    let output = command.stdin(Stdio::null()).output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Uploads new files until the service stops answering; answers the acknowledged ones.
async fn upload_until_killed(address: String, token: String, client: usize, mut rng: Rng) -> Vec<(String, String)> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let mut acknowledged = Vec::new();
    for n in 0.. {
        let size = usize::try_from(rng.below(192 * 1024)).unwrap();
        let content = rng.bytes(size);
        let name = format!("c{client}-{:016x}-{n}.bin", rng.next());
        let url = format!("{address}/api/projects/httpd/releases/{VERSION}/files/{name}");
        let digest = hex(&Sha512::digest(&content));
        // A race for the parent revision is answered 409, and the per-person upload cap 429: retried.
        let acknowledged_now = loop {
            let answer = http.put(&url).bearer_auth(&token).body(content.clone()).send().await;
            match answer.map(|a| a.status().as_u16()) {
                Ok(201) => break true,
                Ok(409 | 429) => tokio::time::sleep(Duration::from_millis(5)).await,
                Ok(other) => panic!("upload of {name} answered {other}"),
                // Killed: this upload may or may not have been stored, but it was not acknowledged.
                Err(_) => break false,
            }
        };
        if !acknowledged_now {
            break;
        }
        acknowledged.push((name, digest));
    }
    acknowledged
}

/// The checks after a kill; see the module documentation. Answers how many interrupted writes the
/// reconciliation cleaned up: revisions being built, and revision folders left without their row.
async fn check_data(config: &StorageConfig, acknowledged: &BTreeMap<String, String>) -> (usize, usize) {
    let (storage, recovery) = Storage::open(config).await.unwrap();
    assert!(recovery.missing_folders.is_empty(), "a recorded revision lost its folder: {recovery:?}");
    assert!(recovery.unrecorded_in_flight.is_empty(), "the killed writer is still running: {recovery:?}");
    let cleaned = (recovery.temporary_removed, recovery.unrecorded_removed.len());
    let key = ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse(VERSION).unwrap());
    let release = ReleaseRepository::get(&storage.sql, &key).await.unwrap().expect("the release");
    let mut rows = Vec::new();
    loop {
        let page = PageRequest { after: rows.last().map(|r: &atr_core::model::Revision| r.number), limit: 500 };
        let more = RevisionRepository::list(&storage.sql, &key, page).await.unwrap();
        if more.is_empty() {
            break;
        }
        rows.extend(more);
    }
    let Some(latest) = rows.last() else {
        assert!(acknowledged.is_empty() && release.latest_revision.is_none(), "an acknowledged upload has no revision");
        storage.sql.close().await;
        return cleaned;
    };
    assert_eq!(release.latest_revision, Some(latest.number), "the release names its newest revision");
    // Rows and folders, one to one.
    // `<release>/<NNNNN>/files`: the folder of the release's revisions is two levels up.
    let files = storage.files.files_folder(&key, latest.number);
    let release_dir = files.parent().and_then(Path::parent).unwrap();
    let mut folders: Vec<String> = std::fs::read_dir(release_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let numbered: Vec<String> = rows.iter().map(|r| r.number.to_string()).collect();
    assert_eq!(folders, numbered, "every revision folder has its row and every row its folder");
    for row in &rows {
        let files = storage.files.files_folder(&key, row.number);
        for entry in &row.files {
            let on_disk = std::fs::metadata(files.join(entry.path.as_str())).unwrap();
            assert_eq!(on_disk.len(), entry.size, "{} of revision {}", entry.path, row.number);
        }
    }
    // Every acknowledged upload is in the latest revision, with its bytes.
    let manifest: BTreeMap<&str, String> =
        latest.files.iter().map(|f| (f.path.as_str(), f.sha512.to_string())).collect();
    let folder = storage.files.files_folder(&key, latest.number);
    for (name, digest) in acknowledged {
        assert_eq!(manifest.get(name.as_str()), Some(digest), "acknowledged {name} is in the latest revision");
        let path = ReleasePath::parse(name).unwrap();
        let bytes = std::fs::read(folder.join(path.as_str())).unwrap();
        assert_eq!(&hex(&Sha512::digest(&bytes)), digest, "{name} on disk has the bytes sent");
    }
    storage.sql.close().await;
    let verified = succeeded(atr(config).arg("verify-events"));
    assert!(verified.starts_with("audit log intact"), "{verified}");
    cleaned
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_uploads_survive_sigkill_and_nothing_is_half_visible() {
    for db in atr_store::testing::databases().await {
        let data = tempfile::tempdir().unwrap();
        crash_loop(&StorageConfig { database_url: Some(db.url.clone()), ..StorageConfig::new(data.path()) }).await;
        db.finish().await;
    }
}

/// The loop on one database; see the module documentation.
async fn crash_loop(config: &StorageConfig) {
    let kills = env_or("ATR_CRASH_KILLS", 10);
    let seed = env_or("ATR_CRASH_SEED", 0x5EED_2026);
    let mut rng = Rng(seed | 1);
    let (mut server, address) = start(config, true);
    let token = succeeded(
        atr(config)
            .args(["--server", &address, "token", "create", "--user", "rm", "--project", "httpd"])
            .args(["--action", "manage_release"])
            .env("ATR_PASSWORD", PASSWORD),
    )
    .trim()
    .to_owned();
    succeeded(atr(config).args(["--server", &address, "release", "start", "httpd", VERSION]).env("ATR_TOKEN", &token));

    let mut acknowledged: BTreeMap<String, String> = BTreeMap::new();
    let (mut building, mut unrecorded) = (0, 0);
    let mut address = address;
    for kill in 0..kills {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let rng = Rng(rng.next() | 1);
                tokio::spawn(upload_until_killed(address.clone(), token.clone(), client, rng))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(200 + rng.below(1000))).await;
        // SIGKILL, waited for.
        drop(server);
        for client in clients {
            acknowledged.extend(client.await.unwrap());
        }
        let (built, rows) = check_data(config, &acknowledged).await;
        (building, unrecorded) = (building + built, unrecorded + rows);
        eprintln!(
            "{}: kill {}: {} uploads acknowledged so far; {building} interrupted builds and {unrecorded} revisions \
             without their row cleaned at start",
            if config.database_url.as_deref().is_some_and(|u| u.starts_with("postgres")) {
                "PostgreSQL"
            } else {
                "SQLite"
            },
            kill + 1,
            acknowledged.len()
        );
        (server, address) = start(config, false);
    }
    drop(server);
    assert!(u64::try_from(acknowledged.len()).unwrap() >= kills, "uploads got through: {}", acknowledged.len());
}
