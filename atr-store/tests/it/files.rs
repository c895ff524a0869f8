//! Release files on disk: revisions built from streams, shared by hard links, read-only, and
//! published all at once or not at all.

mod crash;
mod memory;

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use atr_core::model::{FileEntry, ReleaseKey, RevisionNumber};
use atr_core::ports::{ByteStream, FileChange, ReleaseFiles, StoreError};
use atr_core::types::{ProductKey, ProjectKey, ReleasePath, Sha3_256Digest, Sha512Digest, Version};
use atr_store::files::{DiskReleaseFiles, MAX_MANIFEST_BYTES, WriterState};
use bytes::Bytes;
use futures_core::Stream;
use sha2::{Digest, Sha512};
use sha3::Sha3_256;

const MIB: usize = 1024 * 1024;

/// A root folder for release files, removed at the end even though revisions are read-only.
struct TestRoot {
    dir: tempfile::TempDir,
}

impl TestRoot {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn store(&self, max_file_size: u64) -> DiskReleaseFiles {
        DiskReleaseFiles::new(self.path(), max_file_size).unwrap()
    }

    /// What is left under `tmp/`: the entries of each process's temporary folder (an open
    /// store has one, empty when nothing is being built), and anything else there.
    fn leftovers(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(self.path().join("tmp")).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && path.file_name().unwrap().to_str().unwrap().starts_with("process-") {
                found.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else {
                found.push(path);
            }
        }
        found
    }
}

impl Drop for TestRoot {
    fn drop(&mut self) {
        // Read-only folders cannot be emptied: give them their write permission back first.
        let mut pending = vec![self.dir.path().to_path_buf()];
        while let Some(dir) = pending.pop() {
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755));
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    pending.push(entry.path());
                }
            }
        }
    }
}

fn release() -> ReleaseKey {
    ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse("2.4.68").unwrap())
}

fn product_release() -> ReleaseKey {
    ReleaseKey::new(
        ProjectKey::parse("tomcat").unwrap(),
        Some(ProductKey::parse("server").unwrap()),
        Version::parse("11.0.0-M1").unwrap(),
    )
}

fn rev(n: u32) -> RevisionNumber {
    RevisionNumber::new(n).unwrap()
}

fn path(text: &str) -> ReleasePath {
    ReleasePath::parse(text).unwrap()
}

/// Reproducible bytes that do not repeat within a file.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[3]
        })
        .collect()
}

/// A stream over given items, counting how many were taken.
struct ListStream {
    items: std::collections::VecDeque<io::Result<Bytes>>,
    taken: Arc<AtomicUsize>,
}

impl Stream for ListStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = self.items.pop_front();
        if next.is_some() {
            self.taken.fetch_add(1, Ordering::SeqCst);
        }
        Poll::Ready(next)
    }
}

fn list_stream(items: Vec<io::Result<Bytes>>) -> (ByteStream, Arc<AtomicUsize>) {
    let taken = Arc::new(AtomicUsize::new(0));
    (Box::pin(ListStream { items: items.into(), taken: taken.clone() }), taken)
}

/// Content in chunks of at most `chunk` bytes.
fn chunked(content: &[u8], chunk: usize) -> ByteStream {
    list_stream(content.chunks(chunk.max(1)).map(|c| Ok(Bytes::copy_from_slice(c))).collect()).0
}

/// A stream fed through a channel of one slot: each send beyond the first waits for the reader.
struct ChannelStream(tokio::sync::mpsc::Receiver<io::Result<Bytes>>);

impl Stream for ChannelStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

fn channel_stream() -> (tokio::sync::mpsc::Sender<io::Result<Bytes>>, ByteStream) {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    (sender, Box::pin(ChannelStream(receiver)))
}

fn put(at: &str, content: &[u8]) -> FileChange {
    FileChange::Put { path: path(at), content: chunked(content, 64 * 1024) }
}

fn delete(at: &str) -> FileChange {
    FileChange::Delete { path: path(at) }
}

fn move_to(from: &str, to: &str) -> FileChange {
    FileChange::Move { from: path(from), to: path(to) }
}

/// SHA-512 and SHA3-256 of `content`, computed here rather than by the store.
fn digests(content: &[u8]) -> (Sha512Digest, Sha3_256Digest) {
    (
        Sha512Digest::from_bytes(Sha512::digest(content).into()),
        Sha3_256Digest::from_bytes(Sha3_256::digest(content).into()),
    )
}

/// The manifest `files` should have.
fn expected_manifest(files: &BTreeMap<&str, Vec<u8>>) -> Vec<FileEntry> {
    files
        .iter()
        .map(|(at, content)| {
            let (sha512, sha3_256) = digests(content);
            FileEntry { path: path(at), size: content.len() as u64, sha512, sha3_256 }
        })
        .collect()
}

/// Everything `open` streams for a file.
async fn read(files: &DiskReleaseFiles, release: &ReleaseKey, number: RevisionNumber, at: &str) -> Vec<u8> {
    let mut stream = files.open(release, number, &path(at)).await.unwrap();
    let mut content = Vec::new();
    while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        content.extend_from_slice(&chunk.unwrap());
    }
    content
}

/// The files under a revision's `files/` folder, by release path.
fn files_on_disk(revision: &Path) -> BTreeMap<String, PathBuf> {
    let base = revision.join("files");
    let mut found = BTreeMap::new();
    let mut pending = vec![base.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                let relative = entry.path().strip_prefix(&base).unwrap().to_str().unwrap().to_owned();
                found.insert(relative, entry.path());
            }
        }
    }
    found
}

/// Checks that a revision on disk is complete: its manifest lists exactly its files, with
/// their real sizes and digests, recomputed here.
async fn assert_complete(files: &DiskReleaseFiles, release: &ReleaseKey, number: RevisionNumber) -> Vec<FileEntry> {
    let manifest = files.manifest(release, number).await.unwrap();
    let on_disk = files_on_disk(&files.revision_path(release, number));
    let listed: Vec<&str> = manifest.iter().map(|e| e.path.as_str()).collect();
    let present: Vec<&str> = on_disk.keys().map(String::as_str).collect();
    assert_eq!(listed, present, "the manifest must list exactly the files on disk");
    for entry in &manifest {
        let content = std::fs::read(&on_disk[entry.path.as_str()]).unwrap();
        let (sha512, sha3_256) = digests(&content);
        assert_eq!(
            (entry.size, entry.sha512, entry.sha3_256),
            (content.len() as u64, sha512, sha3_256),
            "{}",
            entry.path
        );
    }
    manifest
}

fn inode(files: &DiskReleaseFiles, number: RevisionNumber, at: &str) -> u64 {
    let revision = files.revision_path(&release(), number);
    std::fs::metadata(revision.join("files").join(at)).unwrap().ino()
}

/// This test binary, to run one of its tests in a child process. `/proc/self/exe` names the
/// very file this process runs, even if a rebuild has replaced the binary on disk since.
fn this_test_binary() -> std::process::Command {
    std::process::Command::new("/proc/self/exe")
}

/// The effective user id: the owner of this process's `/proc/self`.
fn effective_uid() -> u32 {
    std::fs::metadata("/proc/self").unwrap().uid()
}

#[tokio::test]
async fn first_revision_stores_streamed_files_with_their_digests() {
    let root = TestRoot::new();
    let files = root.store(64 * MIB as u64);
    let content = BTreeMap::from([
        ("httpd-2.4.68.tar.gz", noise(1, 3 * MIB + 12_345)),
        ("httpd-2.4.68.tar.gz.asc", noise(2, 833)),
        ("binaries/win64/httpd.zip", noise(3, 70_000)),
        ("empty.txt", Vec::new()),
    ]);
    let changes = vec![
        // Odd chunk sizes, so that batches and chunks never line up.
        FileChange::Put {
            path: path("httpd-2.4.68.tar.gz"),
            content: chunked(&content["httpd-2.4.68.tar.gz"], 100_003),
        },
        put("httpd-2.4.68.tar.gz.asc", &content["httpd-2.4.68.tar.gz.asc"]),
        put("binaries/win64/httpd.zip", &content["binaries/win64/httpd.zip"]),
        put("empty.txt", &[]),
    ];
    let manifest = files.create_revision(&release(), None, rev(1), changes).await.unwrap();

    assert_eq!(manifest, expected_manifest(&content), "sorted by path, sizes and digests recomputed here");
    assert_eq!(files.manifest(&release(), rev(1)).await.unwrap(), manifest);
    for (at, bytes) in &content {
        assert_eq!(&read(&files, &release(), rev(1), at).await, bytes, "{at}");
    }
    let revision = root.path().join("revisions/httpd/@main/2.4.68/00001");
    assert_eq!(files.revision_path(&release(), rev(1)), revision);
    assert!(revision.join("manifest.json").is_file());
    assert!(revision.join("files/binaries/win64/httpd.zip").is_file());
    assert_complete(&files, &release(), rev(1)).await;
    assert!(root.leftovers().is_empty());
}

#[tokio::test]
async fn second_revision_links_unchanged_files_and_leaves_parent_untouched() {
    let root = TestRoot::new();
    let files = root.store(MIB as u64);
    let first = BTreeMap::from([
        ("app.tar.gz", noise(10, 50_000)),
        ("app.tar.gz.sha512", noise(11, 128)),
        ("old/notes.txt", noise(12, 300)),
        ("old/keep.txt", noise(13, 400)),
        ("README", noise(14, 20)),
    ]);
    let changes = first.iter().map(|(at, bytes)| put(at, bytes)).collect();
    let parent_manifest = files.create_revision(&release(), None, rev(1), changes).await.unwrap();

    let new_checksum = noise(21, 128);
    let changes = vec![
        put("app.tar.gz.sha512", &new_checksum),
        delete("old/notes.txt"),
        move_to("old/keep.txt", "kept/keep.txt"),
        put("added.txt", b"new file"),
    ];
    let manifest = files.create_revision(&release(), Some(rev(1)), rev(2), changes).await.unwrap();

    let second = BTreeMap::from([
        ("README", first["README"].clone()),
        ("added.txt", b"new file".to_vec()),
        ("app.tar.gz", first["app.tar.gz"].clone()),
        ("app.tar.gz.sha512", new_checksum.clone()),
        ("kept/keep.txt", first["old/keep.txt"].clone()),
    ]);
    assert_eq!(manifest, expected_manifest(&second));
    assert_complete(&files, &release(), rev(2)).await;
    // Unchanged and moved files are the parent's files, not copies.
    for (old, new) in [("app.tar.gz", "app.tar.gz"), ("README", "README"), ("old/keep.txt", "kept/keep.txt")] {
        assert_eq!(inode(&files, rev(1), old), inode(&files, rev(2), new), "{new} must be a hard link");
    }
    assert_ne!(inode(&files, rev(1), "app.tar.gz.sha512"), inode(&files, rev(2), "app.tar.gz.sha512"));
    assert_eq!(read(&files, &release(), rev(2), "app.tar.gz.sha512").await, new_checksum);
    // The emptied folder is gone too: the disk matches the manifest.
    assert!(!files.revision_path(&release(), rev(2)).join("files/old").exists());
    assert!(matches!(files.open(&release(), rev(2), &path("old/notes.txt")).await, Err(StoreError::NotFound(_))));

    // The parent is exactly as it was.
    assert_eq!(files.manifest(&release(), rev(1)).await.unwrap(), parent_manifest);
    assert_eq!(assert_complete(&files, &release(), rev(1)).await, expected_manifest(&first));
    for (at, bytes) in &first {
        assert_eq!(&read(&files, &release(), rev(1), at).await, bytes, "{at}");
    }
}

#[tokio::test]
async fn folders_are_moved_and_deleted_whole() {
    let root = TestRoot::new();
    let files = root.store(MIB as u64);
    let changes = vec![
        put("site/index.html", b"index"),
        put("site/css/main.css", b"css"),
        put("drop/a/one.txt", b"one"),
        put("drop/two.txt", b"two"),
        put("top.txt", b"top"),
    ];
    files.create_revision(&release(), None, rev(1), changes).await.unwrap();
    let changes = vec![
        move_to("site", "docs/site"),
        delete("drop"),
        // A Put replaces a file; the parent's copy (same inode until now) must not change.
        put("top.txt", b"replaced"),
        move_to("docs/site/css/main.css", "style.css"),
    ];
    let manifest = files.create_revision(&release(), Some(rev(1)), rev(2), changes).await.unwrap();
    let paths: Vec<&str> = manifest.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["docs/site/index.html", "style.css", "top.txt"]);
    assert_eq!(manifest[0].sha512, digests(b"index").0, "a move keeps the digests");
    assert_complete(&files, &release(), rev(2)).await;
    assert_eq!(read(&files, &release(), rev(1), "top.txt").await, b"top");
    assert_eq!(read(&files, &release(), rev(2), "top.txt").await, b"replaced");
    assert_eq!(inode(&files, rev(1), "site/index.html"), inode(&files, rev(2), "docs/site/index.html"));
    let revision = files.revision_path(&release(), rev(2));
    assert!(!revision.join("files/drop").exists() && !revision.join("files/docs/site/css").exists());
}

#[tokio::test]
async fn products_have_their_own_folder() {
    let root = TestRoot::new();
    let files = root.store(1024);
    files.create_revision(&product_release(), None, rev(1), vec![put("a.txt", b"a")]).await.unwrap();
    files.create_revision(&release(), None, rev(1), vec![put("b.txt", b"b")]).await.unwrap();
    assert_eq!(
        files.revision_path(&product_release(), rev(1)),
        root.path().join("revisions/tomcat/server/11.0.0-M1/00001")
    );
    assert_eq!(read(&files, &product_release(), rev(1), "a.txt").await, b"a");
    assert!(matches!(files.open(&product_release(), rev(1), &path("b.txt")).await, Err(StoreError::NotFound(_))));
    assert_eq!(files.list_revisions().await.unwrap(), vec![(release(), rev(1)), (product_release(), rev(1))]);
}

#[tokio::test]
async fn files_of_a_revision_are_read_only() {
    let root = TestRoot::new();
    let files = root.store(1024);
    files.create_revision(&release(), None, rev(1), vec![put("dir/a.txt", b"a"), put("b.txt", b"b")]).await.unwrap();
    let revision = files.revision_path(&release(), rev(1));
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
    for file in ["manifest.json", "files/b.txt", "files/dir/a.txt"] {
        assert_eq!(mode(&revision.join(file)), 0o444, "{file}");
    }
    for dir in ["", "files", "files/dir"] {
        assert_eq!(mode(&revision.join(dir)), 0o555, "{dir:?}");
    }
    if effective_uid() != 0 {
        // Permission checks do not apply to the superuser.
        let write = std::fs::OpenOptions::new().write(true).open(revision.join("files/b.txt"));
        assert_eq!(write.unwrap_err().kind(), io::ErrorKind::PermissionDenied);
        let create = std::fs::File::create(revision.join("files/new.txt"));
        assert_eq!(create.unwrap_err().kind(), io::ErrorKind::PermissionDenied);
    }
}

#[tokio::test]
async fn an_existing_number_is_a_conflict() {
    let root = TestRoot::new();
    let files = root.store(1024);
    files.create_revision(&release(), None, rev(1), vec![put("a.txt", b"first")]).await.unwrap();
    let again = files.create_revision(&release(), None, rev(1), vec![put("a.txt", b"second")]).await;
    assert_eq!(again, Err(StoreError::Conflict("revision 00001 of httpd 2.4.68 already exists".to_owned())));
    assert_eq!(read(&files, &release(), rev(1), "a.txt").await, b"first");
    assert!(root.leftovers().is_empty());
}

#[tokio::test]
async fn refused_changes_leave_nothing_behind() {
    let root = TestRoot::new();
    let files = root.store(1000);
    let parent = vec![put("a.txt", b"a"), put("dir/b.txt", b"b")];
    files.create_revision(&release(), None, rev(1), parent).await.unwrap();
    let cases: Vec<(&str, Vec<FileChange>)> = vec![
        ("delete a missing file", vec![put("c.txt", b"c"), delete("missing.txt")]),
        ("delete a missing folder", vec![delete("nodir/x")]),
        ("move a missing file", vec![move_to("missing.txt", "x.txt")]),
        ("move onto a file", vec![move_to("a.txt", "dir/b.txt")]),
        ("move onto a folder", vec![move_to("a.txt", "dir")]),
        ("move a folder into itself", vec![move_to("dir", "dir/sub")]),
        ("move under a file", vec![move_to("dir/b.txt", "a.txt/b.txt")]),
        ("put on a folder", vec![put("dir", b"x")]),
        ("put under a file", vec![put("a.txt/x", b"x")]),
        ("put a file over the size bound", vec![put("big.bin", &[7; 1001])]),
        ("delete a file then use it", vec![delete("a.txt"), move_to("a.txt", "z.txt")]),
    ];
    for (case, changes) in cases {
        let outcome = files.create_revision(&release(), Some(rev(1)), rev(2), changes).await;
        // Oversized content is its own kind of refusal, so the service can answer 413.
        let expected = if case.contains("size bound") {
            matches!(outcome, Err(StoreError::TooLarge(_)))
        } else {
            matches!(outcome, Err(StoreError::Refused(_)))
        };
        assert!(expected, "{case}: {outcome:?}");
        assert!(root.leftovers().is_empty(), "{case}: tmp must be empty");
        assert!(!files.revision_path(&release(), rev(2)).exists(), "{case}: no revision may appear");
    }
    // Exactly at the bound is fine.
    files.create_revision(&release(), Some(rev(1)), rev(2), vec![put("big.bin", &[7; 1000])]).await.unwrap();
    assert_complete(&files, &release(), rev(1)).await;
}

#[tokio::test]
async fn a_file_over_the_bound_is_refused_before_the_rest_is_read() {
    let root = TestRoot::new();
    let files = root.store(1000);
    let (content, taken) = list_stream((0..100).map(|_| Ok(Bytes::from_static(&[1; 400]))).collect());
    let outcome =
        files.create_revision(&release(), None, rev(1), vec![FileChange::Put { path: path("big.bin"), content }]).await;
    let Err(StoreError::TooLarge(message)) = outcome else { panic!("expected a refusal, got {outcome:?}") };
    assert!(message.contains("big.bin") && message.contains("1000"), "{message}");
    assert_eq!(taken.load(Ordering::SeqCst), 3, "the third chunk crosses the bound: nothing more is read");
    assert!(root.leftovers().is_empty());
    assert!(!files.revision_path(&release(), rev(1)).exists());
}

#[tokio::test]
async fn a_failing_stream_leaves_nothing_behind() {
    let root = TestRoot::new();
    let files = root.store(64 * MIB as u64);
    files.create_revision(&release(), None, rev(1), vec![put("a.txt", b"a")]).await.unwrap();
    let chunk = Bytes::from(noise(5, MIB));
    let (content, _) = list_stream(vec![
        Ok(chunk.clone()),
        Ok(chunk.clone()),
        Ok(chunk),
        Err(io::Error::new(io::ErrorKind::ConnectionReset, "client went away")),
    ]);
    let changes = vec![put("b.txt", b"b"), FileChange::Put { path: path("upload.tar.gz"), content }];
    let outcome = files.create_revision(&release(), Some(rev(1)), rev(2), changes).await;
    let Err(StoreError::Refused(message)) = outcome else { panic!("expected a refusal, got {outcome:?}") };
    assert!(message.contains("upload.tar.gz") && message.contains("client went away"), "{message}");
    assert!(root.leftovers().is_empty());
    assert!(!files.revision_path(&release(), rev(2)).exists());
    assert_eq!(files.list_revisions().await.unwrap(), vec![(release(), rev(1))]);
    assert_complete(&files, &release(), rev(1)).await;
}

#[tokio::test]
async fn a_cancelled_build_is_removed() {
    let root = TestRoot::new();
    let files = Arc::new(root.store(64 * MIB as u64));
    let (sender, content) = channel_stream();
    let build = tokio::spawn({
        let files = files.clone();
        async move {
            let changes = vec![FileChange::Put { path: path("slow.bin"), content }];
            files.create_revision(&release(), None, rev(1), changes).await
        }
    });
    // The second send waits until the first chunk was taken: the build is under way.
    for _ in 0..2 {
        sender.send(Ok(Bytes::from_static(b"chunk"))).await.unwrap();
    }
    assert_eq!(root.leftovers().len(), 1, "the revision is being built in tmp");
    build.abort();
    assert!(build.await.unwrap_err().is_cancelled());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !root.leftovers().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(root.leftovers().is_empty(), "a dropped build removes its folder");
    assert!(!files.revision_path(&release(), rev(1)).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creations_of_one_number_have_one_winner() {
    let root = TestRoot::new();
    let files = Arc::new(root.store(64 * MIB as u64));
    let mut senders = Vec::new();
    let mut builds = Vec::new();
    for writer in 0..2u8 {
        let (sender, content) = channel_stream();
        senders.push(sender);
        let files = files.clone();
        builds.push(tokio::spawn(async move {
            let changes = vec![put("common.txt", b"same"), FileChange::Put { path: path("who.txt"), content }];
            (writer, files.create_revision(&release(), None, rev(1), changes).await)
        }));
    }
    // Both builds take a first chunk (so both are past any early check) before either ends.
    for round in 0..2 {
        for (writer, sender) in senders.iter().enumerate() {
            sender.send(Ok(Bytes::from(format!("writer {writer} chunk {round};")))).await.unwrap();
        }
    }
    assert_eq!(root.leftovers().len(), 2, "both revisions are being built");
    drop(senders);
    let mut winners = Vec::new();
    for build in builds {
        match build.await.unwrap() {
            (writer, Ok(manifest)) => winners.push((writer, manifest)),
            (_, Err(error)) => assert!(matches!(error, StoreError::Conflict(_)), "{error:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer wins");
    let (writer, manifest) = winners.pop().unwrap();
    let expected = format!("writer {writer} chunk 0;writer {writer} chunk 1;");
    assert_eq!(read(&files, &release(), rev(1), "who.txt").await, expected.as_bytes());
    assert_eq!(assert_complete(&files, &release(), rev(1)).await, manifest);
    assert!(root.leftovers().is_empty());
}

#[tokio::test]
async fn missing_things_are_not_found() {
    let root = TestRoot::new();
    let files = root.store(1024);
    let outcome = files.create_revision(&release(), Some(rev(1)), rev(2), vec![put("a.txt", b"a")]).await;
    assert_eq!(outcome, Err(StoreError::NotFound("revision 00001 of httpd 2.4.68".to_owned())));
    assert!(root.leftovers().is_empty());
    assert!(matches!(files.manifest(&release(), rev(1)).await, Err(StoreError::NotFound(_))));
    assert!(matches!(files.open(&release(), rev(1), &path("a.txt")).await, Err(StoreError::NotFound(_))));
    files.create_revision(&release(), None, rev(1), vec![put("dir/a.txt", b"a")]).await.unwrap();
    for missing in ["b.txt", "dir", "dir/a.txt/x"] {
        let outcome = files.open(&release(), rev(1), &path(missing)).await;
        assert!(matches!(outcome, Err(StoreError::NotFound(_))), "{missing}");
    }
}

#[tokio::test]
async fn a_file_is_read_in_parts_and_stated_through_the_port() {
    let root = TestRoot::new();
    let files = root.store(1 << 20);
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    files.create_revision(&release(), None, rev(1), vec![put("dir/a.bin", &content)]).await.unwrap();
    let port: &dyn ReleaseFiles = &files;
    let stat = port.stat(&release(), rev(1), &path("dir/a.bin")).await.unwrap();
    assert_eq!(stat.size, content.len() as u64);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(now.abs_diff(stat.modified.unix().unsigned_abs()) < 3600, "written just now: {stat:?}");
    assert_eq!(port.manifest(&release(), rev(1)).await.unwrap(), files.manifest(&release(), rev(1)).await.unwrap());
    for range in [0..10, 65_530..70_000, 199_990..200_000, 199_990..300_000, 0..200_000] {
        let mut stream = port.open_range(&release(), rev(1), &path("dir/a.bin"), range.clone()).await.unwrap();
        let mut read = Vec::new();
        while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            read.extend_from_slice(&chunk.unwrap());
        }
        let end = usize::try_from(range.end).unwrap().min(content.len());
        assert_eq!(read, content[usize::try_from(range.start).unwrap()..end], "{range:?}");
    }
    for missing in ["dir", "b.bin", "dir/a.bin/x"] {
        let p = path(missing);
        assert!(matches!(port.stat(&release(), rev(1), &p).await, Err(StoreError::NotFound(_))), "{missing}");
        let opened = port.open_range(&release(), rev(1), &p, 0..1).await;
        assert!(matches!(opened, Err(StoreError::NotFound(_))), "{missing}");
    }
    assert!(matches!(port.stat(&release(), rev(2), &path("dir/a.bin")).await, Err(StoreError::NotFound(_))));
}

#[tokio::test]
async fn discarding_removes_the_whole_revision() {
    let root = TestRoot::new();
    let files = root.store(1024);
    files.create_revision(&release(), None, rev(1), vec![put("dir/a.txt", b"a"), put("b.txt", b"b")]).await.unwrap();
    files.create_revision(&release(), Some(rev(1)), rev(2), vec![put("c.txt", b"c")]).await.unwrap();
    files.discard_revision(&release(), rev(2)).await.unwrap();
    assert!(!files.revision_path(&release(), rev(2)).exists());
    assert!(root.leftovers().is_empty());
    // The parent shared its files with the discarded revision; they are intact and still read-only.
    assert_complete(&files, &release(), rev(1)).await;
    let shared = files.revision_path(&release(), rev(1)).join("files/b.txt");
    assert_eq!(std::fs::metadata(shared).unwrap().permissions().mode() & 0o777, 0o444);
    // Discarding what is not there is fine.
    files.discard_revision(&release(), rev(2)).await.unwrap();
    files.discard_revision(&product_release(), rev(7)).await.unwrap();
    assert_eq!(files.list_revisions().await.unwrap(), vec![(release(), rev(1))]);
}

#[tokio::test]
async fn start_up_finds_revisions_and_cleans_leftovers() {
    let root = TestRoot::new();
    let files = root.store(1024);
    files.create_revision(&release(), None, rev(1), vec![put("a.txt", b"a")]).await.unwrap();
    files.create_revision(&release(), Some(rev(1)), rev(2), vec![put("b.txt", b"b")]).await.unwrap();
    files.create_revision(&product_release(), None, rev(3), vec![put("a.txt", b"a")]).await.unwrap();
    // Things that do not fit the layout are skipped.
    let revisions = root.path().join("revisions");
    for junk in ["UPPER/@main/1.0/00001", "httpd/@main/1.0/1", "httpd/@main/1.0/00000", "httpd/@main/1..0/00001"] {
        std::fs::create_dir_all(revisions.join(junk)).unwrap();
    }
    std::fs::write(revisions.join("httpd/@main/1.0/notes.txt"), b"x").unwrap();
    let listed = files.list_revisions().await.unwrap();
    assert_eq!(listed, vec![(release(), rev(1)), (release(), rev(2)), (product_release(), rev(3))]);

    // Leftovers of interrupted revisions, read-only ones included.
    let tmp = root.path().join("tmp");
    std::fs::create_dir_all(tmp.join("revision-1/files/dir")).unwrap();
    std::fs::write(tmp.join("revision-1/files/dir/x"), b"x").unwrap();
    std::fs::set_permissions(tmp.join("revision-1/files/dir"), std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(tmp.join("revision-1/files"), std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::write(tmp.join("stray"), b"x").unwrap();
    assert_eq!(files.clean_temporary().await.unwrap(), 2);
    assert!(root.leftovers().is_empty());
    assert_eq!(files.clean_temporary().await.unwrap(), 0);
    assert_complete(&files, &release(), rev(2)).await;
}

#[tokio::test]
async fn manifests_are_bounded_and_checked() {
    let root = TestRoot::new();
    let files = root.store(1024);
    let oversized = files.revision_path(&release(), rev(8));
    std::fs::create_dir_all(&oversized).unwrap();
    let manifest = std::fs::File::create(oversized.join("manifest.json")).unwrap();
    manifest.set_len(MAX_MANIFEST_BYTES + 1).unwrap();
    assert!(matches!(files.manifest(&release(), rev(8)).await, Err(StoreError::Refused(_))));
    let outcome = files.create_revision(&release(), Some(rev(8)), rev(9), vec![]).await;
    assert!(matches!(outcome, Err(StoreError::Refused(_))), "{outcome:?}");

    let corrupt = files.revision_path(&release(), rev(10));
    std::fs::create_dir_all(&corrupt).unwrap();
    std::fs::write(corrupt.join("manifest.json"), br#"[{"path": "../escape", "size": 1}]"#).unwrap();
    assert!(matches!(files.manifest(&release(), rev(10)).await, Err(StoreError::Backend(_))));

    let no_manifest = files.revision_path(&release(), rev(11));
    std::fs::create_dir_all(&no_manifest).unwrap();
    assert!(matches!(files.manifest(&release(), rev(11)).await, Err(StoreError::Backend(_))));
    assert!(root.leftovers().is_empty());
}

#[tokio::test]
async fn an_empty_revision_is_a_revision() {
    let root = TestRoot::new();
    let files = root.store(1024);
    files.create_revision(&release(), None, rev(1), vec![put("a.txt", b"a")]).await.unwrap();
    let manifest = files.create_revision(&release(), Some(rev(1)), rev(2), vec![delete("a.txt")]).await.unwrap();
    assert!(manifest.is_empty());
    assert!(assert_complete(&files, &release(), rev(2)).await.is_empty());
}

#[tokio::test]
async fn a_discarded_revision_number_shows_its_new_content() {
    let dir = tempfile::tempdir().unwrap();
    let files = DiskReleaseFiles::new(dir.path(), 1 << 20).unwrap();
    files.create_revision(&release(), None, rev(1), vec![put("a.txt", b"first")]).await.unwrap();
    // Read once, so the manifest is remembered.
    assert_eq!(files.manifest(&release(), rev(1)).await.unwrap()[0].size, 5);
    // The revision was never recorded: it is discarded, and the number built again.
    files.discard_revision(&release(), rev(1)).await.unwrap();
    files.create_revision(&release(), None, rev(1), vec![put("a.txt", b"second try")]).await.unwrap();
    let manifest = files.manifest(&release(), rev(1)).await.unwrap();
    assert_eq!(manifest[0].size, 10);
    assert_eq!(manifest[0].sha512, digests(b"second try").0);
    // Clones share what they remember, and agree with the disk.
    assert_eq!(files.clone().manifest(&release(), rev(1)).await.unwrap(), manifest);
}

/// The temporary folders of `tmp/` that belong to processes (open stores).
fn workspaces(root: &TestRoot) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root.path().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("process-"))
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleaning_leaves_the_builds_of_another_open_store_alone() {
    let root = TestRoot::new();
    let builder = Arc::new(root.store(64 * MIB as u64));
    let (sender, content) = channel_stream();
    let build = tokio::spawn({
        let builder = builder.clone();
        async move {
            let changes = vec![FileChange::Put { path: path("slow.bin"), content }];
            builder.create_revision(&release(), None, rev(1), changes).await
        }
    });
    for _ in 0..2 {
        sender.send(Ok(Bytes::from_static(b"chunk;"))).await.unwrap();
    }
    // A second store on the same root (another process, as far as the locks go) cleans up.
    let other = root.store(1024);
    assert_eq!(workspaces(&root).len(), 2, "each open store has its own temporary folder");
    assert_eq!(other.clean_temporary().await.unwrap(), 0);
    assert_eq!(root.leftovers().len(), 1, "the build in flight is still there");
    sender.send(Ok(Bytes::from_static(b"last"))).await.unwrap();
    drop(sender);
    let manifest = build.await.unwrap().unwrap();
    assert_eq!(read(&builder, &release(), rev(1), "slow.bin").await, b"chunk;chunk;last");
    assert_eq!(assert_complete(&builder, &release(), rev(1)).await, manifest);
    // The revision names the builder's temporary folder as its owner, which is running.
    let owner = std::fs::read_to_string(builder.revision_path(&release(), rev(1)).join("owner")).unwrap();
    assert!(workspaces(&root).iter().any(|w| w.ends_with(&owner)), "{owner}");
    assert_eq!(other.writer_state(&release(), rev(1)).await.unwrap(), WriterState::Running);
    // Once the builder is closed, its temporary folder is gone and its writer has ended.
    drop(builder);
    assert_eq!(workspaces(&root).len(), 1);
    assert_eq!(other.writer_state(&release(), rev(1)).await.unwrap(), WriterState::Ended);
}

#[tokio::test]
async fn an_ended_processs_temporary_folder_is_cleaned() {
    let root = TestRoot::new();
    let files = root.store(1024);
    // What a killed process leaves: its temporary folder, unlocked, with a build in it (read-only
    // parts included) and a discarded revision.
    let dead = root.path().join("tmp/process-4242-1-0");
    std::fs::create_dir_all(dead.join("revision-4242-1-0/files/dir")).unwrap();
    std::fs::write(dead.join("revision-4242-1-0/files/dir/x"), b"x").unwrap();
    std::fs::set_permissions(dead.join("revision-4242-1-0/files/dir"), std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::create_dir_all(dead.join("discarded-4242-2-1/files")).unwrap();
    assert_eq!(files.clean_temporary().await.unwrap(), 2);
    assert!(!dead.exists());
    assert!(root.leftovers().is_empty());
    assert_eq!(workspaces(&root).len(), 1, "the cleaner's own folder stays");
    // An ended process's empty folder is removed too, and counts for nothing.
    std::fs::create_dir(&dead).unwrap();
    assert_eq!(files.clean_temporary().await.unwrap(), 0);
    assert!(!dead.exists());
}

/// Replaces a revision's owner mark (`None`: removes it). This changes the folder's time to now.
fn set_owner_mark(folder: &Path, mark: Option<&[u8]>) {
    let _ = std::fs::remove_file(folder.join("owner"));
    if let Some(mark) = mark {
        std::fs::write(folder.join("owner"), mark).unwrap();
    }
}

#[tokio::test]
async fn a_revision_without_an_owner_mark_ends_only_when_old() {
    let root = TestRoot::new();
    let files = root.store(1024);
    files.create_revision(&release(), None, rev(1), vec![put("a.txt", b"a")]).await.unwrap();
    let folder = files.revision_path(&release(), rev(1));
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A mark naming a folder that is not there: its writer has ended.
    set_owner_mark(&folder, Some(b"process-1-2-3"));
    assert_eq!(files.writer_state(&release(), rev(1)).await.unwrap(), WriterState::Ended);
    // No mark, or no usable one: the writer is presumed running for an hour.
    for mark in [None, Some(&b"../../etc"[..])] {
        set_owner_mark(&folder, mark);
        assert_eq!(files.writer_state(&release(), rev(1)).await.unwrap(), WriterState::Running, "{mark:?}");
        let old = std::time::SystemTime::now() - Duration::from_hours(2);
        std::fs::File::open(&folder).unwrap().set_modified(old).unwrap();
        assert_eq!(files.writer_state(&release(), rev(1)).await.unwrap(), WriterState::Ended, "{mark:?}");
    }
}

/// A stream of named files, each handed out only once the one before was read to its end (as
/// the files of a form arrive), and an error where `fail_at` says.
struct NamedFiles {
    files: std::collections::VecDeque<(ReleasePath, Vec<u8>)>,
    fail_at: Option<usize>,
    handed: usize,
    /// How many chunks the file handed out last has left to give.
    last: Option<Arc<AtomicUsize>>,
}

impl Stream for NamedFiles {
    type Item = Result<(ReleasePath, ByteStream), StoreError>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(left) = &self.last {
            assert_eq!(left.load(Ordering::SeqCst), 0, "the next file was asked for before the last one was read");
        }
        if self.fail_at == Some(self.handed) {
            return Poll::Ready(Some(Err(StoreError::Refused("the third file has a bad name".into()))));
        }
        let Some((at, content)) = self.files.pop_front() else { return Poll::Ready(None) };
        self.handed += 1;
        let chunks: Vec<io::Result<Bytes>> = content.chunks(1000).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let left = Arc::new(AtomicUsize::new(chunks.len()));
        let counted = CountDown { items: chunks.into(), left: left.clone() };
        self.last = Some(left);
        Poll::Ready(Some(Ok((at, Box::pin(counted)))))
    }
}

/// Content that counts down the chunks it has left.
struct CountDown {
    items: std::collections::VecDeque<io::Result<Bytes>>,
    left: Arc<AtomicUsize>,
}

impl Stream for CountDown {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = self.items.pop_front();
        if next.is_some() {
            self.left.fetch_sub(1, Ordering::SeqCst);
        }
        Poll::Ready(next)
    }
}

fn named_files(files: &[(&str, Vec<u8>)], fail_at: Option<usize>) -> FileChange {
    let files = files.iter().map(|(at, content)| (path(at), content.clone())).collect();
    FileChange::PutEach { files: Box::pin(NamedFiles { files, fail_at, handed: 0, last: None }) }
}

#[tokio::test]
async fn a_stream_of_files_goes_into_one_revision_file_after_file() {
    let root = TestRoot::new();
    let files = root.store(MIB as u64);
    let content = BTreeMap::from([("a.txt", noise(7, 5_500)), ("b.txt", noise(8, 2_000)), ("dir/c.txt", Vec::new())]);
    let changes = vec![
        put("a.txt", b"replaced by the stream"),
        named_files(
            &[("a.txt", content["a.txt"].clone()), ("b.txt", content["b.txt"].clone()), ("dir/c.txt", Vec::new())],
            None,
        ),
    ];
    let manifest = files.create_revision(&release(), None, rev(1), changes).await.unwrap();
    assert_eq!(manifest, expected_manifest(&content));
    for (at, bytes) in &content {
        assert_eq!(&read(&files, &release(), rev(1), at).await, bytes, "{at}");
    }
    assert_complete(&files, &release(), rev(1)).await;

    // An error of the stream after two files refuses the whole revision.
    let changes = vec![named_files(&[("d.txt", noise(9, 3_000)), ("e.txt", noise(10, 10))], Some(2))];
    let outcome = files.create_revision(&release(), Some(rev(1)), rev(2), changes).await;
    let Err(StoreError::Refused(message)) = outcome else { panic!("expected a refusal, got {outcome:?}") };
    assert!(message.contains("bad name"), "{message}");
    assert!(root.leftovers().is_empty());
    assert!(!files.revision_path(&release(), rev(2)).exists());
    // Files over the bound are refused as for one file.
    let changes = vec![named_files(&[("small.txt", vec![1; 10]), ("big.bin", vec![2; MIB + 1])], None)];
    let outcome = files.create_revision(&release(), Some(rev(1)), rev(2), changes).await;
    assert!(matches!(outcome, Err(StoreError::TooLarge(_))), "{outcome:?}");
    assert!(root.leftovers().is_empty());
}
