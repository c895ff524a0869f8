//! A project's check ignores: results reviewed and found to be false positives.

use atr_core::model;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::releases::CheckStatus;
use crate::text;

/// A check ignore of a project: it silences the results that match every selector it gives
/// (a selector left out, or `null`, matches everything). Globs match `*` (any run, `/`
/// included) and `?` (one character); an empty glob matches only an empty text. A success is
/// never ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckIgnore {
    /// Its stable id: the id of the event that recorded its addition.
    pub id: u64,
    pub project: String,
    /// Matches the release's version.
    pub version_glob: Option<String>,
    /// Only results of this revision.
    pub revision: Option<u32>,
    /// Matches the checker's name, such as `license_headers`.
    pub checker_glob: Option<String>,
    /// Matches the path of the file checked (`""` for a result about no file).
    pub path_glob: Option<String>,
    /// Matches the archive member (`""` for a result about no member).
    pub member_glob: Option<String>,
    /// Only results of this status (never `success`).
    pub status: Option<CheckStatus>,
    /// Matches the result's message.
    pub message_glob: Option<String>,
    /// Why the results are false positives.
    pub reason: String,
}

impl From<&model::CheckIgnore> for CheckIgnore {
    fn from(i: &model::CheckIgnore) -> Self {
        Self {
            id: i.id,
            project: text(&i.project),
            version_glob: i.version_glob.clone(),
            revision: i.revision.map(model::RevisionNumber::get),
            checker_glob: i.checker_glob.clone(),
            path_glob: i.path_glob.clone(),
            member_glob: i.member_glob.clone(),
            status: i.status.map(Into::into),
            message_glob: i.message_glob.clone(),
            reason: i.reason.clone(),
        }
    }
}

/// `POST /api/projects/{project}/ignores`: at least one selector, and the reason (1 to 1000
/// bytes). Globs are at most 512 bytes, without control characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIgnore {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_glob: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub revision: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checker_glob: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_glob: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_glob: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CheckStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_glob: Option<String>,
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}
