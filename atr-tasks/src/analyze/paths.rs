//! The paths check: what files a release may hold, and what each artifact needs beside it.

use atr_core::model::revision::is_sbom;
use atr_core::model::{CheckStatus, derive_packages};
use atr_core::types::ReleasePath;

use super::Finding;

const CHECKER: &str = "paths";

/// Names of distributable artifacts: these need a signature and a checksum.
const ARTIFACT_SUFFIXES: &[&str] = &[
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tar.xz",
    ".zip",
    ".jar",
    ".war",
    ".ear",
    ".whl",
    ".gem",
    ".nupkg",
    ".deb",
    ".rpm",
    ".dmg",
    ".msi",
    ".exe",
    ".pom",
    ".apk",
    ".crate",
    ".egg",
    ".tar",
    ".gz",
    ".bz2",
    ".xz",
    ".zst",
    ".7z",
    ".tar.zst",
    ".aar",
    ".nar",
    ".rar",
    ".pkg",
    ".appimage",
    ".snap",
];

/// Top-level documents a release commonly carries unsigned.
const DOCUMENT_PREFIXES: &[&str] =
    &["README", "RELEASE-NOTES", "RELEASE_NOTES", "CHANGES", "CHANGELOG", "LICENSE", "NOTICE"];

/// `name` ends with `suffix`, ignoring ASCII case.
fn ends_with_ci(name: &str, suffix: &str) -> bool {
    name.len() >= suffix.len()
        && name.is_char_boundary(name.len() - suffix.len())
        && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

fn is_artifact(path: &ReleasePath) -> bool {
    let name = path.file_name().to_ascii_lowercase();
    ARTIFACT_SUFFIXES.iter().any(|s| name.ends_with(s))
}

fn is_document(path: &ReleasePath) -> bool {
    let name = path.file_name().to_ascii_uppercase();
    DOCUMENT_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Checks a release's file listing. (Dotfiles and other unsafe names never get this far:
/// `ReleasePath` refuses them, and the folder walk reports them.)
pub fn check(paths: &[ReleasePath], podling: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    let blocker = |path: &ReleasePath, message: String| Finding::new(CHECKER, path, CheckStatus::Blocker, message);
    for path in paths {
        if path.file_name() == "KEYS" {
            findings.push(blocker(
                path,
                "a KEYS file does not belong in a release; keys are published by the platform from the committee's keys"
                    .into(),
            ));
        }
    }
    let listing = derive_packages(paths.iter());
    for orphan in &listing.orphans {
        findings.push(blocker(orphan, format!("{orphan} has no artifact: the file it signs or sums is missing")));
    }
    for package in &listing.packages {
        let artifact = &package.artifact;
        let has_metadata =
            package.signature.is_some() || package.checksum.is_some() || !package.other_checksums.is_empty();
        for weak in &package.other_checksums {
            let name = weak.file_name();
            if ends_with_ci(name, ".md5") || ends_with_ci(name, ".sha1") {
                findings.push(blocker(
                    weak,
                    format!("{weak}: MD5 and SHA-1 checksums are not allowed; publish a .sha512 instead"),
                ));
            } else if ends_with_ci(name, ".sha") {
                findings.push(Finding::new(
                    CHECKER,
                    weak,
                    CheckStatus::Warning,
                    format!("{weak}: the .sha suffix does not say which algorithm; prefer .sha512"),
                ));
            }
        }
        if is_sbom(artifact) || (is_document(artifact) && !has_metadata) || artifact.file_name() == "KEYS" {
            continue;
        }
        if !is_artifact(artifact) && !has_metadata {
            findings.push(Finding::new(
                CHECKER,
                artifact,
                CheckStatus::Warning,
                format!("{artifact} is not a known kind of artifact or document; check that it belongs in the release"),
            ));
            continue;
        }
        if package.signature.is_none() {
            findings.push(blocker(artifact, format!("{artifact} has no signature; upload {artifact}.asc")));
        }
        if package.checksum.is_none() {
            findings.push(blocker(artifact, format!("{artifact} has no checksum; upload {artifact}.sha512")));
        }
        if podling && !artifact.file_name().contains("incubating") {
            findings.push(blocker(
                artifact,
                format!("{artifact}: artifacts of an incubating project carry \"incubating\" in their name"),
            ));
        }
        let named_right = !podling || artifact.file_name().contains("incubating");
        if package.signature.is_some() && package.checksum.is_some() && named_right {
            findings.push(Finding::new(
                CHECKER,
                artifact,
                CheckStatus::Success,
                format!("{artifact} has its signature and checksum"),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_names(names: &[&str], podling: bool) -> Vec<(String, CheckStatus, String)> {
        let paths: Vec<ReleasePath> = names.iter().map(|n| ReleasePath::parse(n).unwrap()).collect();
        check(&paths, podling).into_iter().map(|f| (f.path.unwrap().to_string(), f.status, f.message)).collect()
    }

    fn blockers(found: &[(String, CheckStatus, String)]) -> Vec<&str> {
        found.iter().filter(|f| f.1 == CheckStatus::Blocker).map(|f| f.0.as_str()).collect()
    }

    #[test]
    fn a_complete_release_passes() {
        let found = check_names(
            &["a-1.0.tar.gz", "a-1.0.tar.gz.asc", "a-1.0.tar.gz.sha512", "README.txt", "a.cdx.json"],
            false,
        );
        assert!(blockers(&found).is_empty(), "{found:?}");
        assert!(found.iter().any(|f| f.1 == CheckStatus::Success));
        assert!(!found.iter().any(|f| f.1 == CheckStatus::Warning), "{found:?}");
    }

    #[test]
    fn missing_and_forbidden_files_block() {
        let found = check_names(
            &["a.tar.gz", "b.zip", "b.zip.asc", "c.jar.asc", "KEYS", "b.zip.md5", "b.zip.sha1", "b.zip.sha"],
            false,
        );
        let b = blockers(&found);
        for expected in ["a.tar.gz", "b.zip", "c.jar.asc", "KEYS", "b.zip.md5", "b.zip.sha1"] {
            assert!(b.contains(&expected), "{expected} not blocked: {found:?}");
        }
        assert!(found.iter().any(|f| f.0 == "b.zip.sha" && f.1 == CheckStatus::Warning));
        assert!(found.iter().any(|f| f.0 == "a.tar.gz" && f.2.contains("no signature")));
        assert!(found.iter().any(|f| f.0 == "b.zip" && f.2.contains("no checksum")));
    }

    #[test]
    fn podling_artifacts_say_incubating_and_unknown_files_warn() {
        let found = check_names(&["w-1.0.tar.gz", "w-1.0.tar.gz.asc", "w-1.0.tar.gz.sha512", "notes.bin"], true);
        assert!(found.iter().any(|f| f.0 == "w-1.0.tar.gz" && f.2.contains("incubating")), "{found:?}");
        assert!(found.iter().any(|f| f.0 == "notes.bin" && f.1 == CheckStatus::Warning));
        let ok = check_names(
            &["w-1.0-incubating.tar.gz", "w-1.0-incubating.tar.gz.asc", "w-1.0-incubating.tar.gz.sha512"],
            true,
        );
        assert!(blockers(&ok).is_empty(), "{ok:?}");
    }
}
