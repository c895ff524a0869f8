//! CVE records and their links to releases.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::release::ReleaseKey;
use crate::types::{CveId, Timestamp};

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

/// How a CVE relates to a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CveLink {
    Affects,
    Resolves,
}
