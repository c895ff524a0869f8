//! Distribution records: where a release's artifacts went after it was published.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::release::ReleaseKey;
use super::revision::RevisionNumber;
use crate::types::Timestamp;

/// A distribution platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// The foundation's Subversion distribution repository.
    Dist,
    PyPi,
    Npm,
    MavenCentral,
    DockerHub,
    ArtifactHub,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Platform::Dist => "dist",
            Platform::PyPi => "pypi",
            Platform::Npm => "npm",
            Platform::MavenCentral => "maven_central",
            Platform::DockerHub => "docker_hub",
            Platform::ArtifactHub => "artifact_hub",
        })
    }
}

/// Staging or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Staging,
    Production,
}

/// Whether the upload is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DistributionStatus {
    Pending,
    Done,
}

/// One distribution of a release to a platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    pub release: ReleaseKey,
    /// The revision whose files were distributed.
    pub revision: RevisionNumber,
    pub platform: Platform,
    /// The owner or namespace on the platform (`org.apache.httpd`, a PyPI user...).
    pub owner_namespace: String,
    pub package: String,
    pub version: String,
    pub environment: Environment,
    pub status: DistributionStatus,
    pub uploaded_at: Option<Timestamp>,
    pub api_url: Option<String>,
    pub web_url: Option<String>,
}
