//! Search: what the search box finds, as the API answers it.

use atr_core::search as core;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::releases::ReleaseKey;
use crate::text;

/// The query of a search.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// What to find: words of a name, a version (`2.4` finds 2.4.68), a fingerprint, key id or
    /// user id, a CVE id. At most 200 bytes and 8 words; every word must match, each as the
    /// start of a word, in any case; other characters only separate words.
    pub q: String,
    /// Most hits of each kind (10 when absent, at most 50).
    pub limit: Option<u32>,
}

/// What a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SearchKind {
    Project,
    Release,
    Key,
    Cve,
}

impl From<core::SearchKind> for SearchKind {
    fn from(kind: core::SearchKind) -> Self {
        match kind {
            core::SearchKind::Project => Self::Project,
            core::SearchKind::Release => Self::Release,
            core::SearchKind::Key => Self::Key,
            core::SearchKind::Cve => Self::Cve,
        }
    }
}

/// One hit: its kind, what names it (the field of its kind), and a short label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    pub kind: SearchKind,
    /// The project's key, for a project and for a release.
    pub project: Option<String>,
    /// The release, for a release.
    pub release: Option<ReleaseKey>,
    /// The fingerprint, for a signing key.
    pub fingerprint: Option<String>,
    /// The CVE id, for a CVE record.
    pub cve: Option<String>,
    /// A project's name, a release's stage (or phase, before it is public), a key's first user
    /// id, a CVE's title; at most 200 characters.
    pub label: String,
}

impl From<&core::SearchHit> for SearchHit {
    fn from(hit: &core::SearchHit) -> Self {
        let mut answer = Self {
            kind: hit.subject.kind().into(),
            project: None,
            release: None,
            fingerprint: None,
            cve: None,
            label: hit.label.clone(),
        };
        match &hit.subject {
            core::SearchSubject::Project(key) => answer.project = Some(text(key)),
            core::SearchSubject::Release(key) => {
                answer.project = Some(text(&key.project));
                answer.release = Some(key.into());
            }
            core::SearchSubject::Key(fingerprint) => answer.fingerprint = Some(text(fingerprint)),
            core::SearchSubject::Cve(id) => answer.cve = Some(text(id)),
        }
        answer
    }
}
