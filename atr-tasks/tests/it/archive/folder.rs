//! Analyze on crafted release folders: content checks before signing, the parity of the archives
//! of one tree, and messages people can read.

use std::path::Path;

use atr_core::model::CheckStatus;
use atr_tasks::analyze::folder::{AnalyzeOptions, AnalyzeReport, analyze_folder};
use atr_tasks::analyze::text::{MAX_MEMBER, MAX_MESSAGE};
use sha2::Digest;

use super::{ArchiveKind, ArchiveLimits, Item, build, file, good, header};

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).expect("write release file");
}

/// A `.sha512` of `bytes` for the file `name`, in coreutils shape.
fn sha512_line(name: &str, bytes: &[u8]) -> String {
    let digest = sha2::Sha512::digest(bytes).iter().fold(String::new(), |mut hex, b| {
        let _ = std::fmt::Write::write_fmt(&mut hex, format_args!("{b:02x}"));
        hex
    });
    format!("{digest}  {name}\n")
}

fn analyze(dir: &Path) -> AnalyzeReport {
    analyze_folder(dir, &AnalyzeOptions::default())
}

fn saying<'a>(
    report: &'a AnalyzeReport,
    checker: &str,
    status: CheckStatus,
    needle: &str,
) -> Vec<&'a atr_tasks::analyze::Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.checker == checker && f.status == status && f.message.contains(needle))
        .collect()
}

#[test]
fn an_unsigned_archive_still_gets_every_content_check() {
    let mut items = good("demo-1.0");
    items.push(file("demo-1.0/../evil", "boom"));
    items.push(file("/etc/cron.d/evil", "boom"));
    items.push(Item::Symlink("demo-1.0/passwd", "../../etc/passwd"));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    let report = analyze(dir.path());
    // The missing signature and checksum are blockers of their own...
    assert_eq!(saying(&report, "paths", CheckStatus::Blocker, "has no signature").len(), 1, "{report:#?}");
    assert_eq!(saying(&report, "paths", CheckStatus::Blocker, "has no checksum").len(), 1, "{report:#?}");
    // ...and the content is checked all the same.
    let parent = saying(&report, "archive", CheckStatus::Blocker, "\"..\" segment");
    assert_eq!(parent.len(), 1, "{report:#?}");
    assert_eq!(parent[0].member.as_deref(), Some("demo-1.0/../evil"));
    assert_eq!(saying(&report, "archive", CheckStatus::Blocker, "absolute path").len(), 1, "{report:#?}");
    assert_eq!(saying(&report, "archive", CheckStatus::Blocker, "symbolic link to ../../etc/passwd").len(), 1);
    // No signature or checksum finding pretends to have compared anything.
    assert!(report.findings.iter().all(|f| f.checker != "signature" && f.checker != "checksum"), "{report:#?}");
}

#[test]
fn an_unsigned_bomb_is_stopped() {
    let mut items = good("bomb-1.0");
    items.push(Item::File("bomb-1.0/zeros", vec![0; 4 << 20]));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bomb-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    let options = AnalyzeOptions {
        limits: ArchiveLimits { max_total_uncompressed: 1 << 20, ..ArchiveLimits::default() },
        ..AnalyzeOptions::default()
    };
    let report = analyze_folder(dir.path(), &options);
    assert_eq!(
        saying(&report, "archive", CheckStatus::Blocker, "unpacks to more than 1.0 MiB").len(),
        1,
        "{report:#?}"
    );
}

#[test]
fn a_plain_unsigned_file_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "demo-1.0.jar", b"not really a jar");
    let report = analyze(dir.path());
    assert_eq!(report.files, 1);
    assert!(report.findings.iter().all(|f| f.checker == "paths"), "{report:#?}");
}

/// A release folder with a `.tar.gz` and a `.zip` of the tree, each with its `.sha512`.
fn twins(tar_items: &[Item], zip_items: &[Item]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("demo-1.0.tar.gz", build(ArchiveKind::TarGz, tar_items)),
        ("demo-1.0.zip", build(ArchiveKind::Zip, zip_items)),
    ] {
        write(dir.path(), name, &bytes);
        write(dir.path(), &format!("{name}.sha512"), sha512_line(name, &bytes).as_bytes());
    }
    dir
}

#[test]
fn archives_of_the_same_tree_are_compared() {
    let dir = twins(&good("demo-1.0"), &good("demo-1.0"));
    let report = analyze(dir.path());
    let same = saying(&report, "archive-parity", CheckStatus::Success, "holds the same 5 files and links");
    assert_eq!(same.len(), 1, "{report:#?}");
    assert_eq!(same[0].path.as_ref().map(atr_core::types::ReleasePath::as_str), Some("demo-1.0.zip"));
    assert!(same[0].message.contains("as demo-1.0.tar.gz"), "{}", same[0].message);
}

#[test]
fn a_member_only_in_one_archive_is_a_blocker() {
    let mut with_extra = good("demo-1.0");
    with_extra.push(file("demo-1.0/EXTRA.txt", "only in the tarball\n"));
    let dir = twins(&with_extra, &good("demo-1.0"));
    let report = analyze(dir.path());
    let blocker = saying(&report, "archive-parity", CheckStatus::Blocker, "1 member is only in demo-1.0.tar.gz");
    assert_eq!(blocker.len(), 1, "{report:#?}");
    assert!(blocker[0].message.contains("(demo-1.0/EXTRA.txt)"), "{}", blocker[0].message);
    assert!(!blocker[0].message.contains("differs"), "{}", blocker[0].message);
    assert_eq!(blocker[0].member.as_deref(), Some("demo-1.0/EXTRA.txt"));
}

#[test]
fn a_member_whose_content_differs_is_a_blocker() {
    let mut changed = good("demo-1.0");
    for item in &mut changed {
        if let Item::File(name, data) = item
            && *name == "demo-1.0/README"
        {
            *data = b"Read me, changed after the tarball was made.\n".to_vec();
        }
    }
    let dir = twins(&good("demo-1.0"), &changed);
    let report = analyze(dir.path());
    let blocker =
        saying(&report, "archive-parity", CheckStatus::Blocker, "1 member differs in content (demo-1.0/README)");
    assert_eq!(blocker.len(), 1, "{report:#?}");
    assert!(!blocker[0].message.contains("only in"), "{}", blocker[0].message);
    assert_eq!(blocker[0].member.as_deref(), Some("demo-1.0/README"));
    assert_eq!(blocker[0].path.as_ref().map(atr_core::types::ReleasePath::as_str), Some("demo-1.0.zip"));
}

#[test]
fn a_damaged_twin_is_not_compared() {
    let dir = twins(&good("demo-1.0"), &good("demo-1.0"));
    write(dir.path(), "demo-1.0.zip", b"this is not a zip");
    let report = analyze(dir.path());
    let note = saying(&report, "archive-parity", CheckStatus::Note, "was not compared with demo-1.0.tar.gz");
    assert_eq!(note.len(), 1, "{report:#?}");
    assert!(report.findings.iter().all(|f| f.checker != "archive-parity" || f.status == CheckStatus::Note));
}

/// A tar whose second header's size field holds control characters, with a valid header checksum,
/// so the tar reader's error quotes those bytes.
fn tar_with_garbage_in_a_header() -> Vec<u8> {
    let mut first = header("demo-1.0/README", tar::EntryType::Regular, 5, None);
    first.set_cksum();
    let mut second = header("demo-1.0/NOTICE", tar::EntryType::Regular, 5, None);
    second.as_old_mut().size.copy_from_slice(b"\x01\x02\n\x1b[31m\x07\x00\x00\x00");
    second.set_cksum();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(first.as_bytes());
    bytes.extend_from_slice(b"hello");
    bytes.resize(1024, 0);
    bytes.extend_from_slice(second.as_bytes());
    bytes.extend_from_slice(&[0; 2048]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn a_damaged_header_is_told_without_its_raw_bytes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "demo-1.0.tar.gz", &tar_with_garbage_in_a_header());
    let report = analyze(dir.path());
    let damaged = saying(&report, "archive", CheckStatus::Blocker, "truncated or damaged");
    assert_eq!(damaged.len(), 1, "{report:#?}");
    let message = &damaged[0].message;
    println!("{message}");
    assert!(!message.chars().any(char::is_control), "{message:?}");
    assert!(!message.contains('\n'), "{message:?}");
    assert!(message.contains("\\x1b") || message.contains("\\x01"), "the bytes are shown escaped: {message}");
    assert!(message.ends_with("Build and upload the archive again."), "{message}");
    assert!(message.chars().count() <= MAX_MESSAGE);
}

#[test]
fn a_too_deep_path_is_named_briefly() {
    let deep = format!("demo-1.0/{}leaf.txt", "level/".repeat(180));
    assert!(deep.len() > 1_000);
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(4);
    header.set_mode(0o644);
    builder.append_data(&mut header, &deep, &b"deep"[..]).unwrap();
    let bytes = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "demo-1.0.tar.gz", &gz.finish().unwrap());
    let report = analyze(dir.path());
    let deep_finding =
        saying(&report, "archive", CheckStatus::Blocker, "has 182 path segments, more than the limit of 64");
    assert_eq!(deep_finding.len(), 1, "{report:#?}");
    let message = &deep_finding[0].message;
    assert!(message.chars().count() < 400, "{} characters: {message}", message.chars().count());
    assert!(message.starts_with("Member demo-1.0/level/level/") && message.contains("…"), "{message}");
    assert!(message.contains("level/leaf.txt has 182 path segments"), "{message}");
    // The member field keeps the name's start and end, within its own bound.
    let member = deep_finding[0].member.as_deref().unwrap();
    assert_eq!(member.chars().count(), MAX_MEMBER);
    assert!(member.starts_with("demo-1.0/level/") && member.ends_with("level/leaf.txt"), "{member}");
}
