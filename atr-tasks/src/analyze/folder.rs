//! Analyze on a folder of release files: the paths check over the listing, then one pass over
//! each artifact's bytes that feeds the signature and checksum digests on one thread and the
//! archive checks (decompression) on another, then the SBOM checks, and last the comparison of
//! the archives of one tree (`archive-parity`) from the manifests their passes recorded.
//!
//! An archive's content is checked whether or not it is signed or summed yet: `atr check` before
//! signing reports an unsafe member as it would after. The missing signature and checksum are
//! blockers of their own (the paths check); a file with neither and no archive to open is not read.
//!
//! The same function serves the `atr check` pre-flight command (a local folder) and the Analyze
//! task (a revision's folder in release storage).
//!
//! This module is where the checks read files, and it reads only under the folder it is given.
#![expect(
    clippy::disallowed_methods,
    reason = "the one place the checks read files: the folder handed in (by atr-store for a task, by the user for `atr check`)"
)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use atr_core::model::{CheckStatus, derive_packages};
use atr_core::types::{Fingerprint, ReleasePath};
use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::archive::{
    ArchiveKind, ArchiveLimits, ArchiveOptions, ArchiveReport, Manifest, ReleaseArtifact, SbomRelease, check_sbom_in,
    inspect_archive, parity,
};
use super::signature::{DetachedSignatures, Hashes, KeyNote, KeyRing, SignaturePolicy, verify};
use super::signer::{self, SignerCheck};
use super::{Finding, checksum, paths};

/// Most files in a release folder.
pub const MAX_FILES: usize = 10_000;
/// Largest signature or checksum file read.
const MAX_SMALL_FILE: u64 = 1024 * 1024;
/// Largest SBOM read.
const MAX_SBOM: u64 = 64 * 1024 * 1024;
/// Size of the chunks of the single pass.
const CHUNK: usize = 1024 * 1024;

/// What Analyze needs besides the files.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// The project is an Incubator podling.
    pub podling: bool,
    /// The committee's KEYS file; without it signatures are parsed but not verified.
    pub keys: Option<Vec<u8>>,
    pub signature_policy: SignaturePolicy,
    pub archive: ArchiveOptions,
    pub limits: ArchiveLimits,
    /// Globs of binary artifacts: they skip the source-only archive checks.
    pub binary_globs: Vec<String>,
    /// The release's version, which an SBOM's subject may be matched by; unknown to `atr check`.
    pub version: Option<String>,
    /// The signer-identity rule and what is known of the committee; `None`: the rule is off.
    pub signers: Option<SignerCheck>,
}

/// What Analyze found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AnalyzeReport {
    pub files: usize,
    pub findings: Vec<Finding>,
    /// Keys that made a good signature over an artifact.
    pub good_signers: Vec<Fingerprint>,
    /// What happened to each key of the KEYS file.
    #[serde(skip)]
    pub key_notes: Vec<KeyNote>,
}

impl AnalyzeReport {
    /// How many findings have this status.
    pub fn count(&self, status: CheckStatus) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }
}

/// Lists the files under `dir`, refusing names that are not safe release paths and anything that
/// is not a plain file or folder.
fn walk(dir: &Path, findings: &mut Vec<Finding>) -> Vec<(ReleasePath, PathBuf)> {
    let mut files = Vec::new();
    let mut stack = vec![(dir.to_owned(), String::new())];
    while let Some((folder, prefix)) = stack.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) => {
                findings.push(problem(format!("cannot read the folder {prefix}: {error}")));
                continue;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if ReleasePath::parse(&relative).is_err() {
                    findings.push(problem(format!("{relative}/ is not allowed in a release (hidden or unsafe name)")));
                } else {
                    stack.push((entry.path(), relative));
                }
            } else if !kind.is_file() {
                findings.push(problem(format!("{relative} is not a plain file (a link or a device); remove it")));
            } else {
                match ReleasePath::parse(&relative) {
                    Ok(path) => files.push((path, entry.path())),
                    Err(error) => findings.push(problem(format!("{relative} is not allowed in a release: {error}"))),
                }
            }
            if files.len() > MAX_FILES {
                findings.push(problem(format!("more than {MAX_FILES} files: the rest were not checked")));
                return files;
            }
        }
    }
    files.sort();
    files
}

fn problem(message: String) -> Finding {
    Finding::general("paths", CheckStatus::Blocker, message)
}

fn read_small(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::other(format!("larger than {max} bytes")));
    }
    Ok(bytes)
}

/// A `Read` over chunks arriving on a channel.
struct ChannelReader {
    chunks: Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.recv() {
                Ok(chunk) => self.current = chunk,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// The digests of one pass.
struct Digests {
    hashes: Hashes,
    sha256: Option<[u8; 32]>,
}

/// What the pass over an archive is asked for: its kind, the options and limits, and whether to
/// record the members' manifest (the archive has a twin to compare with).
type ArchiveWork<'a> = (ArchiveKind, &'a ArchiveOptions, &'a ArchiveLimits, bool);

/// Reads the artifact once; hashing (when there is a signature or checksum to compare with) runs
/// on one thread, the archive checks on another.
fn single_pass(
    file: &Path,
    path: &ReleasePath,
    hashes: Option<Hashes>,
    want_sha256: bool,
    archive: Option<ArchiveWork<'_>>,
) -> std::io::Result<(Option<Digests>, ArchiveReport)> {
    let mut input = std::fs::File::open(file)?;
    std::thread::scope(|scope| {
        let (hash_tx, hashing) = match hashes {
            Some(hashes) => {
                let (tx, rx): (SyncSender<Bytes>, Receiver<Bytes>) = sync_channel(4);
                let handle = scope.spawn(move || {
                    let mut hashes = hashes;
                    let mut sha256 = want_sha256.then(Sha256::new);
                    for chunk in rx {
                        hashes.update(&chunk);
                        if let Some(h) = sha256.as_mut() {
                            h.update(&chunk);
                        }
                    }
                    Digests { hashes, sha256: sha256.map(|h| h.finalize().into()) }
                });
                (Some(tx), Some(handle))
            }
            None => (None, None),
        };
        let (archive_tx, archiver) = match archive {
            Some((kind, options, limits, manifest)) => {
                let (tx, rx) = sync_channel::<Bytes>(4);
                let handle = scope.spawn(move || {
                    let reader = ChannelReader { chunks: rx, current: Bytes::new() };
                    inspect_archive(path, kind, reader, options, limits, manifest)
                });
                (Some(tx), Some(handle))
            }
            None => (None, None),
        };
        let mut archive_tx = archive_tx;
        let mut read_error = None;
        loop {
            let mut buf = vec![0; CHUNK];
            let n = match read_full(&mut input, &mut buf) {
                Ok(n) => n,
                Err(error) => {
                    read_error = Some(error);
                    break;
                }
            };
            if n == 0 {
                break;
            }
            buf.truncate(n);
            let chunk = Bytes::from(buf);
            if let Some(tx) = &hash_tx
                && tx.send(chunk.clone()).is_err()
            {
                break;
            }
            // The archive reader may stop early (a limit, damage); the hashing goes on.
            if let Some(tx) = &archive_tx
                && tx.send(chunk).is_err()
            {
                archive_tx = None;
                if hash_tx.is_none() {
                    break;
                }
            }
        }
        drop(hash_tx);
        drop(archive_tx);
        let digests = match hashing {
            Some(handle) => Some(handle.join().map_err(|_| std::io::Error::other("the hashing thread panicked"))?),
            None => None,
        };
        let archive = match archiver {
            Some(handle) => handle.join().map_err(|_| std::io::Error::other("the archive thread panicked"))?,
            None => ArchiveReport::default(),
        };
        match read_error {
            Some(error) => Err(error),
            None => Ok((digests, archive)),
        }
    })
}

/// Reads from `input` until `buf` is full or the input ends; how many bytes it holds.
pub(crate) fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn sbom_findings(artifact: &ReleasePath, file: &Path, release: &SbomRelease) -> Vec<Finding> {
    match read_small(file, MAX_SBOM) {
        Ok(bytes) => check_sbom_in(artifact, &bytes, release),
        Err(error) => {
            vec![Finding::new("sbom", artifact, CheckStatus::Blocker, format!("cannot read {artifact}: {error}"))]
        }
    }
}

/// The signature's outcome: verified against the KEYS, or why not.
fn signature_findings(
    report: &mut AnalyzeReport,
    artifact: &ReleasePath,
    signatures: Option<&(ReleasePath, Result<DetachedSignatures, String>)>,
    ring: Option<&KeyRing>,
    hashes: &Hashes,
    options: &AnalyzeOptions,
) {
    match (signatures, ring) {
        (Some((sig, Err(error))), _) => report.findings.push(Finding::new(
            "signature",
            sig,
            CheckStatus::Blocker,
            format!("{sig} cannot be read as an OpenPGP signature: {error}"),
        )),
        (Some((_, Ok(sigs))), Some(ring)) => {
            let verified = verify(artifact, sigs, ring, hashes, &options.signature_policy);
            report.findings.extend(verified.findings);
            if let Some(signers) = &options.signers {
                report.findings.extend(signer::check(artifact, &verified.signer_user_ids, signers));
            }
            report.good_signers.extend(verified.good_signers);
        }
        (Some((sig, Ok(_))), None) => report.findings.push(Finding::new(
            "signature",
            sig,
            CheckStatus::Warning,
            format!("{sig} was not verified: no KEYS file was given"),
        )),
        (None, _) => {}
    }
}

/// The finding of a checksum file (`content`: its bytes, `None` when it is not in the folder).
fn checksum_finding(
    sum: &ReleasePath,
    artifact: &ReleasePath,
    content: Option<std::io::Result<Vec<u8>>>,
    digests: &Digests,
    want_sha256: bool,
) -> Option<Finding> {
    match content? {
        Ok(content) => {
            let actual: Vec<u8> = match digests.sha256 {
                Some(d) if want_sha256 => d.to_vec(),
                _ => digests.hashes.sha512().to_vec(),
            };
            Some(checksum::check(sum, artifact, &content, &actual))
        }
        Err(error) => Some(Finding::new("checksum", sum, CheckStatus::Blocker, format!("cannot read {sum}: {error}"))),
    }
}

/// The parity findings of each group of archives of one tree: each compared with the first.
fn parity_findings(
    twins: &[Vec<ReleasePath>],
    manifests: &std::collections::BTreeMap<ReleasePath, Manifest>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for group in twins {
        let Some((reference, others)) = group.split_first() else { continue };
        for other in others {
            findings.push(parity::compare(reference, manifests.get(reference), other, manifests.get(other)));
        }
    }
    findings
}

/// Runs every check on the files under `dir`. Blocking: call it from a blocking thread.
pub fn analyze_folder(dir: &Path, options: &AnalyzeOptions) -> AnalyzeReport {
    let mut report = AnalyzeReport::default();
    let files = walk(dir, &mut report.findings);
    report.files = files.len();
    let paths: Vec<ReleasePath> = files.iter().map(|(p, _)| p.clone()).collect();
    report.findings.extend(paths::check(&paths, options.podling));
    // Where each release path is on disk: looked up for every artifact, signature and checksum.
    let by_path: std::collections::BTreeMap<&ReleasePath, &PathBuf> = files.iter().map(|(p, f)| (p, f)).collect();
    let on_disk = |path: &ReleasePath| by_path.get(path).map(|f| (*f).clone());

    let ring = options.keys.as_ref().map(|keys| {
        let (ring, notes) = KeyRing::parse(keys, &options.signature_policy);
        report.key_notes = notes;
        ring
    });
    let mut archive_options = options.archive.clone();
    archive_options.podling |= options.podling;

    // The SBOMs are checked last, against the release's other artifacts and their digests.
    let mut sboms = Vec::new();
    // With an SBOM in the release, SHA-256 is computed too: an SBOM may give only that digest.
    let any_sbom = paths.iter().any(atr_core::model::revision::is_sbom);
    let mut release = SbomRelease { version: options.version.clone(), artifacts: Vec::new() };
    let packages = derive_packages(paths.iter()).packages;
    // The archives whose content is checked (binary artifacts skip the source-only archive checks).
    let archive_kind = |artifact: &ReleasePath| {
        let binary = options.binary_globs.iter().any(|g| atr_core::model::check::glob_match(g, artifact.as_str()));
        ArchiveKind::of(artifact.file_name()).filter(|_| !binary)
    };
    // The archives of one tree, compared once each has been read; their passes record a manifest.
    let twins = parity::twins(packages.iter().map(|p| &p.artifact).filter(|a| archive_kind(a).is_some()));
    let with_twin: std::collections::BTreeSet<&ReleasePath> = twins.iter().flatten().collect();
    let mut manifests: std::collections::BTreeMap<ReleasePath, Manifest> = std::collections::BTreeMap::new();

    for package in &packages {
        let artifact = &package.artifact;
        let Some(file) = on_disk(artifact) else { continue };
        let sbom = atr_core::model::revision::is_sbom(artifact);
        if sbom {
            sboms.push((artifact.clone(), file.clone()));
        } else {
            release.artifacts.push(ReleaseArtifact { path: artifact.clone(), sha512: None, sha256: None });
        }
        let archive =
            archive_kind(artifact).map(|k| (k, &archive_options, &options.limits, with_twin.contains(artifact)));
        // Nothing to compare the bytes with and no archive to open: the paths check has said what is missing.
        let verify = package.signature.is_some() || package.checksum.is_some();
        if !verify && archive.is_none() {
            continue;
        }
        // The signatures say which hash algorithms the pass must compute.
        let signatures = package.signature.as_ref().map(|sig| {
            let parsed = on_disk(sig)
                .ok_or_else(|| "missing".to_owned())
                .and_then(|f| read_small(&f, MAX_SMALL_FILE).map_err(|e| e.to_string()))
                .and_then(|bytes| DetachedSignatures::parse(&bytes).map_err(|e| e.to_string()));
            (sig.clone(), parsed)
        });
        // One context per signature's needs (v6 signatures are salted), SHA-512 always.
        let hashes = verify.then(|| match &signatures {
            Some((_, Ok(sigs))) => Hashes::for_signatures(sigs),
            _ => Hashes::new([]),
        });
        let want_sha256 = package.checksum.as_ref().is_some_and(|c| c.file_name().ends_with(".sha256"));
        let (digests, archive_report) = match single_pass(&file, artifact, hashes, want_sha256 || any_sbom, archive) {
            Ok(result) => result,
            Err(error) => {
                report.findings.push(Finding::new(
                    "archive",
                    artifact,
                    CheckStatus::Exception,
                    format!("reading {artifact} failed: {error}"),
                ));
                continue;
            }
        };
        report.findings.extend(archive_report.findings);
        if let Some(manifest) = archive_report.manifest {
            manifests.insert(artifact.clone(), manifest);
        }
        let Some(digests) = digests else { continue };
        if let Some(read) = release.artifacts.last_mut().filter(|a| !sbom && a.path == *artifact) {
            (read.sha512, read.sha256) = (Some(digests.hashes.sha512().to_vec()), digests.sha256.map(|d| d.to_vec()));
        }
        signature_findings(&mut report, artifact, signatures.as_ref(), ring.as_ref(), &digests.hashes, options);
        if let Some(sum) = &package.checksum {
            let content = on_disk(sum).map(|f| read_small(&f, MAX_SMALL_FILE));
            report.findings.extend(checksum_finding(sum, artifact, content, &digests, want_sha256));
        }
    }
    report.findings.extend(parity_findings(&twins, &manifests));
    for (artifact, file) in &sboms {
        report.findings.extend(sbom_findings(artifact, file, &release));
    }
    report.good_signers.sort();
    report.good_signers.dedup();
    report.findings.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.checker.cmp(b.checker)));
    report
}
