//! Check results of the Analyze action, and the ignores that silence known false positives.

use serde::{Deserialize, Serialize};

use super::release::ReleaseKey;
use super::revision::RevisionNumber;
use crate::types::{ProjectKey, ReleasePath, Timestamp};

/// The status of one check result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Must be fixed before a vote under a strict policy.
    Blocker,
    Warning,
    Note,
    Success,
    /// The checker itself broke.
    Exception,
}

/// One result of one checker on one file (or archive member) of one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub release: ReleaseKey,
    pub revision: RevisionNumber,
    pub checker: String,
    pub checker_version: String,
    /// The file checked, if the result is about one.
    pub path: Option<ReleasePath>,
    /// The member of an archive, as the archive names it.
    pub member: Option<String>,
    pub status: CheckStatus,
    pub message: String,
    pub at: Timestamp,
}

/// A project's ignore: results matching every glob given are ignored. A success is never ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIgnore {
    pub project: ProjectKey,
    pub checker_glob: Option<String>,
    pub path_glob: Option<String>,
    pub message_glob: Option<String>,
    /// Why the result is a false positive.
    pub reason: String,
}

impl CheckIgnore {
    /// True if this ignore silences `result`.
    pub fn matches(&self, result: &CheckResult) -> bool {
        if result.status == CheckStatus::Success {
            return false;
        }
        let path = result.path.as_ref().map_or("", ReleasePath::as_str);
        let ok = |glob: &Option<String>, text: &str| glob.as_deref().is_none_or(|g| glob_match(g, text));
        ok(&self.checker_glob, &result.checker) && ok(&self.path_glob, path) && ok(&self.message_glob, &result.message)
    }
}

/// Matches `*` (any run, including `/`) and `?` (one character); everything else literally.
pub fn glob_match(glob: &str, text: &str) -> bool {
    let (g, t): (Vec<char>, Vec<char>) = (glob.chars().collect(), text.chars().collect());
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == t[ti]) {
            gi += 1;
            ti += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some((gi, ti));
            gi += 1;
        } else if let Some((sg, st)) = star {
            gi = sg + 1;
            ti = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|c| *c == '*')
}

/// How many results of each status a check run found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckCounts {
    pub blockers: u32,
    pub warnings: u32,
    pub notes: u32,
    pub successes: u32,
    pub exceptions: u32,
}

impl CheckCounts {
    /// Counts the results by status.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CheckResult>) -> Self {
        let mut counts = CheckCounts::default();
        for result in results {
            let slot = match result.status {
                CheckStatus::Blocker => &mut counts.blockers,
                CheckStatus::Warning => &mut counts.warnings,
                CheckStatus::Note => &mut counts.notes,
                CheckStatus::Success => &mut counts.successes,
                CheckStatus::Exception => &mut counts.exceptions,
            };
            *slot = slot.saturating_add(1);
        }
        counts
    }
}

/// The record that the checks of a revision ran to completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRun {
    pub release: ReleaseKey,
    pub revision: RevisionNumber,
    pub checker_version: String,
    pub completed_at: Timestamp,
    pub counts: CheckCounts,
    /// The keys that made good signatures on the revision's files.
    pub signers: std::collections::BTreeSet<crate::types::Fingerprint>,
}

/// What a vote needs to know about a revision's checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSummary {
    /// Check tasks of the revision still queued or running.
    pub pending: u32,
    /// True once the revision's checks ran to completion (a recorded [`CheckRun`]).
    pub completed: bool,
    /// Blockers not silenced by an ignore.
    pub blockers: u32,
    pub warnings: u32,
    pub exceptions: u32,
}

impl CheckSummary {
    /// Counts `results`, leaving out those an ignore silences.
    pub fn of(results: &[CheckResult], ignores: &[CheckIgnore], pending: u32, completed: bool) -> Self {
        let counts = CheckCounts::of(results.iter().filter(|r| !ignores.iter().any(|i| i.matches(r))));
        CheckSummary {
            pending,
            completed,
            blockers: counts.blockers,
            warnings: counts.warnings,
            exceptions: counts.exceptions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Version;

    #[test]
    fn globs() {
        assert!(glob_match("*.tar.gz", "a/b.tar.gz"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*", ""));
        assert!(glob_match("*header*", "missing license header in x.c"));
        assert!(!glob_match("*.zip", "a.tar.gz"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
    }

    fn result(status: CheckStatus, path: &str) -> CheckResult {
        CheckResult {
            release: ReleaseKey::new(ProjectKey::parse("p").unwrap(), None, Version::parse("1").unwrap()),
            revision: RevisionNumber::FIRST,
            checker: "license_headers".into(),
            checker_version: "1".into(),
            path: Some(ReleasePath::parse(path).unwrap()),
            member: None,
            status,
            message: "missing header".into(),
            at: Timestamp::from_unix(0),
        }
    }

    #[test]
    fn ignores_match_but_never_a_success() {
        let ignore = CheckIgnore {
            project: ProjectKey::parse("p").unwrap(),
            checker_glob: Some("license_*".into()),
            path_glob: Some("*-src.zip".into()),
            message_glob: None,
            reason: "test data".into(),
        };
        assert!(ignore.matches(&result(CheckStatus::Blocker, "a-src.zip")));
        assert!(!ignore.matches(&result(CheckStatus::Blocker, "a-bin.zip")));
        assert!(!ignore.matches(&result(CheckStatus::Success, "a-src.zip")));
        let results = [
            result(CheckStatus::Blocker, "a-src.zip"),
            result(CheckStatus::Blocker, "b.tar.gz"),
            result(CheckStatus::Warning, "b.tar.gz"),
        ];
        let s = CheckSummary::of(&results, &[ignore], 2, true);
        assert_eq!(s, CheckSummary { pending: 2, completed: true, blockers: 1, warnings: 1, exceptions: 0 });
    }
}
