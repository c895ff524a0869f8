//! Analyze: the automatic checks of domain.md, run on every new revision.

pub mod archive;
pub mod checksum;
pub mod folder;
pub mod paths;
pub mod signature;
pub mod signer;
pub mod source;
pub mod task;
pub mod text;

use atr_core::model::CheckStatus;
use atr_core::types::ReleasePath;

/// Every checker's name and version, the version recorded with each of its results
/// (`CheckResult::checker_version`). A checker's version goes up when a release could get other
/// results from it (a new finding, a changed verdict or limit), so results of an older version
/// can be told apart. Names and what each checker does: `docs/checks.md`.
pub const CHECKERS: &[(&str, &str)] = &[
    ("paths", "2"),
    (signature::CHECKER, "2"),
    ("checksum", "2"),
    (archive::ARCHIVE_CHECKER, "2"),
    (archive::PARITY_CHECKER, "1"),
    (archive::LICENSE_FILES_CHECKER, "1"),
    (archive::LICENSE_HEADERS_CHECKER, "2"),
    (atr_core::model::revision::SBOM_CHECKER, "1"),
    (source::CHECKER, "1"),
];

/// The version of the checker named `checker`, from [`CHECKERS`]; `"0"` for a name not in it.
pub fn checker_version(checker: &str) -> &'static str {
    CHECKERS.iter().find(|(name, _)| *name == checker).map_or("0", |(_, version)| version)
}

/// One result of a check: which checker, on which file and archive member, how bad, and why.
///
/// Made only by [`Finding::new`] and [`Finding::general`], which escape control characters and
/// bound the message to [`text::MAX_MESSAGE`] characters (and the member, by
/// [`Finding::in_member`], to [`text::MAX_MEMBER`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The checker's name, such as `signature` or `archive`.
    pub checker: &'static str,
    /// The release file the finding is about, if any.
    pub path: Option<ReleasePath>,
    /// The member inside an archive, if any.
    pub member: Option<String>,
    pub status: CheckStatus,
    /// A sentence a release manager understands: what is wrong and, where it helps, what to do.
    pub message: String,
}

impl Finding {
    /// A finding about a release file.
    pub fn new(checker: &'static str, path: &ReleasePath, status: CheckStatus, message: impl Into<String>) -> Self {
        Self { path: Some(path.clone()), ..Self::general(checker, status, message) }
    }

    /// A finding about the release as a whole, or a name that is not a release path.
    pub fn general(checker: &'static str, status: CheckStatus, message: impl Into<String>) -> Self {
        let message = text::bound(&text::escape(&message.into()), text::MAX_MESSAGE);
        Self { checker, path: None, member: None, status, message }
    }

    /// The same finding, about a member of the archive.
    #[must_use]
    pub fn in_member(mut self, member: impl Into<String>) -> Self {
        self.member = Some(text::shorten(&text::escape(&member.into()), text::MAX_MEMBER));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_escape_and_bound_their_text() {
        let path = ReleasePath::parse("a.tar.gz").unwrap();
        let f = Finding::new(
            "archive",
            &path,
            CheckStatus::Blocker,
            format!("bad\nheader \x00\x1b[31m{}", "x".repeat(2000)),
        );
        assert!(f.message.starts_with("bad\\nheader \\0\\x1b[31m"), "{}", f.message);
        assert_eq!(f.message.chars().count(), text::MAX_MESSAGE);
        assert!(f.message.ends_with('…'));
        assert!(!f.message.chars().any(char::is_control));
        let f = f.in_member(format!("root/{}\n", "d/".repeat(1000)));
        let member = f.member.unwrap();
        assert_eq!(member.chars().count(), text::MAX_MEMBER);
        assert!(member.starts_with("root/d/") && member.ends_with("d/\\n"), "{member}");
    }

    #[test]
    fn every_checker_has_a_version() {
        let mut names: Vec<&str> = CHECKERS.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CHECKERS.len(), "a checker is listed twice");
        for name in [
            "paths",
            "signature",
            "checksum",
            "archive",
            "archive-parity",
            "license-files",
            "license-headers",
            atr_core::model::revision::SBOM_CHECKER,
        ] {
            assert_ne!(checker_version(name), "0", "{name} has no version");
        }
        assert_eq!(checker_version("no-such-checker"), "0");
    }
}
