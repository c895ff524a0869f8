//! Committees: PMCs and podling PPMCs with their people.

use atr_core::model;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{text, texts};

/// A project management committee, or a podling's PPMC, with its people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Committee {
    /// The committee's key, such as `httpd`.
    pub key: String,
    /// Display name, such as "Apache HTTP Server".
    pub name: String,
    /// Members of the (P)PMC, whose votes bind; sorted.
    pub pmc_members: Vec<String>,
    /// Committers of the committee's projects; sorted.
    pub committers: Vec<String>,
    /// People allowed to manage releases without being PMC members; sorted.
    pub release_managers: Vec<String>,
    /// True for an incubating project's PPMC.
    pub podling: bool,
    /// The committee overseeing this one (the Incubator for a podling).
    pub parent: Option<String>,
}

impl From<&model::Committee> for Committee {
    fn from(c: &model::Committee) -> Self {
        Self {
            key: text(&c.key),
            name: c.name.clone(),
            pmc_members: texts(&c.pmc_members),
            committers: texts(&c.committers),
            release_managers: texts(&c.release_managers),
            podling: c.podling,
            parent: c.parent.as_ref().map(text),
        }
    }
}

/// A page of a keyset listing: `?after=<the last key of the previous page>&limit=<n>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Start after this key (or CVE id).
    pub after: Option<String>,
    /// Most entries answered (100 when absent).
    pub limit: Option<u32>,
}
