//! Analyze: the automatic checks of domain.md, run on every new revision.

pub mod archive;
pub mod checksum;
pub mod folder;
pub mod paths;
pub mod signature;
pub mod signer;
pub mod task;

use atr_core::model::CheckStatus;
use atr_core::types::ReleasePath;

/// One result of a check: which checker, on which file and archive member, how bad, and why.
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
        Self { checker, path: Some(path.clone()), member: None, status, message: message.into() }
    }

    /// The same finding, about a member of the archive.
    #[must_use]
    pub fn in_member(mut self, member: impl Into<String>) -> Self {
        self.member = Some(member.into());
        self
    }
}
