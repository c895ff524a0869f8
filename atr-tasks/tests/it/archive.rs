//! Archive checks: integrity, safety, structure, license files and headers, on archives built here
//! and on a real Apache release.

mod folder;
mod sbom;

use std::io::{Cursor, Read, Write};
use std::path::PathBuf;

use atr_core::model::CheckStatus;
use atr_core::types::ReleasePath;
use atr_tasks::analyze::Finding;
use atr_tasks::analyze::archive::{ArchiveKind, ArchiveLimits, ArchiveOptions, check_archive};

const APACHE_LICENSE: &str = include_str!("../../assets/licenses/Apache-2.0.txt");
const JAVA_HEADER: &str = "/*\n * Licensed to the Apache Software Foundation (ASF) under one\n * or more contributor license \
                           agreements.\n */\n";

/// One member of an archive built for a test.
enum Item {
    File(&'static str, Vec<u8>),
    Dir(&'static str),
    Symlink(&'static str, &'static str),
    Hardlink(&'static str, &'static str),
    CharDevice(&'static str),
}

fn file(name: &'static str, text: &str) -> Item {
    Item::File(name, text.as_bytes().to_vec())
}

/// A small, correct source release rooted at `root/`.
fn good(root: &'static str) -> Vec<Item> {
    let at = |name: &str| -> &'static str { Box::leak(format!("{root}/{name}").into_boxed_str()) };
    vec![
        Item::Dir(at("")),
        file(at("LICENSE"), &format!("{APACHE_LICENSE}\n\nThis product bundles zlib, under the zlib license.\n")),
        file(at("NOTICE"), "Apache Demo\nCopyright 2024-2026 The Apache Software Foundation\n"),
        file(at("README"), "Read me.\n"),
        Item::Dir(at("src")),
        file(at("src/Main.java"), &format!("{JAVA_HEADER}package demo;\nclass Main {{}}\n")),
        file(
            at("src/build.sh"),
            "#!/bin/sh\n# Licensed under the Apache License, Version 2.0 (the \"License\");\necho hi\n",
        ),
    ]
}

/// Writes `name` into a header without the tar crate's path checks, so hostile names can be built.
fn header(name: &str, entry_type: tar::EntryType, size: u64, link: Option<&str>) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    let gnu = header.as_gnu_mut().expect("gnu header");
    gnu.name[..name.len()].copy_from_slice(name.as_bytes());
    if let Some(link) = link {
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    header.set_entry_type(entry_type);
    header.set_size(size);
    header.set_mode(if entry_type == tar::EntryType::Directory { 0o755 } else { 0o644 });
    header.set_mtime(1_700_000_000);
    header.set_cksum();
    header
}

fn tar(items: &[Item]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for item in items {
        let (header, data): (tar::Header, &[u8]) = match item {
            Item::File(name, data) => (header(name, tar::EntryType::Regular, data.len() as u64, None), data),
            Item::Dir(name) => (header(name, tar::EntryType::Directory, 0, None), &[]),
            Item::Symlink(name, target) => (header(name, tar::EntryType::Symlink, 0, Some(target)), &[]),
            Item::Hardlink(name, target) => (header(name, tar::EntryType::Link, 0, Some(target)), &[]),
            Item::CharDevice(name) => (header(name, tar::EntryType::Char, 0, None), &[]),
        };
        builder.append(&header, data).expect("append");
    }
    builder.into_inner().expect("finish tar")
}

fn compress(kind: ArchiveKind, data: &[u8]) -> Vec<u8> {
    match kind {
        ArchiveKind::TarGz | ArchiveKind::Tgz => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).expect("gzip");
            e.finish().expect("gzip")
        }
        ArchiveKind::TarBz2 => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            e.write_all(data).expect("bzip2");
            e.finish().expect("bzip2")
        }
        ArchiveKind::TarXz => {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
            e.write_all(data).expect("xz");
            e.finish().expect("xz")
        }
        ArchiveKind::Zip => unreachable!(),
    }
}

fn zip(items: &[Item]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for item in items {
        match item {
            Item::File(name, data) => {
                writer.start_file(*name, options).expect("start file");
                writer.write_all(data).expect("write");
            }
            Item::Dir(name) => writer.add_directory(*name, options).expect("dir"),
            Item::Symlink(name, target) => writer.add_symlink(*name, *target, options).expect("symlink"),
            Item::Hardlink(..) | Item::CharDevice(..) => panic!("zip has no such member"),
        }
    }
    writer.finish().expect("finish zip").into_inner()
}

fn build(kind: ArchiveKind, items: &[Item]) -> Vec<u8> {
    match kind {
        ArchiveKind::Zip => zip(items),
        _ => compress(kind, &tar(items)),
    }
}

fn check(name: &str, bytes: &[u8], options: &ArchiveOptions, limits: &ArchiveLimits) -> Vec<Finding> {
    let path = ReleasePath::parse(name).expect("release path");
    let kind = ArchiveKind::of(name).expect("archive kind");
    check_archive(&path, kind, bytes, options, limits)
}

fn check_default(name: &str, bytes: &[u8]) -> Vec<Finding> {
    check(name, bytes, &ArchiveOptions::default(), &ArchiveLimits::default())
}

fn with(findings: &[Finding], checker: &str, status: CheckStatus) -> Vec<Finding> {
    findings.iter().filter(|f| f.checker == checker && f.status == status).cloned().collect()
}

fn blockers(findings: &[Finding]) -> Vec<Finding> {
    findings.iter().filter(|f| f.status == CheckStatus::Blocker).cloned().collect()
}

/// The one Blocker of `findings` whose message contains `needle`.
#[track_caller]
fn blocker_saying(findings: &[Finding], needle: &str) -> Finding {
    let found: Vec<_> = blockers(findings).into_iter().filter(|f| f.message.contains(needle)).collect();
    assert_eq!(found.len(), 1, "one blocker saying {needle:?} expected in {findings:#?}");
    found[0].clone()
}

#[test]
fn archive_kind_is_known_by_suffix() {
    assert_eq!(ArchiveKind::of("a-1.0.tar.gz"), Some(ArchiveKind::TarGz));
    assert_eq!(ArchiveKind::of("a-1.0.tgz"), Some(ArchiveKind::Tgz));
    assert_eq!(ArchiveKind::of("a-1.0.tar.bz2"), Some(ArchiveKind::TarBz2));
    assert_eq!(ArchiveKind::of("a-1.0.tar.xz"), Some(ArchiveKind::TarXz));
    assert_eq!(ArchiveKind::of("a-1.0.zip"), Some(ArchiveKind::Zip));
    assert_eq!(ArchiveKind::of("a-1.0.tar"), None);
    assert_eq!(ArchiveKind::of("a-1.0.jar"), None);
}

#[test]
fn good_source_archive_passes_every_check() {
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &good("demo-1.0")));
    assert!(blockers(&findings).is_empty(), "{findings:#?}");
    assert!(findings.iter().all(|f| f.status == CheckStatus::Success), "{findings:#?}");
    assert_eq!(with(&findings, "license-files", CheckStatus::Success).len(), 2);
    let headers = with(&findings, "license-headers", CheckStatus::Success);
    assert_eq!(headers.len(), 1);
    assert!(headers[0].message.contains("All 2 source files"), "{}", headers[0].message);
    let integrity = &with(&findings, "archive", CheckStatus::Success);
    assert!(integrity.iter().any(|f| f.message.contains("reads to the end: 7 members")), "{integrity:#?}");
    assert!(integrity.iter().any(|f| f.message.contains("root folder demo-1.0/")), "{integrity:#?}");
}

#[test]
fn every_archive_format_opens_and_reads_to_the_end() {
    for (kind, name) in [
        (ArchiveKind::TarGz, "demo-1.0.tar.gz"),
        (ArchiveKind::Tgz, "demo-1.0.tgz"),
        (ArchiveKind::TarBz2, "demo-1.0.tar.bz2"),
        (ArchiveKind::TarXz, "demo-1.0.tar.xz"),
        (ArchiveKind::Zip, "demo-1.0.zip"),
    ] {
        let findings = check_default(name, &build(kind, &good("demo-1.0")));
        assert!(blockers(&findings).is_empty(), "{name}: {findings:#?}");
        assert!(
            findings.iter().any(|f| f.status == CheckStatus::Success && f.message.contains("reads to the end")),
            "{name}: {findings:#?}"
        );
        assert_eq!(with(&findings, "license-files", CheckStatus::Success).len(), 2, "{name}: {findings:#?}");
    }
}

#[test]
fn truncated_archive_is_a_blocker_naming_the_member() {
    let mut items = good("demo-1.0");
    // Incompressible content, so that cutting the compressed stream cuts inside this member.
    let noise: Vec<u8> = (0..2_000_000u32).map(|i| i.wrapping_mul(2_654_435_761).to_be_bytes()[1]).collect();
    items.push(Item::File("demo-1.0/data.bin", noise));
    for (kind, name) in [
        (ArchiveKind::TarGz, "demo-1.0.tar.gz"),
        (ArchiveKind::TarBz2, "demo-1.0.tar.bz2"),
        (ArchiveKind::TarXz, "demo-1.0.tar.xz"),
    ] {
        let bytes = build(kind, &items);
        let findings = check_default(name, &bytes[..bytes.len() * 3 / 4]);
        let blocker = blocker_saying(&findings, "truncated or damaged");
        assert_eq!(blocker.checker, "archive");
        assert_eq!(blocker.member.as_deref(), Some("demo-1.0/data.bin"), "{name}: {findings:#?}");
        assert!(findings.iter().any(|f| f.status == CheckStatus::Note && f.message.contains("were not run")));
        assert!(with(&findings, "license-files", CheckStatus::Success).is_empty(), "{name}: {findings:#?}");
    }
    // A corrupt byte in the middle of a zip member fails its checksum or its decompression.
    let mut bytes = build(ArchiveKind::Zip, &items);
    let cut = bytes.len() / 2;
    bytes[cut] ^= 0xff;
    let findings = check_default("demo-1.0.zip", &bytes);
    assert!(!blockers(&findings).is_empty(), "{findings:#?}");
    // A zip cut short has lost its member directory.
    let findings = check_default("demo-1.0.zip", &build(ArchiveKind::Zip, &items)[..1000]);
    blocker_saying(&findings, "not a readable .zip archive");
}

#[test]
fn truncation_right_after_the_last_member_is_still_caught() {
    let bytes = build(ArchiveKind::TarGz, &good("demo-1.0"));
    // Dropping the gzip trailer (CRC and length) leaves every tar member intact.
    let findings = check_default("demo-1.0.tar.gz", &bytes[..bytes.len() - 4]);
    blocker_saying(&findings, "truncated or damaged");
}

#[test]
fn parent_segment_member_is_refused() {
    let mut items = good("demo-1.0");
    items.push(file("demo-1.0/../evil", "boom"));
    for (kind, name) in [(ArchiveKind::TarGz, "demo-1.0.tar.gz"), (ArchiveKind::Zip, "demo-1.0.zip")] {
        let findings = check_default(name, &build(kind, &items));
        let blocker = blocker_saying(&findings, "\"..\" segment");
        assert_eq!(blocker.member.as_deref(), Some("demo-1.0/../evil"), "{name}");
        assert!(!findings.iter().any(|f| f.message.starts_with("Every member stays inside")), "{name}");
    }
}

#[test]
fn absolute_path_member_is_refused() {
    let mut items = good("demo-1.0");
    items.push(file("/etc/cron.d/evil", "boom"));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    let blocker = blocker_saying(&findings, "absolute path");
    assert_eq!(blocker.member.as_deref(), Some("/etc/cron.d/evil"));
}

#[test]
fn links_escaping_the_root_are_refused() {
    let mut items = good("demo-1.0");
    items.push(Item::Symlink("demo-1.0/passwd", "../../etc/passwd"));
    items.push(Item::Symlink("demo-1.0/shadow", "/etc/shadow"));
    items.push(Item::Hardlink("demo-1.0/hard", "../outside"));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    assert_eq!(
        blocker_saying(&findings, "symbolic link to ../../etc/passwd").member.as_deref(),
        Some("demo-1.0/passwd")
    );
    assert_eq!(blocker_saying(&findings, "symbolic link to /etc/shadow").member.as_deref(), Some("demo-1.0/shadow"));
    assert_eq!(blocker_saying(&findings, "hard link to ../outside").member.as_deref(), Some("demo-1.0/hard"));
    assert_eq!(blockers(&findings).len(), 3, "{findings:#?}");

    let mut items = good("demo-1.0");
    items.push(Item::Symlink("demo-1.0/evil", "../../../tmp"));
    let findings = check_default("demo-1.0.zip", &build(ArchiveKind::Zip, &items));
    blocker_saying(&findings, "symbolic link to ../../../tmp");
}

#[test]
fn links_inside_the_root_are_fine() {
    let mut items = good("demo-1.0");
    items.push(Item::Symlink("demo-1.0/src/LICENSE", "../LICENSE"));
    items.push(Item::Hardlink("demo-1.0/COPYING", "demo-1.0/LICENSE"));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    assert!(blockers(&findings).is_empty(), "{findings:#?}");
}

#[test]
fn device_files_are_refused() {
    let mut items = good("demo-1.0");
    items.push(Item::CharDevice("demo-1.0/null"));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    assert_eq!(blocker_saying(&findings, "character device").member.as_deref(), Some("demo-1.0/null"));
}

#[test]
fn too_deep_paths_are_refused() {
    let mut items = good("demo-1.0");
    items.push(file("demo-1.0/a/b/c/d/e/f/g.txt", "deep"));
    let limits = ArchiveLimits { max_depth: 5, ..ArchiveLimits::default() };
    let findings = check("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items), &ArchiveOptions::default(), &limits);
    blocker_saying(&findings, "has 8 path segments, more than the limit of 5");
}

/// Zeros of a 1 GiB member, streamed through gzip in 1 MiB pieces: about 1 MiB compressed.
fn gzip_bomb() -> Vec<u8> {
    const SIZE: u64 = 1024 * 1024 * 1024;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let header = header("bomb-1.0/zeros", tar::EntryType::Regular, SIZE, None);
    gz.write_all(header.as_bytes()).expect("header");
    let chunk = vec![0u8; 1024 * 1024];
    for _ in 0..SIZE / chunk.len() as u64 {
        gz.write_all(&chunk).expect("zeros");
    }
    gz.write_all(&[0u8; 1024]).expect("end marker");
    gz.finish().expect("gzip")
}

/// Counts the bytes handed to the checker.
struct Counted<'a> {
    inner: &'a [u8],
    read: &'a std::cell::Cell<usize>,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n);
        Ok(n)
    }
}

#[test]
fn compression_bomb_is_stopped_early() {
    let bomb = gzip_bomb();
    assert!(bomb.len() < 16 * 1024 * 1024, "the bomb compresses to {} bytes", bomb.len());
    let read = std::cell::Cell::new(0);
    let path = ReleasePath::parse("bomb-1.0.tar.gz").expect("path");
    let findings = check_archive(
        &path,
        ArchiveKind::TarGz,
        Counted { inner: &bomb, read: &read },
        &ArchiveOptions::default(),
        &ArchiveLimits::default(),
    );
    blocker_saying(&findings, "decompression bomb");
    assert!(read.get() < bomb.len(), "reading stopped before the end: {} of {}", read.get(), bomb.len());
    assert!(findings.iter().any(|f| f.status == CheckStatus::Note && f.message.contains("were not run")));
}

#[test]
fn total_and_member_size_limits_are_enforced() {
    let mut items = good("demo-1.0");
    items.push(Item::File("demo-1.0/big.bin", vec![7u8; 3 * 1024 * 1024]));
    let bytes = build(ArchiveKind::TarGz, &items);
    let small_total = ArchiveLimits { max_total_uncompressed: 2 * 1024 * 1024, ..ArchiveLimits::default() };
    let findings = check("demo-1.0.tar.gz", &bytes, &ArchiveOptions::default(), &small_total);
    blocker_saying(&findings, "unpacks to more than 2.0 MiB");

    let small_member = ArchiveLimits { max_member_size: 1024 * 1024, ..ArchiveLimits::default() };
    let findings = check("demo-1.0.tar.gz", &bytes, &ArchiveOptions::default(), &small_member);
    assert_eq!(blocker_saying(&findings, "for one member").member.as_deref(), Some("demo-1.0/big.bin"));

    let zip_bytes = build(ArchiveKind::Zip, &items);
    let findings = check("demo-1.0.zip", &zip_bytes, &ArchiveOptions::default(), &small_member);
    blocker_saying(&findings, "for one member");
}

#[test]
fn too_many_members_are_refused() {
    let mut items = good("demo-1.0");
    let names: Vec<&'static str> =
        (0..30).map(|i| &*Box::leak(format!("demo-1.0/f{i}.txt").into_boxed_str())).collect();
    items.extend(names.iter().map(|name| file(name, "x")));
    let limits = ArchiveLimits { max_members: 20, ..ArchiveLimits::default() };
    for (kind, name) in [(ArchiveKind::TarXz, "demo-1.0.tar.xz"), (ArchiveKind::Zip, "demo-1.0.zip")] {
        let findings = check(name, &build(kind, &items), &ArchiveOptions::default(), &limits);
        blocker_saying(&findings, "more than 20 members");
    }
}

#[test]
fn two_root_folders_are_a_blocker() {
    let mut items = good("demo-1.0");
    items.push(file("other/file.txt", "x"));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    let blocker = blocker_saying(&findings, "single folder demo-1.0/");
    assert!(blocker.message.contains("other/"), "{}", blocker.message);
}

#[test]
fn files_at_the_top_are_a_blocker() {
    let items = vec![
        file("LICENSE", APACHE_LICENSE),
        file("NOTICE", "Copyright 2026 The Apache Software Foundation\n"),
        file("Main.java", JAVA_HEADER),
    ];
    let findings = check_default("demo-1.0.zip", &build(ArchiveKind::Zip, &items));
    blocker_saying(&findings, "single folder demo-1.0/");
    // The license files are still looked for at the top of the archive.
    assert_eq!(with(&findings, "license-files", CheckStatus::Success).len(), 2, "{findings:#?}");
}

#[test]
fn wrong_root_name_is_a_warning() {
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &good("demo-0.9")));
    assert!(blockers(&findings).is_empty(), "{findings:#?}");
    let warnings = with(&findings, "archive", CheckStatus::Warning);
    assert_eq!(warnings.len(), 1, "{findings:#?}");
    assert!(warnings[0].message.contains("should unpack into demo-1.0/"), "{}", warnings[0].message);
    // A source archive named `-src` may unpack without that suffix.
    let findings = check_default("demo-1.0-src.tar.gz", &build(ArchiveKind::TarGz, &good("demo-1.0")));
    assert!(with(&findings, "archive", CheckStatus::Warning).is_empty(), "{findings:#?}");
}

fn without(items: Vec<Item>, unwanted: &str) -> Vec<Item> {
    items.into_iter().filter(|item| !matches!(item, Item::File(name, _) if name.ends_with(unwanted))).collect()
}

#[test]
fn missing_license_and_notice_are_blockers() {
    let items = without(without(good("demo-1.0"), "/LICENSE"), "/NOTICE");
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    assert_eq!(blocker_saying(&findings, "no LICENSE or LICENSE.txt").checker, "license-files");
    assert_eq!(blocker_saying(&findings, "no NOTICE or NOTICE.txt").checker, "license-files");
    // A LICENSE deeper in the tree does not count.
    let mut items = without(good("demo-1.0"), "/LICENSE");
    items.push(file("demo-1.0/src/LICENSE", APACHE_LICENSE));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    blocker_saying(&findings, "no LICENSE or LICENSE.txt");
}

#[test]
fn txt_names_are_accepted_and_duplicates_refused() {
    let mut items = without(without(good("demo-1.0"), "/LICENSE"), "/NOTICE");
    items.push(file("demo-1.0/LICENSE.txt", APACHE_LICENSE));
    items.push(file("demo-1.0/NOTICE.txt", "Copyright 2026 The Apache Software Foundation\n"));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    assert!(blockers(&findings).is_empty(), "{findings:#?}");

    let mut items = good("demo-1.0");
    items.push(file("demo-1.0/LICENSE.txt", APACHE_LICENSE));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    blocker_saying(&findings, "There are 2 LICENSE files");
}

#[test]
fn license_other_than_apache_is_a_blocker() {
    let mut items = without(good("demo-1.0"), "/LICENSE");
    items.push(file("demo-1.0/LICENSE", "MIT License\n\nPermission is hereby granted, free of charge...\n"));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    let blocker = blocker_saying(&findings, "does not start with the Apache License 2.0 text");
    assert_eq!(blocker.member.as_deref(), Some("demo-1.0/LICENSE"));
    // Reflowed whitespace and https addresses are the same license.
    let mut items = without(good("demo-1.0"), "/LICENSE");
    let reflowed = APACHE_LICENSE.replace("http://", "https://").replace("\n   ", "\n");
    items.push(Item::File("demo-1.0/LICENSE", reflowed.into_bytes()));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    assert!(blockers(&findings).is_empty(), "{findings:#?}");
}

#[test]
fn notice_must_be_utf8_with_the_asf_copyright() {
    let mut items = without(good("demo-1.0"), "/NOTICE");
    items.push(Item::File("demo-1.0/NOTICE", b"Copyright 2026 The Apache Software Foundation\nCaf\xe9\n".to_vec()));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    let blocker = blocker_saying(&findings, "not valid UTF-8");
    assert_eq!(blocker.member.as_deref(), Some("demo-1.0/NOTICE"));

    let mut items = without(good("demo-1.0"), "/NOTICE");
    items.push(file("demo-1.0/NOTICE", "Apache Demo\nCopyright 2026 Somebody Else\n"));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    blocker_saying(&findings, "has no line \"Copyright [years] The Apache Software Foundation\"");
}

#[test]
fn podling_needs_a_disclaimer() {
    let podling = ArchiveOptions { podling: true, ..ArchiveOptions::default() };
    let bytes = build(ArchiveKind::TarGz, &good("demo-1.0"));
    let findings = check("demo-1.0.tar.gz", &bytes, &podling, &ArchiveLimits::default());
    blocker_saying(&findings, "no DISCLAIMER or DISCLAIMER-WIP");
    // Not a podling: no disclaimer needed.
    assert!(blockers(&check_default("demo-1.0.tar.gz", &bytes)).is_empty());

    let mut items = good("demo-1.0");
    items.push(file("demo-1.0/DISCLAIMER-WIP", "Apache Demo is an effort undergoing incubation.\n"));
    let findings = check("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items), &podling, &ArchiveLimits::default());
    assert!(blockers(&findings).is_empty(), "{findings:#?}");
    assert_eq!(with(&findings, "license-files", CheckStatus::Success).len(), 3);
}

fn with_unlicensed_sources() -> Vec<Item> {
    let mut items = good("demo-1.0");
    items.push(file("demo-1.0/src/Plain.java", "package demo;\nclass Plain {}\n"));
    items.push(file("demo-1.0/src/util.py", "print('no header')\n"));
    items.push(file("demo-1.0/test/data/sample.xml", "<sample/>\n"));
    items.push(file("demo-1.0/web/app.min.js", "var a=1;"));
    items.push(file("demo-1.0/src/Gen.java", "// Code generated by protoc. DO NOT EDIT.\nclass Gen {}\n"));
    items.push(file("demo-1.0/notes.txt", "not source\n"));
    items
}

#[test]
fn missing_headers_are_one_warning_with_count_and_list() {
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &with_unlicensed_sources()));
    assert!(blockers(&findings).is_empty(), "{findings:#?}");
    let warnings = with(&findings, "license-headers", CheckStatus::Warning);
    assert_eq!(warnings.len(), 1, "{findings:#?}");
    let message = &warnings[0].message;
    assert!(message.starts_with("3 of 5 source files have no license header"), "{message}");
    for path in ["demo-1.0/src/Plain.java", "demo-1.0/src/util.py", "demo-1.0/test/data/sample.xml"] {
        assert!(message.contains(path), "{message}");
    }
    assert!(!message.contains("app.min.js") && !message.contains("Gen.java") && !message.contains("notes.txt"));
}

#[test]
fn missing_headers_block_under_a_blocking_policy() {
    let options = ArchiveOptions { license_headers_blocking: true, ..ArchiveOptions::default() };
    let bytes = build(ArchiveKind::TarGz, &with_unlicensed_sources());
    let findings = check("demo-1.0.tar.gz", &bytes, &options, &ArchiveLimits::default());
    assert_eq!(blocker_saying(&findings, "have no license header").checker, "license-headers");
}

#[test]
fn header_list_names_what_fits_and_counts_the_rest() {
    let mut items = good("demo-1.0");
    let names: Vec<&'static str> =
        (0..60).map(|i| &*Box::leak(format!("demo-1.0/src/F{i:02}.java").into_boxed_str())).collect();
    items.extend(names.iter().map(|name| file(name, "class F {}\n")));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    let warning = &with(&findings, "license-headers", CheckStatus::Warning)[0];
    let message = &warning.message;
    assert!(message.starts_with("60 of 62 source files"), "{message}");
    // The sentence ends whole, with the count of the paths it could not name.
    assert!(message.chars().count() <= atr_tasks::analyze::text::MAX_MESSAGE, "{message}");
    assert!(message.ends_with("in .rat-excludes."), "{message}");
    let listed = names.iter().filter(|name| message.contains(*name)).count();
    assert!(listed >= 5, "{message}");
    assert!(message.contains(&format!(" and {} more. Add the header", 60 - listed)), "{message}");
}

#[test]
fn rat_excludes_and_policy_globs_are_honored() {
    let mut items = with_unlicensed_sources();
    items.push(file("demo-1.0/.rat-excludes", "# test data has no headers\ntest/**\n*.py\n"));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    let warning = &with(&findings, "license-headers", CheckStatus::Warning)[0];
    assert!(warning.message.starts_with("1 of 3 source files"), "{}", warning.message);
    assert!(warning.message.contains("demo-1.0/src/Plain.java"), "{}", warning.message);

    let options = ArchiveOptions { header_excludes: vec!["src/Plain.java".to_owned()], ..ArchiveOptions::default() };
    let findings = check("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items), &options, &ArchiveLimits::default());
    assert_eq!(with(&findings, "license-headers", CheckStatus::Success).len(), 1, "{findings:#?}");
}

const BSD_3_CLAUSE: &str = "/*\n * Copyright (c) 2020, The Demo Authors. All rights reserved.\n *\n * Redistribution and use in \
source and binary forms, with or without\n * modification, are permitted provided that the following conditions are \
met:\n *\n * 1. Redistributions of source code must retain the above copyright notice, this\n *    list of conditions and \
the following disclaimer.\n *\n * 2. Redistributions in binary form must reproduce the above copyright notice,\n *    \
this list of conditions and the following disclaimer in the documentation\n *    and/or other materials provided with \
the distribution.\n *\n * 3. Neither the name of the copyright holder nor the names of its\n *    contributors may be \
used to endorse or promote products derived from\n *    this software without specific prior written permission.\n \
*\n * THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS \"AS IS\"\n * AND ANY EXPRESS OR IMPLIED \
WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE\n * IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR \
PURPOSE ARE\n * DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE\n * FOR ANY DIRECT, \
INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL\n * DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF \
SUBSTITUTE GOODS OR\n * SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER\n * CAUSED AND ON \
ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,\n * OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING \
IN ANY WAY OUT OF THE USE\n * OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.\n */\nint bsd;\n";

const MPL_2_0: &str = "/* This Source Code Form is subject to the terms of the Mozilla Public\n * License, v. 2.0. If a copy \
of the MPL was not distributed with this\n * file, You can obtain one at http://mozilla.org/MPL/2.0/. */\nvar mpl = 1;\n";

const GPL_2_0_OR_LATER: &str = "/*\n * This program is free software; you can redistribute it and/or modify\n * it under \
the terms of the GNU General Public License as published by\n * the Free Software Foundation; either version 2 of the \
License, or\n * (at your option) any later version.\n *\n * This program is distributed in the hope that it will be \
useful,\n * but WITHOUT ANY WARRANTY; without even the implied warranty of\n * MERCHANTABILITY or FITNESS FOR A \
PARTICULAR PURPOSE.  See the\n * GNU General Public License for more details.\n *\n * You should have received a copy \
of the GNU General Public License along\n * with this program; if not, write to the Free Software Foundation, Inc.,\n \
* 51 Franklin Street, Fifth Floor, Boston, MA 02110-1301 USA.\n */\nint gpl;\n";

/// A GNU header with the Autoconf exception, as `config.guess` carries it.
fn gpl_with_autoconf_exception() -> String {
    let notice = GPL_2_0_OR_LATER.replace("*/\nint gpl;\n", "");
    format!(
        "#! /bin/sh\n{}\n# As a special exception to the GNU General Public License, if you\n# distribute this file \
         as part of a program that contains a\n# configuration script generated by Autoconf, you may include it under\n# \
         the same distribution terms that you use for the rest of that\n# program.\necho guess\n",
        notice
            .lines()
            .map(|line| format!("# {}", line.trim_start_matches(['/', ' ', '*'])))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

fn with_licensed_files() -> Vec<Item> {
    let mut items = good("demo-1.0");
    items.push(file("demo-1.0/src/bsd.c", BSD_3_CLAUSE));
    items.push(file("demo-1.0/web/mpl.js", MPL_2_0));
    items.push(file("demo-1.0/src/gpl.c", GPL_2_0_OR_LATER));
    items.push(Item::File("demo-1.0/build/config.guess", gpl_with_autoconf_exception().into_bytes()));
    items.push(file("demo-1.0/src/tagged.rs", "// SPDX-License-Identifier: MIT OR Apache-2.0\nfn main() {}\n"));
    items.push(file("demo-1.0/src/custom.py", "# Copyright 2020 Somebody. Licensed under my very own terms.\nx = 1\n"));
    items.push(Item::File("demo-1.0/web/logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()));
    items
}

#[test]
fn license_audit_judges_each_license_by_its_category() {
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &with_licensed_files()));
    let audit: Vec<&Finding> = findings.iter().filter(|f| f.checker == "license-headers").collect();
    // Category X: a blocker naming the license and the file.
    let blockers: Vec<&&Finding> = audit.iter().filter(|f| f.status == CheckStatus::Blocker).collect();
    assert_eq!(blockers.len(), 1, "{audit:#?}");
    assert!(blockers[0].message.starts_with("1 file is under GPL-2.0-or-later, a category X license"), "{audit:#?}");
    assert!(blockers[0].message.contains("demo-1.0/src/gpl.c"), "{audit:#?}");
    assert_eq!(blockers[0].member.as_deref(), Some("demo-1.0/src/gpl.c"));
    // Category B: a warning; a text no listed license matches: a warning too (policy not blocking).
    let warnings: Vec<&&Finding> = audit.iter().filter(|f| f.status == CheckStatus::Warning).collect();
    assert_eq!(warnings.len(), 2, "{audit:#?}");
    assert!(
        warnings.iter().any(|f| f.message.starts_with("1 file is under MPL-2.0, a category B license")
            && f.message.contains("demo-1.0/web/mpl.js")),
        "{audit:#?}"
    );
    assert!(
        warnings.iter().any(|f| f.message.starts_with("1 source file speaks of a license")
            && f.message.contains("demo-1.0/src/custom.py")),
        "{audit:#?}"
    );
    // The summary groups every file by license: approved ones need no finding of their own.
    let summary = audit.iter().find(|f| f.status == CheckStatus::Note).expect("a summary");
    for part in [
        "the Apache header in 2",
        "BSD-3-Clause in 1 (demo-1.0/src/bsd.c)",
        "MIT OR Apache-2.0 in 1 (demo-1.0/src/tagged.rs)",
        "GPL-2.0-or-later in 1 (demo-1.0/src/gpl.c)",
        "MPL-2.0 in 1 (demo-1.0/web/mpl.js)",
    ] {
        assert!(summary.message.contains(part), "{part}: {}", summary.message);
    }
    // The Autoconf exception makes config.guess acceptable, as in every autotools source tree.
    let exception = summary.message.find("GPL-2.0-or-later WITH Autoconf-exception-generic").expect("the exception");
    assert!(summary.message[exception..].contains(" in 1 (demo-1.0/build/config.guess)"), "{}", summary.message);
    // The png is binary; README, LICENSE and NOTICE are notices, not files that need a header.
    assert!(summary.message.contains("Skipped: 1 generated, binary or excluded files"), "{}", summary.message);
}

#[test]
fn license_audit_honours_rat_excludes_and_the_blocking_policy() {
    let mut items = with_licensed_files();
    items.push(file("demo-1.0/.rat-excludes", "src/gpl.c\nweb/*.js\n"));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    let audit: Vec<&Finding> = findings.iter().filter(|f| f.checker == "license-headers").collect();
    assert!(audit.iter().all(|f| f.status != CheckStatus::Blocker), "{audit:#?}");
    assert!(!audit.iter().any(|f| f.message.contains("gpl.c") || f.message.contains("mpl.js")), "{audit:#?}");
    // The one file left to judge is the unrecognised license, a blocker under a blocking policy.
    let options = ArchiveOptions { license_headers_blocking: true, ..ArchiveOptions::default() };
    let findings = check("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items), &options, &ArchiveLimits::default());
    let blocker = blocker_saying(&findings, "speaks of a license in the first lines");
    assert!(blocker.message.contains("demo-1.0/src/custom.py"), "{}", blocker.message);
}

#[test]
fn keys_inside_an_archive_is_a_warning() {
    let mut items = good("demo-1.0");
    items.push(file("demo-1.0/KEYS", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"));
    let findings = check_default("demo-1.0.tar.gz", &build(ArchiveKind::TarGz, &items));
    let warnings = with(&findings, "archive", CheckStatus::Warning);
    assert_eq!(warnings.len(), 1, "{findings:#?}");
    assert!(warnings[0].message.contains("a KEYS file inside an archive is never trusted"));
    assert_eq!(warnings[0].member.as_deref(), Some("demo-1.0/KEYS"));
}

#[test]
fn not_an_archive_is_a_blocker() {
    let findings = check_default("demo-1.0.tar.gz", b"this is not gzip");
    assert_eq!(blockers(&findings).len(), 1, "{findings:#?}");
    let findings = check_default("demo-1.0.zip", b"this is not a zip");
    blocker_saying(&findings, "not a readable .zip archive");
}

/// The folder holding the real httpd release.
fn httpd_fixture() -> PathBuf {
    let dir = std::env::var_os("ATR_HTTPD_FIXTURE").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fixtures/httpd-2.4.68"),
        PathBuf::from,
    );
    assert!(
        dir.join("httpd-2.4.68.tar.gz").is_file(),
        "the real httpd release is missing from {}: run scripts/fetch-httpd-release.sh {}",
        dir.display(),
        dir.display()
    );
    dir
}

#[test]
fn real_httpd_release_has_no_blocker() {
    let file = std::fs::File::open(httpd_fixture().join("httpd-2.4.68.tar.gz")).expect("open httpd release");
    let path = ReleasePath::parse("httpd-2.4.68.tar.gz").expect("path");
    let findings = check_archive(
        &path,
        ArchiveKind::TarGz,
        std::io::BufReader::new(file),
        &ArchiveOptions::default(),
        &ArchiveLimits::default(),
    );
    for finding in &findings {
        println!("{:?} [{}] {:?}: {}", finding.status, finding.checker, finding.member, finding.message);
    }
    assert!(blockers(&findings).is_empty(), "{findings:#?}");
    let license = with(&findings, "license-files", CheckStatus::Success);
    assert!(license.iter().any(|f| f.member.as_deref() == Some("httpd-2.4.68/LICENSE")), "{findings:#?}");
    assert!(license.iter().any(|f| f.member.as_deref() == Some("httpd-2.4.68/NOTICE")), "{findings:#?}");
    assert!(
        findings.iter().any(|f| f.status == CheckStatus::Success && f.message.contains("root folder httpd-2.4.68/"))
    );
    // The license audit recognises the third-party licenses httpd carries, each spot-checked by hand:
    // the build tools' GNU files with their exceptions, and two BSD files; all are approved.
    let summary = with(&findings, "license-headers", CheckStatus::Note);
    let summary = &summary.first().expect("the audit's summary").message;
    for part in [
        "BSD-2-Clause in 1 (httpd-2.4.68/build/mkdep.perl)",
        "BSD-3-Clause in 1 (httpd-2.4.68/test/test_limits.c)",
        "GPL-3.0-or-later WITH Autoconf-exception-generic-3.0 in 2 (httpd-2.4.68/build/config.guess and 1 more)",
        "GPL-3.0-or-later WITH Bison-exception-2.2 in 2",
        "GPL-3.0-or-later WITH Libtool-exception in 1 (httpd-2.4.68/build/ltmain.sh)",
    ] {
        assert!(summary.contains(part), "{part}: {summary}");
    }
    // Two scripts that say they are public domain are left for a person to judge.
    let unrecognised = findings.iter().find(|f| f.message.contains("speak of a license")).expect("unrecognised");
    assert!(unrecognised.message.starts_with("2 source files"), "{}", unrecognised.message);
    assert!(unrecognised.message.contains("httpd-2.4.68/support/SHA1/htpasswd-sha1.pl"), "{}", unrecognised.message);
}
