//! Archive integrity, structure and safety; license files and headers; SBOM validation.
//!
//! [`check_archive`] reads a release archive once, as a stream, and runs every check that needs
//! its members on that single pass (domain.md, "Checks", items 3 to 6):
//!
//! * **integrity** (checker `archive`): every member and the compression trailer are read to the
//!   end, so a truncated or corrupt archive is a [`Blocker`](CheckStatus::Blocker) naming the member;
//! * **safety** (checker `archive`): absolute paths, `..` segments, links leaving the archive root and
//!   device files are refused, and the member count, path depth, total and per-member size and the
//!   compression ratio are bounded by [`ArchiveLimits`], checked as bytes arrive. Memory stays bounded
//!   whatever the input and nothing is ever extracted;
//! * **structure** (checker `archive`): one root folder named like the archive without its suffix, and
//!   no `KEYS` file inside;
//! * **license files** (checker `license-files`): exactly one `LICENSE` starting with the Apache License
//!   2.0 text and one UTF-8 `NOTICE` with the ASF copyright line at the top of the root folder, and a
//!   `DISCLAIMER` for podlings;
//! * **license audit** (checker `license-headers`, in `audit`): every file is classified by the
//!   license its first 8 KiB carry (the ASF header, an SPDX tag, or a license text recognised by the
//!   `spdx` crate's detector), as generated, as binary, or as carrying none; files are grouped by
//!   license and each license judged by its category under the foundation's policy
//!   ([`atr_core::model::license`]); source files without any license header are reported too.
//!   Every member is still read to its end;
//! * **parity** (checker `archive-parity`, in [`parity`]): when asked ([`inspect_archive`] with a
//!   manifest), each member's path and the SHA-256 of its content are recorded on the same pass, so that
//!   the archives of one tree (`NAME.tar.gz` and `NAME.zip`) can be compared without reading them again.
//!
//! [`check_sbom`] validates CycloneDX and SPDX JSON documents against their official schemas, which are
//! embedded: nothing is fetched.
//!
//! Tar archives (`.tar.gz`, `.tgz`, `.tar.bz2`, `.tar.xz`) are read straight from the reader. A zip
//! archive keeps its member directory at its end and needs random access, so it is first copied, still
//! compressed, to an anonymous temporary file (no larger than
//! [`ArchiveLimits::max_total_uncompressed`]); a temporary file rather than memory keeps large releases
//! from costing their size in memory. Its members are then decompressed one at a time, and never written.

mod audit;
mod headers;
mod license;
mod names;
pub mod parity;
mod sbom;
mod stream;
mod tree;

use std::collections::BTreeSet;
use std::io::{self, Read};

use atr_core::model::CheckStatus;
use atr_core::types::ReleasePath;

pub use parity::Manifest;
pub use sbom::{MAX_SBOM_SIZE, ReleaseArtifact, SbomRelease, check_sbom, check_sbom_in, sbom_subjects};
use sha2::{Digest, Sha256};
pub use tree::{ArchiveTree, TreeEntry, archive_tree};

use crate::analyze::{Finding, text};
use stream::{LimitHit, Member, MemberKind, Outcome, Visitor};

/// The checker name of integrity, structure and safety findings.
pub const ARCHIVE_CHECKER: &str = "archive";
/// The checker name of license file findings.
pub const LICENSE_FILES_CHECKER: &str = license::CHECKER;
/// The checker name of license header findings.
pub const LICENSE_HEADERS_CHECKER: &str = "license-headers";
/// The checker name of the comparison of the archives of one tree.
pub const PARITY_CHECKER: &str = parity::CHECKER;

/// How many unsafe members are reported before reading stops.
const MAX_UNSAFE: usize = 20;
/// How many names of the archive's top level are remembered for the structure check.
const MAX_ROOTS: usize = 100;
/// Most characters of a member name quoted in a message (the finding's member field has it whole,
/// within [`text::MAX_MEMBER`]).
const SHOWN_NAME: usize = 160;

/// Bounds on what reading one archive may cost. Going over any of them stops reading with a Blocker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Most bytes the members may hold in all (and, for zip, most bytes the archive itself may hold).
    pub max_total_uncompressed: u64,
    /// Most members (files, folders, links, and tar's extra headers).
    pub max_members: u64,
    /// Most uncompressed bytes per compressed byte, over the whole archive, checked as bytes are read
    /// once more than 64 MiB have been read (smaller archives of repetitive text reach high ratios
    /// without harm).
    pub max_ratio: u64,
    /// Most segments in a member's path.
    pub max_depth: usize,
    /// Most bytes in one member.
    pub max_member_size: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        Self {
            max_total_uncompressed: 8 * 1024 * 1024 * 1024,
            max_members: 200_000,
            max_ratio: 200,
            max_depth: 64,
            max_member_size: 4 * 1024 * 1024 * 1024,
        }
    }
}

/// The archive formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArchiveKind {
    TarGz,
    Tgz,
    TarBz2,
    TarXz,
    Zip,
}

impl ArchiveKind {
    const ALL: [Self; 5] = [Self::TarGz, Self::Tgz, Self::TarBz2, Self::TarXz, Self::Zip];

    /// The kind of a file by its name's suffix (ignoring case), if it is an archive read here.
    pub fn of(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        Self::ALL.into_iter().find(|kind| lower.len() > kind.suffix().len() && lower.ends_with(kind.suffix()))
    }

    /// The file name suffix, such as `.tar.gz`.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::TarGz => ".tar.gz",
            Self::Tgz => ".tgz",
            Self::TarBz2 => ".tar.bz2",
            Self::TarXz => ".tar.xz",
            Self::Zip => ".zip",
        }
    }
}

/// What the project's policy asks of its archives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveOptions {
    /// The project is an Incubator podling: a `DISCLAIMER` or `DISCLAIMER-WIP` is required.
    pub podling: bool,
    /// Missing license headers are Blockers rather than a Warning.
    pub license_headers_blocking: bool,
    /// Globs of paths excluded from the header check, matched against the path under the root folder, the
    /// path in the archive, any folder holding it and, for globs without `/`, any single path segment.
    /// `*` matches within a segment, `**` across segments, `?` one character. The archive's own
    /// `.rat-excludes` (next to `LICENSE`) adds its lines, read the same way.
    pub header_excludes: Vec<String>,
}

/// Checks one release archive read once from `reader`; see the module documentation.
///
/// `path` is the archive's path in the release; its file name gives the expected root folder.
/// Every check yields a finding, a [`Success`](CheckStatus::Success) when it passed. When reading
/// stops early (damage, a limit, unsafe members), the structure and license checks are not run and a
/// [`Note`](CheckStatus::Note) says so.
pub fn check_archive(
    path: &ReleasePath,
    kind: ArchiveKind,
    reader: impl Read,
    options: &ArchiveOptions,
    limits: &ArchiveLimits,
) -> Vec<Finding> {
    inspect_archive(path, kind, reader, options, limits, false).findings
}

/// What [`inspect_archive`] found: the findings, and the members' manifest if one was asked for.
#[derive(Debug, Clone, Default)]
pub struct ArchiveReport {
    pub findings: Vec<Finding>,
    /// Every file and link with the SHA-256 of its content, for [`parity::compare`]; it says when it
    /// is incomplete (reading stopped early).
    pub manifest: Option<Manifest>,
}

/// [`check_archive`], and with `manifest` also the members' [`Manifest`], computed on the same pass
/// (each member's content is then hashed to its end with SHA-256).
pub fn inspect_archive(
    path: &ReleasePath,
    kind: ArchiveKind,
    reader: impl Read,
    options: &ArchiveOptions,
    limits: &ArchiveLimits,
    manifest: bool,
) -> ArchiveReport {
    let mut inspector = Inspector::new(path, options, limits);
    if manifest {
        inspector.manifest = Some(Manifest::default());
    }
    let outcome = match kind {
        ArchiveKind::Zip => stream::walk_zip(reader, limits, &mut inspector),
        _ => stream::walk_tar(kind, reader, limits, &mut inspector),
    };
    inspector.finish(kind, outcome)
}

/// A member name as a message quotes it: escaped, and shortened in the middle when long.
fn shown(name: &str) -> String {
    text::shorten(&text::escape(name), SHOWN_NAME)
}

/// A reader that hashes what it passes on.
struct Hashing<'a> {
    inner: &'a mut dyn Read,
    hasher: Sha256,
}

impl Read for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Bytes shown as MiB or GiB.
fn size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    let (unit, name) = if bytes >= 1024 * MIB { (1024 * MIB, "GiB") } else { (MIB, "MiB") };
    let tenths = u128::from(bytes) * 10 / u128::from(unit);
    format!("{}.{} {name}", tenths / 10, tenths % 10)
}

/// The state gathered while the members stream by.
struct Inspector<'a> {
    path: &'a ReleasePath,
    options: &'a ArchiveOptions,
    limits: &'a ArchiveLimits,
    findings: Vec<Finding>,
    unsafe_members: usize,
    root_folders: BTreeSet<String>,
    root_files: BTreeSet<String>,
    more_roots: bool,
    keys: Vec<String>,
    license: license::LicenseFiles,
    /// What the license audit found, file by file.
    audit: audit::Audit,
    /// The first bytes of the file being read, for the audit.
    prefix: Box<[u8; audit::PREFIX]>,
    /// The members and their digests, when asked for.
    manifest: Option<Manifest>,
}

impl Visitor for Inspector<'_> {
    fn member(&mut self, member: &Member, content: &mut dyn Read) -> io::Result<bool> {
        let name = member.name.as_str();
        let segments = match names::segments(name, self.limits.max_depth) {
            Ok(segments) => segments,
            Err(why) => {
                let name = shown(name);
                let message = match why {
                    names::Unsafe::Absolute => format!(
                        "Member {name} has an absolute path, which could overwrite any file where the archive is \
                         unpacked. Member paths must be relative."
                    ),
                    names::Unsafe::Parent => format!(
                        "Member {name} has a \"..\" segment and would be unpacked outside the archive's folder. \
                         Rebuild the archive without it."
                    ),
                    names::Unsafe::TooDeep(depth) => format!(
                        "Member {name} has {depth} path segments, more than the limit of {}. Rebuild the archive \
                         with shallower paths.",
                        self.limits.max_depth
                    ),
                };
                return Ok(self.refuse(&member.name, message));
            }
        };
        if segments.is_empty() {
            return Ok(true);
        }
        let folder = &segments[..segments.len() - 1];
        match &member.kind {
            MemberKind::Special(what) => {
                let name = shown(name);
                let message = format!(
                    "Member {name} is a {what}; special files have no place in a release archive. Rebuild the archive \
                     without it."
                );
                return Ok(self.refuse(&member.name, message));
            }
            MemberKind::Symlink(target) if names::escapes(folder, target) => {
                let (name, target) = (shown(name), shown(target));
                let message = format!(
                    "Member {name} is a symbolic link to {target}, outside the archive. Rebuild the archive without it."
                );
                return Ok(self.refuse(&member.name, message));
            }
            MemberKind::Hardlink(target) if names::escapes(&[], target) => {
                let (name, target) = (shown(name), shown(target));
                let message = format!(
                    "Member {name} is a hard link to {target}, outside the archive. Rebuild the archive without it."
                );
                return Ok(self.refuse(&member.name, message));
            }
            _ => {}
        }
        self.note_root(&segments, &member.kind);
        if let Some(manifest) = &mut self.manifest {
            match &member.kind {
                MemberKind::Symlink(target) => manifest.symlink(segments.join("/"), target),
                MemberKind::Hardlink(target) => {
                    if let Ok(target) = names::segments(target, self.limits.max_depth) {
                        manifest.hardlink(segments.join("/"), &target.join("/"));
                    }
                }
                _ => {}
            }
        }
        if member.kind != MemberKind::File {
            return Ok(true);
        }
        // With a manifest, the whole content goes through SHA-256 as the checks read it.
        if self.manifest.is_none() {
            self.inspect_file(name, &segments, content)?;
            return Ok(true);
        }
        let mut hashing = Hashing { inner: content, hasher: Sha256::new() };
        self.inspect_file(name, &segments, &mut hashing)?;
        stream::drain(&mut hashing)?;
        let digest = hashing.hasher.finalize().into();
        if let Some(manifest) = &mut self.manifest {
            manifest.file(segments.join("/"), digest);
        }
        Ok(true)
    }
}

impl Inspector<'_> {
    /// The checks of one file member's content: KEYS, license files, the license audit.
    fn inspect_file(&mut self, name: &str, segments: &[&str], content: &mut dyn Read) -> io::Result<()> {
        let file_name = segments[segments.len() - 1];
        if file_name == "KEYS" && self.keys.len() < MAX_UNSAFE {
            self.keys.push(name.to_owned());
        }
        if let Some(kind) = license::wanted(segments) {
            let mut kept = Vec::new();
            content.take(license::MAX_KEPT as u64).read_to_end(&mut kept)?;
            self.license.keep(kind, segments, name, kept);
        } else if !audit::is_notice(file_name) {
            // Into one buffer kept for the whole archive, read in large pieces.
            let filled = crate::analyze::folder::read_full(&mut &mut *content, &mut self.prefix[..])?;
            let verdict = audit::classify(&self.prefix[..filled]);
            self.audit.record(verdict, segments, name, headers::is_source(file_name));
        }
        Ok(())
    }
}

impl<'a> Inspector<'a> {
    fn new(path: &'a ReleasePath, options: &'a ArchiveOptions, limits: &'a ArchiveLimits) -> Self {
        Self {
            path,
            options,
            limits,
            findings: Vec::new(),
            unsafe_members: 0,
            root_folders: BTreeSet::new(),
            root_files: BTreeSet::new(),
            more_roots: false,
            keys: Vec::new(),
            license: license::LicenseFiles::default(),
            audit: audit::Audit::default(),
            prefix: Box::new([0; audit::PREFIX]),
            manifest: None,
        }
    }

    fn finding(&self, checker: &'static str, status: CheckStatus, message: impl Into<String>) -> Finding {
        Finding::new(checker, self.path, status, message)
    }

    /// Records an unsafe member; whether to read on.
    fn refuse(&mut self, member: &str, message: String) -> bool {
        self.unsafe_members += 1;
        if self.unsafe_members > MAX_UNSAFE {
            let finding = self.finding(
                ARCHIVE_CHECKER,
                CheckStatus::Blocker,
                format!("More than {MAX_UNSAFE} members are unsafe; reading stopped there."),
            );
            self.findings.push(finding);
            return false;
        }
        let finding = self.finding(ARCHIVE_CHECKER, CheckStatus::Blocker, message).in_member(member);
        self.findings.push(finding);
        true
    }

    fn note_root(&mut self, segments: &[&str], kind: &MemberKind) {
        let first = segments[0];
        let set =
            if segments.len() > 1 || *kind == MemberKind::Dir { &mut self.root_folders } else { &mut self.root_files };
        if !set.contains(first) {
            if self.root_folders.len() + self.root_files.len() >= MAX_ROOTS {
                self.more_roots = true;
            } else if segments.len() > 1 || *kind == MemberKind::Dir {
                self.root_folders.insert(first.to_owned());
            } else {
                self.root_files.insert(first.to_owned());
            }
        }
    }

    fn limit_message(&self, hit: &LimitHit) -> (Option<String>, String) {
        let limits = self.limits;
        match hit {
            LimitHit::Members(count) => (
                None,
                format!(
                    "The archive has more than {} members ({count} read); reading stopped. An archive this large is \
                     refused as possibly hostile.",
                    limits.max_members
                ),
            ),
            LimitHit::TotalSize(bytes) => (
                None,
                format!(
                    "The archive unpacks to more than {} (at least {}); reading stopped. An archive this large is \
                     refused as possibly hostile.",
                    size(limits.max_total_uncompressed),
                    size(*bytes)
                ),
            ),
            LimitHit::Ratio { uncompressed, compressed } => (
                None,
                format!(
                    "The archive expands more than {} times ({} from {} compressed bytes), the mark of a \
                     decompression bomb; reading stopped.",
                    limits.max_ratio,
                    size(*uncompressed),
                    compressed
                ),
            ),
            LimitHit::MemberSize { member, size: bytes } => (
                Some(member.clone()),
                format!(
                    "Member {} holds {} or more, over the limit of {} for one member; reading stopped.",
                    shown(member),
                    size(*bytes),
                    size(limits.max_member_size)
                ),
            ),
            LimitHit::Metadata { member, size: bytes } => (
                member.clone(),
                format!(
                    "A tar header carries {bytes} bytes of extended name data, far more than any real archive needs; \
                     reading stopped."
                ),
            ),
        }
    }

    fn finish(mut self, kind: ArchiveKind, outcome: Outcome) -> ArchiveReport {
        if self.reading(kind, outcome) {
            let finding = self.finding(
                ARCHIVE_CHECKER,
                CheckStatus::Note,
                "The structure, license file and license header checks were not run because the archive could not \
                 be read completely.",
            );
            self.findings.push(finding);
            let mut manifest = self.manifest.take();
            if let Some(manifest) = &mut manifest {
                manifest.stop("reading stopped early; see its archive findings");
            }
            return ArchiveReport { findings: self.findings, manifest };
        }
        let manifest = self.manifest.take();
        ArchiveReport { findings: self.content(), manifest }
    }

    /// The integrity and limit findings; whether reading stopped early.
    fn reading(&mut self, kind: ArchiveKind, outcome: Outcome) -> bool {
        match outcome {
            Outcome::Complete { members, uncompressed, trailing_data } => {
                let message = format!(
                    "The archive opens and reads to the end: {members} members, {} uncompressed.",
                    size(uncompressed)
                );
                let finding = self.finding(ARCHIVE_CHECKER, CheckStatus::Success, message);
                self.findings.push(finding);
                if trailing_data {
                    let finding = self.finding(
                        ARCHIVE_CHECKER,
                        CheckStatus::Warning,
                        "There is data after the end of the tar archive, which some tools unpack and others ignore. \
                         Rebuild the archive.",
                    );
                    self.findings.push(finding);
                }
                false
            }
            Outcome::Stopped => true,
            Outcome::Limit(hit) => {
                let (member, message) = self.limit_message(&hit);
                let mut finding = self.finding(ARCHIVE_CHECKER, CheckStatus::Blocker, message);
                if let Some(member) = member {
                    finding = finding.in_member(member);
                }
                self.findings.push(finding);
                true
            }
            Outcome::Refused(message) => {
                let finding = self.finding(ARCHIVE_CHECKER, CheckStatus::Blocker, message);
                self.findings.push(finding);
                true
            }
            Outcome::Damaged { member, after, error } => {
                // The reader's own words may quote raw header bytes: one escaped, bounded line of them.
                let error = text::detail(&error);
                let (message, member) = match (member, after) {
                    (Some(member), _) => (
                        format!(
                            "The archive is truncated or damaged: member {} cannot be read to its end ({error}). \
                             Build and upload the archive again.",
                            shown(&member)
                        ),
                        Some(member),
                    ),
                    (None, Some(after)) => (
                        format!(
                            "The archive is truncated or damaged after member {} ({error}). Build and upload the \
                             archive again.",
                            shown(&after)
                        ),
                        Some(after),
                    ),
                    (None, None) => (
                        format!(
                            "The file is not a readable {} archive: it is truncated or damaged ({error}). Build and \
                             upload the archive again.",
                            kind.suffix()
                        ),
                        None,
                    ),
                };
                let mut finding = self.finding(ARCHIVE_CHECKER, CheckStatus::Blocker, message);
                if let Some(member) = member {
                    finding = finding.in_member(member);
                }
                self.findings.push(finding);
                true
            }
            Outcome::Internal(message) => {
                let finding = self.finding(ARCHIVE_CHECKER, CheckStatus::Exception, message);
                self.findings.push(finding);
                true
            }
        }
    }

    /// The findings about what the archive holds, once it was read completely.
    fn content(mut self) -> Vec<Finding> {
        if self.unsafe_members == 0 {
            let finding = self.finding(
                ARCHIVE_CHECKER,
                CheckStatus::Success,
                "Every member stays inside the archive: no absolute path, \"..\" segment, escaping link or special \
                 file, and the archive is within the size, member count and compression ratio limits.",
            );
            self.findings.push(finding);
        }
        for member in std::mem::take(&mut self.keys) {
            let finding = self
                .finding(
                    ARCHIVE_CHECKER,
                    CheckStatus::Warning,
                    format!(
                        "The archive contains {}, but a KEYS file inside an archive is never trusted: signatures \
                         are checked against the project's published KEYS file. Remove it from the archive.",
                        shown(&member)
                    ),
                )
                .in_member(member);
            self.findings.push(finding);
        }
        let root = self.structure();
        let folder: Vec<String> = root.iter().cloned().collect();
        let place = match &root {
            Some(root) => format!("in the root folder {root}/"),
            None => "at the top of the archive".to_owned(),
        };
        let license = self.license.judge(self.path, &folder, &place, self.options.podling);
        self.findings.extend(license);
        let audit = self.audit_findings(&folder);
        self.findings.extend(audit);
        self.findings
    }

    /// The structure finding; the single root folder, if there is one.
    fn structure(&mut self) -> Option<String> {
        let file_name = self.path.file_name();
        let suffix = ArchiveKind::of(file_name).map_or(0, |kind| kind.suffix().len());
        let expected = &file_name[..file_name.len() - suffix];
        let accepted = |root: &str| {
            root == expected
                || ["-src", "-source", "-sources", "-source-release"]
                    .iter()
                    .any(|suffix| expected.strip_suffix(suffix) == Some(root))
        };
        let (status, message, root) = match (self.root_folders.len(), self.root_files.len(), self.more_roots) {
            (0, 0, false) => (CheckStatus::Blocker, "The archive is empty.".to_owned(), None),
            (1, 0, false) => {
                let root = self.root_folders.iter().next().cloned().unwrap_or_default();
                if accepted(&root) {
                    (
                        CheckStatus::Success,
                        format!("Every member is under the root folder {root}/, named like the archive."),
                        Some(root),
                    )
                } else {
                    (
                        CheckStatus::Warning,
                        format!(
                            "Every member is under the root folder {root}/, but the archive {file_name} should unpack \
                             into {expected}/. Name the root folder like the archive without its suffix."
                        ),
                        Some(root),
                    )
                }
            }
            _ => {
                let mut top: Vec<String> = self.root_folders.iter().map(|f| format!("{f}/")).collect();
                top.extend(self.root_files.iter().cloned());
                let listed = if self.more_roots {
                    let first: Vec<&str> = top.iter().take(text::LISTED).map(String::as_str).collect();
                    format!("more than {} entries: {} and more", top.len(), first.join(", "))
                } else {
                    format!("{}: {}", text::count(top.len(), "entry", "entries"), text::list(&top))
                };
                (
                    CheckStatus::Blocker,
                    format!(
                        "The archive should unpack into the single folder {expected}/, but its top level holds \
                         {listed}. Put every file under {expected}/."
                    ),
                    None,
                )
            }
        };
        let finding = self.finding(ARCHIVE_CHECKER, status, message);
        self.findings.push(finding);
        root
    }

    /// The license audit's findings, with the policy's globs and the archive's `.rat-excludes`.
    fn audit_findings(&self, folder: &[String]) -> Vec<Finding> {
        let mut patterns = self.options.header_excludes.clone();
        patterns.extend(self.license.rat_excludes(folder));
        if !folder.is_empty() {
            patterns.extend(self.license.rat_excludes(&[]));
        }
        patterns.truncate(self.options.header_excludes.len() + 1024);
        let root = folder.first().map(|root| format!("{root}/"));
        let excluded = |normalized: &str| {
            let relative = root.as_deref().and_then(|p| normalized.strip_prefix(p)).unwrap_or(normalized);
            headers::excluded(&patterns, relative, normalized)
        };
        self.audit.findings(self.path, &excluded, self.options.license_headers_blocking)
    }
}
