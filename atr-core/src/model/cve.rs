//! CVE records and their links to releases.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::release::ReleaseKey;
use crate::types::{CveId, Timestamp};

/// Longest CVE title or description accepted, in bytes.
pub const MAX_CVE_TEXT_LEN: usize = 64 * 1024;
/// Most references a CVE record may list.
pub const MAX_CVE_REFERENCES: usize = 100;
/// Longest reference or CVSS vector accepted, in bytes.
pub const MAX_CVE_REFERENCE_LEN: usize = 2048;

/// Why the fields of a CVE record are refused: which field ([`CveFieldError::field`]) and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CveFieldError {
    #[error("cvss.vector: must be 1 to {MAX_CVE_REFERENCE_LEN} bytes")]
    Vector,
    #[error("cvss.score_tenths: must be 0 to 100 (a score of 0.0 to 10.0)")]
    Score,
    #[error("references: at most {MAX_CVE_REFERENCES} entries")]
    TooManyReferences,
    #[error("references: each entry must be 1 to {MAX_CVE_REFERENCE_LEN} bytes")]
    Reference,
    #[error("title: must be 1 to {MAX_CVE_TEXT_LEN} bytes, not blank")]
    Title,
    #[error("description: must be at most {MAX_CVE_TEXT_LEN} bytes")]
    Description,
}

impl CveFieldError {
    /// The field refused, as the record names it (`cvss.score_tenths`).
    pub fn field(self) -> &'static str {
        match self {
            CveFieldError::Vector => "cvss.vector",
            CveFieldError::Score => "cvss.score_tenths",
            CveFieldError::TooManyReferences | CveFieldError::Reference => "references",
            CveFieldError::Title => "title",
            CveFieldError::Description => "description",
        }
    }

    /// Why, without the field's name.
    pub fn reason(self) -> String {
        let text = self.to_string();
        text.strip_prefix(self.field()).and_then(|rest| rest.strip_prefix(": ")).unwrap_or(&text).to_owned()
    }
}

/// Severity as CVE records state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Moderate,
    Important,
    Critical,
}

/// A CVSS score and vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cvss {
    /// The base score times ten (0 to 100), so that 9.8 is exact.
    pub score_tenths: u8,
    /// The vector, such as `CVSS:3.1/AV:N/AC:L/...`.
    pub vector: String,
}

impl Cvss {
    /// A score from 0.0 to 10.0 in tenths; `None` when out of range.
    pub fn new(score_tenths: u8, vector: impl Into<String>) -> Option<Self> {
        (score_tenths <= 100).then(|| Self { score_tenths, vector: vector.into() })
    }
}

/// A CVE record with the releases it affects and those that resolve it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CveRecord {
    pub id: CveId,
    pub title: String,
    pub description: String,
    pub severity: Option<Severity>,
    pub cvss: Option<Cvss>,
    pub references: Vec<String>,
    pub published_at: Option<Timestamp>,
    pub affects: BTreeSet<ReleaseKey>,
    pub resolved_by: BTreeSet<ReleaseKey>,
}

impl CveRecord {
    /// Checks the record's fields against the limits above: a title that is not blank, title and
    /// description of at most [`MAX_CVE_TEXT_LEN`] bytes, a CVSS score of 0.0 to 10.0 with a vector,
    /// and at most [`MAX_CVE_REFERENCES`] references that are not blank, each (like the vector) of
    /// at most [`MAX_CVE_REFERENCE_LEN`] bytes.
    pub fn check_fields(&self) -> Result<(), CveFieldError> {
        let bounded = |text: &str, max: usize| !text.trim().is_empty() && text.len() <= max;
        if let Some(cvss) = &self.cvss {
            if !bounded(&cvss.vector, MAX_CVE_REFERENCE_LEN) {
                return Err(CveFieldError::Vector);
            }
            if cvss.score_tenths > 100 {
                return Err(CveFieldError::Score);
            }
        }
        if self.references.len() > MAX_CVE_REFERENCES {
            return Err(CveFieldError::TooManyReferences);
        }
        if !self.references.iter().all(|r| bounded(r, MAX_CVE_REFERENCE_LEN)) {
            return Err(CveFieldError::Reference);
        }
        if !bounded(&self.title, MAX_CVE_TEXT_LEN) {
            return Err(CveFieldError::Title);
        }
        if self.description.len() > MAX_CVE_TEXT_LEN {
            return Err(CveFieldError::Description);
        }
        Ok(())
    }
}

/// How a CVE relates to a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CveLink {
    Affects,
    Resolves,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> CveRecord {
        CveRecord {
            id: CveId::parse("CVE-2025-12345").unwrap(),
            title: "Path traversal".into(),
            description: "A crafted request reads files outside the document root.".into(),
            severity: Some(Severity::Important),
            cvss: Cvss::new(75, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
            references: vec!["https://demo.apache.org/security.html".into()],
            published_at: None,
            affects: BTreeSet::new(),
            resolved_by: BTreeSet::new(),
        }
    }

    fn refused(change: impl FnOnce(&mut CveRecord)) -> Result<(), CveFieldError> {
        let mut r = record();
        change(&mut r);
        r.check_fields()
    }

    #[test]
    fn fields_within_the_limits_pass() {
        assert_eq!(record().check_fields(), Ok(()));
        assert_eq!(refused(|r| r.cvss = Some(Cvss { score_tenths: 100, vector: "v".into() })), Ok(()));
        assert_eq!(refused(|r| r.references = vec!["r".repeat(MAX_CVE_REFERENCE_LEN); MAX_CVE_REFERENCES]), Ok(()));
        assert_eq!(refused(|r| r.description = "d".repeat(MAX_CVE_TEXT_LEN)), Ok(()));
        assert_eq!(refused(|r| r.description = String::new()), Ok(()));
    }

    #[test]
    fn each_limit_refuses_its_field() {
        assert_eq!(refused(|r| r.title = "  ".into()), Err(CveFieldError::Title));
        assert_eq!(refused(|r| r.title = "t".repeat(MAX_CVE_TEXT_LEN + 1)), Err(CveFieldError::Title));
        assert_eq!(refused(|r| r.description = "d".repeat(MAX_CVE_TEXT_LEN + 1)), Err(CveFieldError::Description));
        let cvss = |score_tenths, vector: &str| Some(Cvss { score_tenths, vector: vector.into() });
        assert_eq!(refused(|r| r.cvss = cvss(101, "v")), Err(CveFieldError::Score));
        assert_eq!(refused(|r| r.cvss = cvss(50, " ")), Err(CveFieldError::Vector));
        let long = "v".repeat(MAX_CVE_REFERENCE_LEN + 1);
        assert_eq!(refused(|r| r.cvss = cvss(50, &long)), Err(CveFieldError::Vector));
        let many = vec!["r".to_owned(); MAX_CVE_REFERENCES + 1];
        assert_eq!(refused(|r| r.references = many), Err(CveFieldError::TooManyReferences));
        assert_eq!(refused(|r| r.references = vec![String::new()]), Err(CveFieldError::Reference));
        assert_eq!(refused(|r| r.references = vec![long.clone()]), Err(CveFieldError::Reference));
        assert_eq!(CveFieldError::Score.field(), "cvss.score_tenths");
        assert_eq!(CveFieldError::Score.reason(), "must be 0 to 100 (a score of 0.0 to 10.0)");
        assert_eq!(CveFieldError::Reference.field(), "references");
        assert!(CveFieldError::Reference.reason().starts_with("each entry"));
    }
}
