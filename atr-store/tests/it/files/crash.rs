//! A writer killed at any point leaves the old state or the complete new revision, never a part.
//!
//! The test runs its own test binary again as a child process that builds a revision slowly and
//! reports its progress on stdout; the parent kills it (SIGKILL) at several points, then checks
//! what a restart finds.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use atr_core::ports::ReleaseFiles;
use bytes::Bytes;

use super::{
    TestRoot, assert_complete, channel_stream, expected_manifest, noise, path, put, release, rev, this_test_binary,
};

/// Tells the child test where the release files are; without it the child test does nothing.
const CHILD_ENV: &str = "ATR_FILES_CRASH_CHILD";
const CHILD_TEST: &str = "files::crash::child_builds_a_revision_slowly";
/// Prefix of the progress lines of the child.
const MARK: &str = "@@stage ";
const CHUNKS: usize = 100;
const CHUNK: usize = 16 * 1024;
const PAUSE: Duration = Duration::from_millis(20);

/// Chunk `index` of the slowly streamed file number `file`.
fn slow_chunk(file: u64, index: usize) -> Vec<u8> {
    noise(file * 1000 + index as u64, CHUNK)
}

fn slow_file(file: u64) -> Vec<u8> {
    (0..CHUNKS).flat_map(|i| slow_chunk(file, i)).collect()
}

fn parent_files() -> BTreeMap<&'static str, Vec<u8>> {
    BTreeMap::from([("keep.txt", noise(900, 5000)), ("old.txt", noise(901, 7000))])
}

/// The files of revision 2 once complete.
fn second_files() -> BTreeMap<&'static str, Vec<u8>> {
    BTreeMap::from([
        ("keep.txt", parent_files()["keep.txt"].clone()),
        ("dist/first.tar.gz", slow_file(1)),
        ("dist/second.tar.gz", slow_file(2)),
    ])
}

/// The child: revision 1 quickly, then revision 2 with two files streamed slowly, reporting
/// progress; then it waits to be killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_builds_a_revision_slowly() {
    let Some(root) = std::env::var_os(CHILD_ENV) else { return };
    let files = atr_store::files::DiskReleaseFiles::new(root, 1 << 30).unwrap();
    let first = parent_files().iter().map(|(at, bytes)| put(at, bytes)).collect();
    files.create_revision(&release(), None, rev(1), first).await.unwrap();
    println!("{MARK}PARENT");
    let (first_sender, first) = channel_stream();
    let (second_sender, second) = channel_stream();
    let producer = tokio::spawn(async move {
        for (file, sender) in [(1, first_sender), (2, second_sender)] {
            for index in 0..CHUNKS {
                sender.send(Ok(Bytes::from(slow_chunk(file, index)))).await.unwrap();
                if index == 10 {
                    println!("{MARK}STREAMING-{file}");
                }
                tokio::time::sleep(PAUSE).await;
            }
        }
        println!("{MARK}SENT");
    });
    let changes = vec![
        atr_core::ports::FileChange::Put { path: path("dist/first.tar.gz"), content: first },
        atr_core::ports::FileChange::Put { path: path("dist/second.tar.gz"), content: second },
        atr_core::ports::FileChange::Delete { path: path("old.txt") },
    ];
    files.create_revision(&release(), Some(rev(1)), rev(2), changes).await.unwrap();
    producer.await.unwrap();
    println!("{MARK}DONE");
    tokio::time::sleep(Duration::from_mins(1)).await;
}

/// Runs the child, kills it once it reports `stage`.
fn run_child_until(root: &TestRoot, stage: &str) {
    let mut child = this_test_binary()
        .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, root.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(reported) = line.split_once(MARK).map(|(_, s)| s.trim().to_owned()) {
            seen.push(reported.clone());
            if reported == stage {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(seen.last().map(String::as_str), Some(stage), "the child stopped early; it reported {seen:?}");
}

#[test]
fn a_killed_writer_leaves_the_old_state_or_the_complete_revision() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // `true`: revision 2 cannot be complete yet; `false`: it may or may not be (it is finishing),
    // and it must be once the child said so.
    for (stage, surely_absent) in [("STREAMING-1", true), ("STREAMING-2", true), ("SENT", false), ("DONE", false)] {
        let root = TestRoot::new();
        run_child_until(&root, stage);
        runtime.block_on(async {
            // What a restart does.
            let files = root.store(1 << 30);
            let leftovers = files.clean_temporary().await.unwrap();
            assert!(root.leftovers().is_empty(), "{stage}: tmp is empty after cleaning");
            let listed = files.list_revisions().await.unwrap();
            let second = files.revision_path(&release(), rev(2));
            if surely_absent {
                assert_eq!(leftovers, 1, "{stage}: the interrupted build was in tmp");
                assert!(!second.exists(), "{stage}: no part of revision 2 may be visible");
            }
            if stage == "DONE" {
                assert_eq!(leftovers, 0, "{stage}: nothing is left in tmp after a finished build");
                assert!(second.exists(), "{stage}: a finished revision stays");
            }
            let complete = second.exists();
            if complete {
                assert_eq!(listed, vec![(release(), rev(1)), (release(), rev(2))]);
                let manifest = assert_complete(&files, &release(), rev(2)).await;
                assert_eq!(manifest, expected_manifest(&second_files()), "{stage}: revision 2 is complete");
            } else {
                assert_eq!(listed, vec![(release(), rev(1))], "{stage}");
            }
            // The parent is untouched whatever happened.
            let manifest = assert_complete(&files, &release(), rev(1)).await;
            assert_eq!(manifest, expected_manifest(&parent_files()), "{stage}: revision 1 is intact");
            let outcome = if complete { "complete" } else { "absent" };
            println!("killed at {stage}: revision 2 {outcome}, {leftovers} leftover(s) cleaned");
        });
    }
}
