//! Revisions: complete, immutable snapshots of a release's files.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::release::{Phase, ReleaseKey};
use crate::types::{ReleasePath, Sha3_256Digest, Sha512Digest, Timestamp, UserId};

/// A revision number: 1 for the first, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RevisionNumber(u32);

impl RevisionNumber {
    /// The first revision.
    pub const FIRST: RevisionNumber = RevisionNumber(1);

    /// Wraps a number; `None` for 0.
    pub fn new(n: u32) -> Option<Self> {
        (n > 0).then_some(Self(n))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The revision after this one, or `None` on overflow.
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }

    /// The revision that follows `latest` (the first if there is none).
    pub fn after(latest: Option<RevisionNumber>) -> Option<Self> {
        latest.map_or(Some(Self::FIRST), Self::next)
    }
}

impl fmt::Display for RevisionNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:05}", self.0)
    }
}

/// One file of a revision, as its manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: ReleasePath,
    pub size: u64,
    pub sha512: Sha512Digest,
    pub sha3_256: Sha3_256Digest,
}

/// A revision of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub release: ReleaseKey,
    pub number: RevisionNumber,
    pub parent: Option<RevisionNumber>,
    /// The phase the release was in when the revision was made (draft or preview).
    pub phase: Phase,
    pub created_at: Timestamp,
    pub created_by: UserId,
    pub description: Option<String>,
    /// The manifest: every file with size and digests, sorted by path.
    pub files: Vec<FileEntry>,
}

/// Signature suffixes, most common first.
pub const SIGNATURE_SUFFIXES: [&str; 2] = [".asc", ".sig"];
/// Accepted checksum suffixes, preferred first.
pub const CHECKSUM_SUFFIXES: [&str; 2] = [".sha512", ".sha256"];
/// Checksum suffixes that are refused (`.md5`, `.sha1`) or warned about (`.sha`).
pub const WEAK_CHECKSUM_SUFFIXES: [&str; 3] = [".md5", ".sha1", ".sha"];

/// Suffixes of SBOM files (CycloneDX and SPDX JSON): files a release lists as its software bill
/// of materials, validated by the Analyze checks. Compared case-sensitively.
pub const SBOM_SUFFIXES: [&str; 2] = [".cdx.json", ".spdx.json"];
/// The checker name of the results that validate an SBOM file.
pub const SBOM_CHECKER: &str = "sbom";

/// True if `path` names an SBOM file (see [`SBOM_SUFFIXES`]).
pub fn is_sbom(path: &ReleasePath) -> bool {
    SBOM_SUFFIXES.iter().any(|suffix| path.file_name().ends_with(suffix))
}

/// An artifact with its signature and checksum files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub artifact: ReleasePath,
    pub signature: Option<ReleasePath>,
    /// The preferred checksum present (`.sha512` over `.sha256`).
    pub checksum: Option<ReleasePath>,
    /// Other checksum files of the artifact (a second accepted one, or weak ones).
    pub other_checksums: Vec<ReleasePath>,
}

/// A revision's files grouped into packages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageListing {
    /// One per artifact, sorted by path.
    pub packages: Vec<Package>,
    /// Signatures and checksums whose artifact is missing.
    pub orphans: Vec<ReleasePath>,
}

fn metadata_suffix(path: &ReleasePath) -> Option<&'static str> {
    SIGNATURE_SUFFIXES
        .into_iter()
        .chain(CHECKSUM_SUFFIXES)
        .chain(WEAK_CHECKSUM_SUFFIXES)
        .find(|suffix| path.strip_suffix(suffix).is_some())
}

/// Groups a file listing into file/signature/checksum triples. A file is a signature or a checksum
/// when its name ends in one of the suffixes above *and* what is left is a file of the listing;
/// otherwise a signature or checksum file is an orphan, and any other file is an artifact.
pub fn derive_packages<'a>(paths: impl IntoIterator<Item = &'a ReleasePath>) -> PackageListing {
    let all: BTreeSet<&ReleasePath> = paths.into_iter().collect();
    let mut packages: BTreeMap<&ReleasePath, Package> = BTreeMap::new();
    let mut attached: BTreeMap<&ReleasePath, Vec<(&'static str, &ReleasePath)>> = BTreeMap::new();
    let mut orphans = Vec::new();
    for path in &all {
        match metadata_suffix(path) {
            Some(suffix) => match path.strip_suffix(suffix).and_then(|artifact| all.get(&artifact)) {
                Some(artifact) if metadata_suffix(artifact).is_none() => {
                    attached.entry(artifact).or_default().push((suffix, path));
                }
                _ => orphans.push((*path).clone()),
            },
            None => {
                packages.insert(
                    path,
                    Package { artifact: (*path).clone(), signature: None, checksum: None, other_checksums: vec![] },
                );
            }
        }
    }
    for (artifact, files) in attached {
        let Some(package) = packages.get_mut(artifact) else { continue };
        for (suffix, path) in files {
            if SIGNATURE_SUFFIXES.contains(&suffix) && package.signature.is_none() {
                package.signature = Some(path.clone());
            } else if suffix == CHECKSUM_SUFFIXES[0] || (suffix == CHECKSUM_SUFFIXES[1] && package.checksum.is_none()) {
                if let Some(previous) = package.checksum.replace(path.clone()) {
                    package.other_checksums.push(previous);
                }
            } else {
                package.other_checksums.push(path.clone());
            }
        }
    }
    PackageListing { packages: packages.into_values().collect(), orphans }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(names: &[&str]) -> Vec<ReleasePath> {
        names.iter().map(|n| ReleasePath::parse(n).unwrap()).collect()
    }

    #[test]
    fn groups_triples() {
        let files = paths(&[
            "httpd-2.4.68.tar.gz",
            "httpd-2.4.68.tar.gz.asc",
            "httpd-2.4.68.tar.gz.sha256",
            "httpd-2.4.68.tar.gz.sha512",
            "httpd-2.4.68.tar.bz2",
            "httpd-2.4.68.tar.bz2.md5",
            "lost.zip.asc",
            "README.txt",
        ]);
        let listing = derive_packages(&files);
        assert_eq!(listing.orphans, paths(&["lost.zip.asc"]));
        let names: Vec<_> = listing.packages.iter().map(|p| p.artifact.as_str()).collect();
        assert_eq!(names, ["README.txt", "httpd-2.4.68.tar.bz2", "httpd-2.4.68.tar.gz"]);
        let gz = &listing.packages[2];
        assert_eq!(gz.signature.as_ref().unwrap().as_str(), "httpd-2.4.68.tar.gz.asc");
        assert_eq!(gz.checksum.as_ref().unwrap().as_str(), "httpd-2.4.68.tar.gz.sha512");
        assert_eq!(gz.other_checksums, paths(&["httpd-2.4.68.tar.gz.sha256"]));
        let bz2 = &listing.packages[1];
        assert_eq!((bz2.signature.as_ref(), bz2.checksum.as_ref()), (None, None));
        assert_eq!(bz2.other_checksums, paths(&["httpd-2.4.68.tar.bz2.md5"]));
    }

    #[test]
    fn signature_of_a_signature_is_an_orphan() {
        let listing = derive_packages(&paths(&["a.asc", "a.asc.asc"]));
        assert!(listing.packages.is_empty());
        assert_eq!(listing.orphans.len(), 2);
    }

    #[test]
    fn sbom_files_are_told_by_their_suffix() {
        for name in ["httpd.cdx.json", "sbom/httpd-2.4.68.spdx.json"] {
            assert!(is_sbom(&ReleasePath::parse(name).unwrap()), "{name}");
        }
        for name in ["httpd.json", "httpd.cdx.json.asc", "httpd.CDX.JSON", "cdx.json/notes.txt"] {
            assert!(!is_sbom(&ReleasePath::parse(name).unwrap()), "{name}");
        }
    }

    #[test]
    fn revision_numbers() {
        assert_eq!(RevisionNumber::new(0), None);
        assert_eq!(RevisionNumber::after(None), Some(RevisionNumber::FIRST));
        assert_eq!(RevisionNumber::after(Some(RevisionNumber::FIRST)).unwrap().get(), 2);
        assert_eq!(RevisionNumber::new(u32::MAX).unwrap().next(), None);
        assert_eq!(RevisionNumber::new(7).unwrap().to_string(), "00007");
    }
}
