//! Crash safety of a revision, end to end: a child process writes a revision through the real
//! storage (files, then the database row) and is killed with SIGKILL at several points; after
//! a restart the release shows the old revision or the new one, complete, never a mix, and no
//! temporary folder is left.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::pin::Pin;
use std::process::{Command, Stdio};
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
    let (storage, _) = Storage::open(&config(dir)).await.unwrap();
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
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (storage, _) = Storage::open(&config(Path::new(&dir))).await.unwrap();
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
    let (storage, recovery) = Storage::open(&config(dir)).await.unwrap();
    assert!(recovery.missing_folders.is_empty(), "{recovery:?}");
    let release = ReleaseRepository::get(&storage.sql, &key()).await.unwrap().unwrap();
    assert_eq!(release.latest_revision, Some(rev(expected)), "{recovery:?}");
    let tmp = dir.join("files").join("tmp");
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "temporary folders left in {}", tmp.display());
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
