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

/// A project's ignore: results matching every selector it gives are ignored (left out of the
/// counts a vote is decided on, and shown apart). A success is never ignored.
///
/// Globs match with [`glob_match`]; a selector left out matches everything. An ignore as stored
/// names at least one selector (see [`CheckIgnore::check`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIgnore {
    /// Its stable id, given when it is stored (the id of the event that records its addition);
    /// 0 before.
    #[serde(default)]
    pub id: u64,
    pub project: ProjectKey,
    /// Matches the release's version.
    #[serde(default)]
    pub version_glob: Option<String>,
    /// Only results of this revision.
    #[serde(default)]
    pub revision: Option<RevisionNumber>,
    /// Matches the checker's name.
    pub checker_glob: Option<String>,
    /// Matches the path of the file checked (`""` for a result about no file).
    pub path_glob: Option<String>,
    /// Matches the archive member (`""` for a result about no member).
    #[serde(default)]
    pub member_glob: Option<String>,
    /// Only results of this status.
    #[serde(default)]
    pub status: Option<CheckStatus>,
    /// Matches the result's message.
    pub message_glob: Option<String>,
    /// Why the result is a false positive.
    pub reason: String,
}

/// Longest glob of an ignore, in bytes.
pub const MAX_IGNORE_GLOB_LEN: usize = 512;
/// Longest reason of an ignore, in bytes.
pub const MAX_IGNORE_REASON_LEN: usize = 1000;
/// Most ignores a project keeps.
pub const MAX_IGNORES: usize = 500;

/// Why an ignore is refused: the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct IgnoreError {
    pub field: &'static str,
    pub reason: String,
}

impl CheckIgnore {
    /// An ignore of `project` for `reason` with no selector yet.
    pub fn new(project: ProjectKey, reason: impl Into<String>) -> Self {
        Self {
            id: 0,
            project,
            version_glob: None,
            revision: None,
            checker_glob: None,
            path_glob: None,
            member_glob: None,
            status: None,
            message_glob: None,
            reason: reason.into(),
        }
    }

    /// The globs by field name, in the order of the fields.
    fn globs(&self) -> [(&'static str, &Option<String>); 5] {
        [
            ("version_glob", &self.version_glob),
            ("checker_glob", &self.checker_glob),
            ("path_glob", &self.path_glob),
            ("member_glob", &self.member_glob),
            ("message_glob", &self.message_glob),
        ]
    }

    /// Checks an ignore before it is stored: a reason of 1 to [`MAX_IGNORE_REASON_LEN`] bytes,
    /// globs of at most [`MAX_IGNORE_GLOB_LEN`] bytes without control characters, at least one
    /// selector (an ignore of everything would silence every check), and never the status
    /// `success` (a success is never ignored). An empty glob matches only an empty text: a path
    /// glob `""` selects the results about no file.
    pub fn check(&self) -> Result<(), IgnoreError> {
        let refuse = |field, reason: String| Err(IgnoreError { field, reason });
        let reason = self.reason.trim();
        if reason.is_empty() || reason.len() > MAX_IGNORE_REASON_LEN {
            return refuse("reason", format!("must be 1 to {MAX_IGNORE_REASON_LEN} bytes"));
        }
        if reason.chars().any(|c| c.is_control() && c != '\n') {
            return refuse("reason", "must not hold control characters".into());
        }
        for (field, glob) in self.globs() {
            if let Some(glob) = glob
                && (glob.len() > MAX_IGNORE_GLOB_LEN || glob.chars().any(char::is_control))
            {
                return refuse(
                    field,
                    format!("must be at most {MAX_IGNORE_GLOB_LEN} bytes, without control characters"),
                );
            }
        }
        if self.status == Some(CheckStatus::Success) {
            return refuse("status", "cannot be success: a success is never ignored".into());
        }
        if self.globs().iter().all(|(_, g)| g.is_none()) && self.revision.is_none() && self.status.is_none() {
            return refuse(
                "ignore",
                "needs at least one selector (a version, revision, checker, path, member, status or message)".into(),
            );
        }
        Ok(())
    }

    /// True if this ignore silences `result`.
    pub fn matches(&self, result: &CheckResult) -> bool {
        if result.status == CheckStatus::Success {
            return false;
        }
        if self.revision.is_some_and(|r| r != result.revision) || self.status.is_some_and(|s| s != result.status) {
            return false;
        }
        let path = result.path.as_ref().map_or("", ReleasePath::as_str);
        let member = result.member.as_deref().unwrap_or("");
        let ok = |glob: &Option<String>, text: &str| glob.as_deref().is_none_or(|g| glob_match(g, text));
        ok(&self.version_glob, result.release.version.as_str())
            && ok(&self.checker_glob, &result.checker)
            && ok(&self.path_glob, path)
            && ok(&self.member_glob, member)
            && ok(&self.message_glob, &result.message)
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
    /// The digest of everything the results depend on (the files' digests, the keys, the policy's
    /// settings, each checker's version): a later run with the same inputs reuses these results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<String>,
    /// The revision whose run's results were reused, when they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reused_from: Option<RevisionNumber>,
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
            checker_glob: Some("license_*".into()),
            path_glob: Some("*-src.zip".into()),
            ..CheckIgnore::new(ProjectKey::parse("p").unwrap(), "test data")
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

    #[test]
    fn every_selector_narrows_an_ignore() {
        let project = ProjectKey::parse("p").unwrap();
        let base = CheckIgnore::new(project.clone(), "known");
        let blocker = result(CheckStatus::Blocker, "a-src.zip");
        let mut member = result(CheckStatus::Warning, "a-src.zip");
        member.member = Some("a/test/data.bin".into());
        let cases: [(CheckIgnore, bool, bool); 8] = [
            (CheckIgnore { version_glob: Some("1".into()), ..base.clone() }, true, true),
            (CheckIgnore { version_glob: Some("2.*".into()), ..base.clone() }, false, false),
            (CheckIgnore { revision: Some(RevisionNumber::FIRST), ..base.clone() }, true, true),
            (CheckIgnore { revision: RevisionNumber::new(2), ..base.clone() }, false, false),
            (CheckIgnore { status: Some(CheckStatus::Warning), ..base.clone() }, false, true),
            (CheckIgnore { member_glob: Some("*/test/*".into()), ..base.clone() }, false, true),
            (CheckIgnore { member_glob: Some(String::new()), ..base.clone() }, true, false),
            (CheckIgnore { message_glob: Some("missing*".into()), ..base.clone() }, true, true),
        ];
        for (ignore, silences_blocker, silences_member) in cases {
            assert_eq!(ignore.matches(&blocker), silences_blocker, "{ignore:?} on {blocker:?}");
            assert_eq!(ignore.matches(&member), silences_member, "{ignore:?} on {member:?}");
        }
    }

    #[test]
    fn an_ignore_is_checked_before_it_is_stored() {
        let project = ProjectKey::parse("p").unwrap();
        let field = |ignore: CheckIgnore| ignore.check().map_err(|e| e.field);
        let base = CheckIgnore { checker_glob: Some("license_*".into()), ..CheckIgnore::new(project.clone(), "why") };
        assert_eq!(field(base.clone()), Ok(()));
        assert_eq!(field(CheckIgnore::new(project.clone(), "why")), Err("ignore"));
        assert_eq!(field(CheckIgnore { reason: "  ".into(), ..base.clone() }), Err("reason"));
        assert_eq!(field(CheckIgnore { reason: "a\u{1b}[2J".into(), ..base.clone() }), Err("reason"));
        assert_eq!(field(CheckIgnore { path_glob: Some("x".repeat(513)), ..base.clone() }), Err("path_glob"));
        assert_eq!(field(CheckIgnore { message_glob: Some("a\tb".into()), ..base.clone() }), Err("message_glob"));
        assert_eq!(field(CheckIgnore { status: Some(CheckStatus::Success), ..base.clone() }), Err("status"));
        let e = CheckIgnore::new(project, "why").check().unwrap_err();
        assert!(e.to_string().contains("at least one selector"), "{e}");
    }
}
