//! Crash safety of a revision, end to end: a child process writes a revision through the real
//! storage (files, then the database row) and is killed with SIGKILL at several points; after
//! a restart the release shows the old revision or the new one, complete, never a mix, and no
//! temporary folder is left.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::task::{Context, Poll};
use std::time::Duration;

use atr_core::model::{Committee, FileEntry, Metadata, Phase, Project, Release, ReleaseKey, Revision, RevisionNumber};
use atr_core::policy::PolicyOverrides;
use atr_core::ports::{
    ByteStream, CommitteeRepository, FileChange, ProjectRepository, ReleaseFiles, ReleaseRepository, RevisionRepository,
};
use atr_core::types::{CommitteeKey, ProjectKey, ReleasePath, Timestamp, UserId, Version};
use atr_store::{Storage, StorageConfig};
use bytes::Bytes;
use sha2::{Digest, Sha512};

const CHILD_ENV: &str = "ATR_CRASH_CHILD_DIR";
/// The database the child uses; without it, the SQLite database in its data directory.
const CHILD_DB_ENV: &str = "ATR_CRASH_CHILD_DATABASE";
const T0: Timestamp = Timestamp::from_unix(1_750_000_000);
const MARK: &str = "ATR-CRASH-MARK";

fn key() -> ReleaseKey {
    ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse("2.4.68").unwrap())
}

fn rev(n: u32) -> RevisionNumber {
    RevisionNumber::new(n).unwrap()
}

fn path(p: &str) -> ReleasePath {
    ReleasePath::parse(p).unwrap()
}

/// A stream fed by a channel, so the producer can go slowly and say where it is.
struct Channel(tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>);

impl futures_core::Stream for Channel {
    type Item = std::io::Result<Bytes>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

fn once(content: &'static [u8]) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.try_send(Ok(Bytes::from_static(content))).unwrap();
    Box::pin(Channel(rx))
}

/// 64 chunks of 64 KiB, slowly, announcing the first.
fn slow(marker: &'static str) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        for i in 0..64_u8 {
            if tx.send(Ok(Bytes::from(vec![i; 64 * 1024]))).await.is_err() {
                return;
            }
            if i == 1 {
                mark(marker);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    Box::pin(Channel(rx))
}

fn mark(what: &str) {
    use std::io::Write;
    println!("{MARK} {what}");
    std::io::stdout().flush().unwrap();
}

fn config(dir: &Path) -> StorageConfig {
    StorageConfig::new(dir)
}

/// The configuration a child process was given.
fn child_config() -> Option<StorageConfig> {
    let dir = std::env::var(CHILD_ENV).ok()?;
    Some(StorageConfig { database_url: std::env::var(CHILD_DB_ENV).ok(), ..StorageConfig::new(dir) })
}

async fn record(storage: &Storage, number: u32, parent: Option<u32>, files: Vec<FileEntry>) {
    let revision = Revision {
        release: key(),
        number: rev(number),
        parent: parent.map(rev),
        phase: Phase::Draft,
        created_at: T0,
        created_by: UserId::parse("rm").unwrap(),
        description: None,
        files,
    };
    RevisionRepository::record(&storage.sql, &revision).await.unwrap();
}

/// Revision 1: `keep.txt` and `old.txt`.
async fn seed(dir: &Path) {
    seed_with(&config(dir)).await;
}

async fn seed_with(config: &StorageConfig) {
    let (storage, _) = Storage::open(config).await.unwrap();
    let committee = CommitteeKey::parse("httpd").unwrap();
    CommitteeRepository::put(&storage.sql, &Committee::new(committee.clone(), "HTTP Server")).await.unwrap();
    let project = Project {
        key: ProjectKey::parse("httpd").unwrap(),
        committee: committee.clone(),
        metadata: Metadata::default(),
        policy: PolicyOverrides::default(),
        products: Vec::new(),
    };
    ProjectRepository::create(&storage.sql, &project).await.unwrap();
    let release = Release::new_draft(key(), committee, UserId::parse("rm").unwrap(), T0);
    ReleaseRepository::create(&storage.sql, &release).await.unwrap();
    let changes = vec![
        FileChange::Put { path: path("keep.txt"), content: once(b"kept") },
        FileChange::Put { path: path("old.txt"), content: once(b"old") },
    ];
    let files = storage.files.create_revision(&key(), None, rev(1), changes).await.unwrap();
    record(&storage, 1, None, files).await;
    storage.sql.close().await;
}

/// The child: writes revision 2 (a slow 4 MiB file, a small one, a delete), marking each step,
/// and waits to be killed after the step the parent asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child() {
    let Some(config) = child_config() else {
        return;
    };
    let (storage, _) = Storage::open(&config).await.unwrap();
    let changes = vec![
        FileChange::Put { path: path("big.bin"), content: slow("STREAMING-FIRST") },
        FileChange::Put { path: path("dir/second.bin"), content: slow("STREAMING-SECOND") },
        FileChange::Delete { path: path("old.txt") },
    ];
    let files = storage.files.create_revision(&key(), Some(rev(1)), rev(2), changes).await.unwrap();
    mark("RENAMED");
    tokio::time::sleep(Duration::from_millis(500)).await;
    record(&storage, 2, Some(1), files).await;
    mark("RECORDED");
    tokio::time::sleep(Duration::from_mins(1)).await;
}

/// Runs the child until it prints `stage`, then kills it with SIGKILL.
fn run_child_until(dir: &Path, stage: &str) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash::crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // The harness may print the test's name on the same line first.
        if let Some(m) = line.split_once(MARK).map(|(_, m)| m) {
            seen.push(m.trim().to_owned());
            if m.trim() == stage {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(seen.last().map(String::as_str), Some(stage), "the child stopped before {stage}: {seen:?}");
}

fn digest(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha512::digest(bytes).iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// After a restart: the release's latest revision is `expected`, its folder matches its
/// manifest byte for byte, any other revision folder is gone, and no temporary folder is left.
async fn assert_consistent(dir: &Path, expected: u32) {
    assert_consistent_with(&config(dir), expected).await;
}

async fn assert_consistent_with(config: &StorageConfig, expected: u32) {
    let (storage, recovery) = Storage::open(config).await.unwrap();
    assert!(recovery.missing_folders.is_empty(), "{recovery:?}");
    let release = ReleaseRepository::get(&storage.sql, &key()).await.unwrap().unwrap();
    assert_eq!(release.latest_revision, Some(rev(expected)), "{recovery:?}");
    assert_eq!(temporary_entries(&config.data_dir), 0, "temporary folders left");
    let recorded = RevisionRepository::get(&storage.sql, &key(), rev(expected)).await.unwrap().unwrap();
    let manifest = storage.files.manifest(&key(), rev(expected)).await.unwrap();
    assert_eq!(recorded.files, manifest);
    let folder = storage.files.revision_path(&key(), rev(expected)).join("files");
    for entry in &manifest {
        let bytes = std::fs::read(folder.join(entry.path.as_str())).unwrap();
        assert_eq!(bytes.len() as u64, entry.size, "{}", entry.path);
        assert_eq!(digest(&bytes), entry.sha512.to_hex(), "{}", entry.path);
    }
    let names: Vec<&str> = manifest.iter().map(|e| e.path.as_str()).collect();
    if expected == 1 {
        assert_eq!(names, ["keep.txt", "old.txt"]);
        assert!(!storage.files.revision_path(&key(), rev(2)).exists(), "an unrecorded revision 2 is visible");
    } else {
        assert_eq!(names, ["big.bin", "dir/second.bin", "keep.txt"]);
        assert_eq!(manifest[0].size, 64 * 64 * 1024);
    }
    storage.sql.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_writer_leaves_the_old_revision_or_the_new_one() {
    for (stage, expected) in [("STREAMING-FIRST", 1), ("STREAMING-SECOND", 1), ("RENAMED", 1), ("RECORDED", 2)] {
        let dir = tempfile::tempdir().unwrap();
        seed(dir.path()).await;
        let child_dir = dir.path().to_owned();
        let stage_name = stage.to_owned();
        tokio::task::spawn_blocking(move || run_child_until(&child_dir, &stage_name)).await.unwrap();
        assert_consistent(dir.path(), expected).await;
        // The next writer can make revision 2 after the recovery.
        if expected == 1 {
            let (storage, _) = Storage::open(&config(dir.path())).await.unwrap();
            let changes = vec![FileChange::Put { path: path("new.txt"), content: once(b"new") }];
            let files = storage.files.create_revision(&key(), Some(rev(1)), rev(2), changes).await.unwrap();
            record(&storage, 2, Some(1), files).await;
            storage.sql.close().await;
        }
    }
}

/// What lies under `files/tmp/`, not counting entries of processes that are still running
/// (which a fresh `Storage` has one of: its own empty workspace).
fn temporary_entries(dir: &Path) -> usize {
    let tmp = dir.join("files").join("tmp");
    std::fs::read_dir(&tmp)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            if path.is_dir() { std::fs::read_dir(&path).unwrap().count() } else { 1 }
        })
        .sum()
}

/// A writer process that waits for the parent's word at each step, so that the parent can do
/// something at exactly that point.
struct Writer {
    child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    seen: Vec<String>,
}

impl Writer {
    fn start(config: &StorageConfig) -> Self {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", "crash::paced_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &config.data_dir)
            .env_remove(CHILD_DB_ENV)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(url) = &config.database_url {
            command.env(CHILD_DB_ENV, url);
        }
        let mut child = command.spawn().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Self { child, lines, seen: Vec::new() }
    }

    /// Waits until the child reports `stage`.
    fn reached(&mut self, stage: &str) {
        for line in self.lines.by_ref() {
            let line = line.unwrap();
            if let Some(m) = line.split_once(MARK).map(|(_, m)| m.trim().to_owned()) {
                self.seen.push(m.clone());
                if m == stage {
                    return;
                }
            }
        }
        panic!("the writer stopped before {stage}; it reported {:?}", self.seen);
    }

    /// Lets the child go on to its next step.
    fn proceed(&mut self) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"go\n").unwrap();
        stdin.flush().unwrap();
    }

    fn kill(self) {
        drop(self);
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for the parent's word (a line on stdin).
async fn word_from_parent() {
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).unwrap();
    })
    .await
    .unwrap();
}

/// A stream of 64 chunks of 64 KiB that pauses after the second one until the parent says so.
fn paced() -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        for i in 0..64_u8 {
            if tx.send(Ok(Bytes::from(vec![i; 64 * 1024]))).await.is_err() {
                return;
            }
            if i == 1 {
                mark("STREAMING-FIRST");
                word_from_parent().await;
            }
        }
    });
    Box::pin(Channel(rx))
}

/// The paced child: writes revision 2 as `crash_child` does, but stops at each step (streaming,
/// renamed, recorded) until the parent says to go on; after the last one it waits to be killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paced_child() {
    let Some(config) = child_config() else {
        return;
    };
    // However the parent fares, this process ends within a minute.
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_mins(1));
        std::process::exit(2);
    });
    let (storage, _) = Storage::open(&config).await.unwrap();
    let changes = vec![
        FileChange::Put { path: path("big.bin"), content: paced() },
        FileChange::Put { path: path("dir/second.bin"), content: once(b"second") },
        FileChange::Delete { path: path("old.txt") },
    ];
    let created = storage.files.create_revision(&key(), Some(rev(1)), rev(2), changes).await;
    let files = created.unwrap_or_else(|e| {
        // Exit at once: a runtime would wait for the blocked read of stdin.
        mark(&format!("FAILED {e}"));
        std::process::exit(1)
    });
    mark("RENAMED");
    word_from_parent().await;
    record(&storage, 2, Some(1), files).await;
    mark("RECORDED");
    word_from_parent().await;
    tokio::time::sleep(Duration::from_mins(1)).await;
}

/// What `assert_consistent` expects of revision 2, written by the paced child.
async fn assert_paced_revision(config: &StorageConfig) {
    let (storage, _) = Storage::open(config).await.unwrap();
    let release = ReleaseRepository::get(&storage.sql, &key()).await.unwrap().unwrap();
    assert_eq!(release.latest_revision, Some(rev(2)));
    let recorded = RevisionRepository::get(&storage.sql, &key(), rev(2)).await.unwrap().unwrap();
    let manifest = storage.files.manifest(&key(), rev(2)).await.unwrap();
    assert_eq!(recorded.files, manifest, "the recorded revision has its files");
    let names: Vec<&str> = manifest.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(names, ["big.bin", "dir/second.bin", "keep.txt"]);
    let folder = storage.files.revision_path(&key(), rev(2)).join("files");
    for entry in &manifest {
        let bytes = std::fs::read(folder.join(entry.path.as_str())).unwrap();
        assert_eq!(digest(&bytes), entry.sha512.to_hex(), "{}", entry.path);
    }
    storage.sql.close().await;
}

/// Storage opened by a second process (as `atr worker` does beside `atr serve`) while a revision
/// is being streamed, and again between its rename and its row: the reconciliation leaves the
/// running writer's work alone, and the revision is recorded with all its files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_storage_beside_a_running_writer_leaves_its_revision_alone() {
    for db in atr_store::testing::databases().await {
        let dir = tempfile::tempdir().unwrap();
        let config = StorageConfig { database_url: Some(db.url.clone()), ..StorageConfig::new(dir.path()) };
        seed_with(&config).await;
        let mut writer = Writer::start(&config);
        for stage in ["STREAMING-FIRST", "RENAMED"] {
            writer.reached(stage);
            let (beside, recovery) = Storage::open(&config).await.unwrap();
            assert_eq!(recovery.temporary_removed, 0, "{stage}: {recovery:?}");
            assert!(recovery.unrecorded_removed.is_empty(), "{stage}: {recovery:?}");
            assert!(recovery.missing_folders.is_empty(), "{stage}: {recovery:?}");
            beside.sql.close().await;
            writer.proceed();
        }
        writer.reached("RECORDED");
        // The writer is still running; opening beside it again changes nothing.
        let (beside, recovery) = Storage::open(&config).await.unwrap();
        assert_eq!(recovery, atr_store::Recovery::default());
        beside.sql.close().await;
        assert_paced_revision(&config).await;
        writer.kill();
        // And once it is gone, a restart finds everything in order.
        assert_consistent_with(&config, 2).await;
        db.finish().await;
    }
}

/// A dead writer's leftovers are still cleaned, while a live process's workspace is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_writers_leftovers_are_cleaned_beside_a_live_one() {
    for (stage, unrecorded) in [("STREAMING-FIRST", false), ("RENAMED", true)] {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        seed_with(&config).await;
        let (live, _) = Storage::open(&config).await.unwrap();
        let mut writer = Writer::start(&config);
        writer.reached("STREAMING-FIRST");
        if stage == "RENAMED" {
            writer.proceed();
            writer.reached("RENAMED");
        }
        writer.kill();
        let (beside, recovery) = Storage::open(&config).await.unwrap();
        // Killed while streaming, it leaves its build in its temporary folder; killed after the
        // rename, a revision folder without a row.
        let (temporary, expected) = if unrecorded { (0, vec![(key(), rev(2))]) } else { (1, vec![]) };
        assert_eq!(recovery.temporary_removed, temporary, "{stage}: {recovery:?}");
        assert_eq!(recovery.unrecorded_removed, expected, "{stage}: {recovery:?}");
        assert!(!beside.files.revision_path(&key(), rev(2)).exists(), "{stage}");
        beside.sql.close().await;
        // The live process was left alone and can write revision 2.
        let changes = vec![FileChange::Put { path: path("new.txt"), content: once(b"new") }];
        let files = live.files.create_revision(&key(), Some(rev(1)), rev(2), changes).await.unwrap();
        record(&live, 2, Some(1), files).await;
        live.sql.close().await;
        drop(live);
        let (storage, recovery) = Storage::open(&config).await.unwrap();
        assert_eq!(recovery, atr_store::Recovery::default(), "{stage}");
        assert_eq!(temporary_entries(dir.path()), 0, "{stage}");
        storage.sql.close().await;
    }
}

/// In one process: a revision folder that an open store renamed but did not record yet is left
/// to it by a second store's reconciliation, and removed once the first store is closed.
#[tokio::test]
async fn an_unrecorded_revision_of_an_open_store_is_left_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    seed_with(&config).await;
    let (writer, _) = Storage::open(&config).await.unwrap();
    let changes = vec![FileChange::Put { path: path("new.txt"), content: once(b"new") }];
    writer.files.create_revision(&key(), Some(rev(1)), rev(2), changes).await.unwrap();
    let (beside, recovery) = Storage::open(&config).await.unwrap();
    assert_eq!(recovery.unrecorded_in_flight, [(key(), rev(2))], "{recovery:?}");
    assert!(recovery.unrecorded_removed.is_empty(), "{recovery:?}");
    assert!(beside.files.revision_path(&key(), rev(2)).exists());
    writer.sql.close().await;
    drop(writer);
    let recovery = beside.reconcile().await.unwrap();
    assert_eq!(recovery.unrecorded_removed, [(key(), rev(2))], "{recovery:?}");
    assert!(recovery.unrecorded_in_flight.is_empty(), "{recovery:?}");
    assert!(!beside.files.revision_path(&key(), rev(2)).exists());
    beside.sql.close().await;
}
