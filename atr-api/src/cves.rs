//! CVE records and their links to releases.

use atr_core::model;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::releases::ReleaseKey;
use crate::text;

/// Severity as CVE records state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Moderate,
    Important,
    Critical,
}

impl From<model::Severity> for Severity {
    fn from(severity: model::Severity) -> Self {
        match severity {
            model::Severity::Low => Self::Low,
            model::Severity::Moderate => Self::Moderate,
            model::Severity::Important => Self::Important,
            model::Severity::Critical => Self::Critical,
        }
    }
}

/// A CVSS score and vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cvss {
    /// The base score times ten (0 to 100), so that 9.8 is exact.
    pub score_tenths: u8,
    /// The vector, such as `CVSS:3.1/AV:N/AC:L/...`.
    pub vector: String,
}

impl From<&model::Cvss> for Cvss {
    fn from(c: &model::Cvss) -> Self {
        Self { score_tenths: c.score_tenths, vector: c.vector.clone() }
    }
}

/// A CVE record with the releases it affects and those that resolve it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CveRecord {
    /// Such as `CVE-2026-1234`.
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Option<Severity>,
    pub cvss: Option<Cvss>,
    pub references: Vec<String>,
    /// Unix seconds.
    pub published_at: Option<i64>,
    pub affects: Vec<ReleaseKey>,
    pub resolved_by: Vec<ReleaseKey>,
}

impl From<&model::CveRecord> for CveRecord {
    fn from(r: &model::CveRecord) -> Self {
        Self {
            id: text(&r.id),
            title: r.title.clone(),
            description: r.description.clone(),
            severity: r.severity.map(Severity::from),
            cvss: r.cvss.as_ref().map(Cvss::from),
            references: r.references.clone(),
            published_at: r.published_at.map(atr_core::types::Timestamp::unix),
            affects: r.affects.iter().map(ReleaseKey::from).collect(),
            resolved_by: r.resolved_by.iter().map(ReleaseKey::from).collect(),
        }
    }
}

/// How a CVE relates to a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CveLink {
    /// The CVE affects the release.
    Affects,
    /// The release resolves the CVE.
    Resolves,
}

impl From<model::CveLink> for CveLink {
    fn from(link: model::CveLink) -> Self {
        match link {
            model::CveLink::Affects => Self::Affects,
            model::CveLink::Resolves => Self::Resolves,
        }
    }
}

/// `PUT /api/projects/{project}/cves/{id}`: the fields of a CVE record; its id is in the path and
/// its links are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CveFields {
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss: Option<Cvss>,
    /// At most 100 links, each 1 to 2048 bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at: Option<i64>,
}

/// `POST .../cves`: links a recorded CVE to the release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCveLink {
    /// The CVE id.
    pub id: String,
    pub link: CveLink,
}

/// `GET .../cves`: the CVEs that affect the release or that it resolves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReleaseCvesQuery {
    /// Which links to follow.
    #[param(required = true)]
    pub link: Option<CveLink>,
    /// The sub-product; absent for the main product.
    pub product: Option<String>,
}

impl From<Severity> for model::Severity {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Low => Self::Low,
            Severity::Moderate => Self::Moderate,
            Severity::Important => Self::Important,
            Severity::Critical => Self::Critical,
        }
    }
}

impl From<CveLink> for model::CveLink {
    fn from(link: CveLink) -> Self {
        match link {
            CveLink::Affects => Self::Affects,
            CveLink::Resolves => Self::Resolves,
        }
    }
}

impl CveFields {
    /// The record these fields make, with no links yet; the core checks them against its limits.
    pub fn into_record(self, id: atr_core::types::CveId) -> model::CveRecord {
        model::CveRecord {
            id,
            title: self.title,
            description: self.description,
            severity: self.severity.map(model::Severity::from),
            cvss: self.cvss.map(|c| model::Cvss { score_tenths: c.score_tenths, vector: c.vector }),
            references: self.references,
            published_at: self.published_at.map(atr_core::types::Timestamp::from_unix),
            affects: std::collections::BTreeSet::new(),
            resolved_by: std::collections::BTreeSet::new(),
        }
    }
}
