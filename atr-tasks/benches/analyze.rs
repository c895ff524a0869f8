//! Analyze throughput against `sha512sum` on the same file, in the same run.
//!
//! `cargo bench -p atr-tasks --bench analyze` generates two signed release folders (a source-like
//! tarball of text files that compresses about 4:1, and a tarball of incompressible bytes), then
//! times `sha512sum`, `gzip -dc` (decompression alone, which no archive check can avoid) and a
//! full Analyze (paths, signature, checksum, archive integrity and
//! structure, license files, license headers) on each, alternating, and prints the medians and
//! their ratio. `ATR_BENCH_MIB` sets the uncompressed size (default 256).
//!
//! With `ATR_BENCH_FOLDER` set to a release folder (such as the real httpd release), it times
//! that folder instead: `sha512sum` over its files and a full Analyze of the folder (with
//! `ATR_BENCH_KEYS`, a KEYS file, signatures are verified), alternating, and prints the medians,
//! their ratio and the findings' counts. `ATR_BENCH_ROUNDS` sets the rounds (default 5).
#![expect(
    clippy::disallowed_methods,
    reason = "the benchmark writes its release folders to disk and runs sha512sum and gzip to compare with"
)]

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use atr_tasks::analyze::folder::{AnalyzeOptions, analyze_folder};
use openpgp::cert::CertBuilder;
use openpgp::serialize::SerializeInto;
use openpgp::serialize::stream::{Armorer, Message, Signer};
use sequoia_openpgp as openpgp;

const APACHE: &str = include_str!("../assets/licenses/Apache-2.0.txt");
const HEADER: &str = "/*\n * Licensed to the Apache Software Foundation (ASF) under one or more contributor license\n * agreements. Licensed under the Apache License, Version 2.0.\n */\n";
const WORDS: &[&str] = &[
    "release",
    "artifact",
    "signature",
    "checksum",
    "vote",
    "binding",
    "committee",
    "project",
    "version",
    "manager",
    "static",
    "void",
    "return",
    "struct",
    "impl",
    "match",
    "while",
    "for",
    "if",
    "else",
    "let",
    "mut",
    "fn",
    "pub",
];

/// A small deterministic generator, so runs compare.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn source_file(rng: &mut XorShift, size: usize) -> Vec<u8> {
    let mut out = HEADER.as_bytes().to_vec();
    while out.len() < size {
        let n = usize::try_from(rng.next() % 10).unwrap() + 2;
        for _ in 0..n {
            out.extend_from_slice(WORDS[usize::try_from(rng.next() % WORDS.len() as u64).unwrap()].as_bytes());
            out.push(b' ');
        }
        let id = rng.next() % 100_000;
        out.extend_from_slice(format!("x{id};\n").as_bytes());
    }
    out
}

fn binary_file(rng: &mut XorShift, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        out.extend_from_slice(&rng.next().to_le_bytes());
    }
    out
}

/// Writes `<dir>/<name>.tar.gz` holding `mib` MiB of files under `<name>/`.
fn tarball(dir: &Path, name: &str, mib: usize, binary: bool) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.tar.gz"));
    let file = std::fs::File::create(&path).unwrap();
    let gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let add = |tar: &mut tar::Builder<_>, member: String, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, member, data).unwrap();
    };
    add(&mut tar, format!("{name}/LICENSE"), APACHE.as_bytes());
    add(&mut tar, format!("{name}/NOTICE"), b"Apache Bench\nCopyright 2026 The Apache Software Foundation\n");
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    for i in 0..mib {
        let (member, data) = if binary {
            (format!("{name}/lib/part-{i:05}.bin"), binary_file(&mut rng, 1 << 20))
        } else {
            (format!("{name}/src/module{:03}/File{i:05}.java", i / 100), source_file(&mut rng, 1 << 20))
        };
        add(&mut tar, member, &data);
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
    path
}

/// Signs `file` (detached, armored, SHA-512) and writes its `.sha512`; returns the KEYS bytes.
fn sign(file: &Path, cert: &openpgp::Cert) {
    let keypair = cert.keys().subkeys().unencrypted_secret().next().unwrap().key().clone().into_keypair().unwrap();
    let mut asc = Vec::new();
    {
        let message = Message::new(&mut asc);
        let message = Armorer::new(message).kind(openpgp::armor::Kind::Signature).build().unwrap();
        let mut signer = Signer::new(message, keypair).unwrap().detached().build().unwrap();
        std::io::copy(&mut std::fs::File::open(file).unwrap(), &mut signer).unwrap();
        signer.finalize().unwrap();
    }
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::write(file.with_file_name(format!("{name}.asc")), asc).unwrap();
    let out = Command::new("sha512sum").arg(file).output().expect("sha512sum is needed as the baseline");
    let digest = String::from_utf8(out.stdout).unwrap();
    let digest = digest.split_whitespace().next().unwrap();
    std::fs::write(file.with_file_name(format!("{name}.sha512")), format!("{digest}  {name}\n")).unwrap();
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Times Analyze of a release folder against `sha512sum` of its files, in the same run.
fn bench_folder(dir: &Path, keys: Option<Vec<u8>>, rounds: usize) {
    use atr_core::model::CheckStatus;

    let mut files: Vec<std::path::PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    let options = AnalyzeOptions { keys, ..AnalyzeOptions::default() };
    // Warm the page cache.
    let report = analyze_folder(dir, &options);
    let (mut sha, mut analyze) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let start = Instant::now();
        let status = Command::new("sha512sum").args(&files).stdout(std::process::Stdio::null()).status().unwrap();
        assert!(status.success());
        sha.push(start.elapsed());
        let start = Instant::now();
        let again = analyze_folder(dir, &options);
        analyze.push(start.elapsed());
        assert_eq!(again.findings.len(), report.findings.len());
    }
    let (sha, analyze) = (median(sha), median(analyze));
    let count = |status| report.findings.iter().filter(|f| f.status == status).count();
    println!(
        "{}: {} files, {} findings ({} blockers, {} warnings); median of {rounds}: sha512sum {:.3} s, analyze {:.3} s, \
         analyze / sha512sum {:.2}x",
        dir.display(),
        report.files,
        report.findings.len(),
        count(CheckStatus::Blocker),
        count(CheckStatus::Warning),
        sha.as_secs_f64(),
        analyze.as_secs_f64(),
        analyze.as_secs_f64() / sha.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let rounds: usize = std::env::var("ATR_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    if let Some(dir) = std::env::var_os("ATR_BENCH_FOLDER") {
        let keys = std::env::var_os("ATR_BENCH_KEYS").map(|k| std::fs::read(k).unwrap());
        bench_folder(Path::new(&dir), keys, rounds);
        return;
    }
    let mib: usize = std::env::var("ATR_BENCH_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    let (cert, _) = CertBuilder::new()
        .add_userid("Bench Manager <bench@apache.org>")
        .add_signing_subkey()
        .set_creation_time(SystemTime::now() - Duration::from_hours(1))
        .generate()
        .unwrap();
    let keys = cert.armored().to_vec().unwrap();
    println!("Analyze vs sha512sum, {mib} MiB uncompressed per artifact, median of {rounds} rounds");
    println!(
        "{:<28} {:>9} {:>12} {:>10} {:>10} {:>16} {:>14}",
        "artifact", "size MiB", "sha512sum s", "gzip -dc s", "analyze s", "vs sha512sum", "vs gzip -dc"
    );
    for (label, binary) in [("source-like (text) tar.gz", false), ("incompressible tar.gz", true)] {
        let dir = tempfile::tempdir().unwrap();
        let name = if binary { "bench-bin-1.0" } else { "bench-src-1.0" };
        let file = tarball(dir.path(), name, mib, binary);
        sign(&file, &cert);
        let options = AnalyzeOptions { keys: Some(keys.clone()), ..AnalyzeOptions::default() };
        // Warm the page cache and check that the artifact passes.
        let report = analyze_folder(dir.path(), &options);
        let blockers: Vec<_> =
            report.findings.iter().filter(|f| f.status == atr_core::model::CheckStatus::Blocker).collect();
        assert!(blockers.is_empty(), "the generated release does not pass: {blockers:?}");
        let (mut sha, mut gunzip, mut analyze) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let start = Instant::now();
            let status = Command::new("sha512sum").arg(&file).stdout(std::process::Stdio::null()).status().unwrap();
            assert!(status.success());
            sha.push(start.elapsed());
            let start = Instant::now();
            let status =
                Command::new("gzip").arg("-dc").arg(&file).stdout(std::process::Stdio::null()).status().unwrap();
            assert!(status.success());
            gunzip.push(start.elapsed());
            let start = Instant::now();
            let report = analyze_folder(dir.path(), &options);
            analyze.push(start.elapsed());
            assert!(report.files == 3);
        }
        let (sha, gunzip, analyze) = (median(sha), median(gunzip), median(analyze));
        #[expect(
            clippy::cast_precision_loss,
            reason = "a size in MiB for a report: a few bits lost beyond 2^52 bytes do not matter"
        )]
        let size = std::fs::metadata(&file).unwrap().len() as f64 / f64::from(1 << 20);
        println!(
            "{label:<28} {size:>9.1} {:>12.3} {:>10.3} {:>10.3} {:>15.2}x {:>13.2}x",
            sha.as_secs_f64(),
            gunzip.as_secs_f64(),
            analyze.as_secs_f64(),
            analyze.as_secs_f64() / sha.as_secs_f64(),
            analyze.as_secs_f64() / gunzip.as_secs_f64()
        );
    }
}
