//! A file larger than 1 GiB is streamed with bounded memory.
//!
//! The measurement runs in a child process (this test binary, run again for one test) so that
//! other tests do not count in its peak resident memory.

use std::pin::Pin;
use std::task::{Context, Poll};

use atr_core::ports::{FileChange, ReleaseFiles};
use bytes::Bytes;
use futures_core::Stream;

use super::{MIB, TestRoot, noise, path, release, rev, this_test_binary};

/// Tells the child test where the release files are; without it the child test does nothing.
const CHILD_ENV: &str = "ATR_FILES_MEMORY_CHILD";
const CHILD_TEST: &str = "files::memory::child_streams_a_large_file";
/// 1127 MiB: a little over 1.1 GiB.
const CHUNKS: usize = 1127;
const STREAMED: u64 = (CHUNKS * MIB) as u64;
/// The bound on the child's peak resident memory.
const PEAK_LIMIT_KIB: u64 = 256 * 1024;

/// The same 1 MiB chunk over and over: the stream itself holds 1 MiB.
struct Repeat {
    chunk: Bytes,
    left: usize,
}

impl Stream for Repeat {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        Poll::Ready(Some(Ok(self.chunk.clone())))
    }
}

/// Peak resident memory of this process, in KiB.
fn peak_resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().unwrap()
}

/// The child: streams the large file, then reports the manifest's size and its peak memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_streams_a_large_file() {
    let Some(root) = std::env::var_os(CHILD_ENV) else { return };
    let files = atr_store::files::DiskReleaseFiles::new(root, 2 << 30).unwrap();
    let content = Box::pin(Repeat { chunk: Bytes::from(noise(77, MIB)), left: CHUNKS });
    let changes = vec![FileChange::Put { path: path("large.bin"), content }];
    let manifest = files.create_revision(&release(), None, rev(1), changes).await.unwrap();
    println!("@@size {}", manifest[0].size);
    println!("@@vmhwm {}", peak_resident_kib());
}

/// Reads `@@<key> <number>` from the child's output.
fn reported(output: &str, key: &str) -> u64 {
    let prefix = format!("@@{key} ");
    let line = output.lines().find_map(|l| l.split_once(&prefix).map(|(_, v)| v.trim().to_owned()));
    line.unwrap_or_else(|| panic!("the child did not report {key}: {output}")).parse().unwrap()
}

#[test]
fn a_file_over_a_gibibyte_is_streamed_in_bounded_memory() {
    let root = TestRoot::new();
    let output = this_test_binary()
        .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, root.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the child failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    let peak = reported(&stdout, "vmhwm");
    println!("peak resident memory while streaming {STREAMED} bytes: {peak} KiB ({} MiB)", peak / 1024);
    assert!(peak < PEAK_LIMIT_KIB, "peak resident memory {peak} KiB is over {PEAK_LIMIT_KIB} KiB");
    assert_eq!(reported(&stdout, "size"), STREAMED);

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let files = root.store(2 << 30);
        let manifest = files.manifest(&release(), rev(1)).await.unwrap();
        assert_eq!((manifest.len(), manifest[0].size), (1, STREAMED));
        let on_disk = files.revision_path(&release(), rev(1)).join("files/large.bin");
        assert_eq!(std::fs::metadata(on_disk).unwrap().len(), STREAMED);
        // Give the space back now rather than when the folder is dropped.
        files.discard_revision(&release(), rev(1)).await.unwrap();
    });
}
