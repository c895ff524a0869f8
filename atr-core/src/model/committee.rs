//! Committees: PMCs and podling PPMCs.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::types::{CommitteeKey, UserId};

/// A project management committee, or a podling's PPMC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committee {
    pub key: CommitteeKey,
    /// Display name, such as "Apache HTTP Server".
    pub name: String,
    /// Members of the (P)PMC: their votes bind.
    pub pmc_members: BTreeSet<UserId>,
    /// Committers of the committee's projects.
    pub committers: BTreeSet<UserId>,
    /// People allowed to manage releases without being PMC members.
    pub release_managers: BTreeSet<UserId>,
    /// True for an incubating project's PPMC.
    pub podling: bool,
    /// The committee overseeing this one: the Incubator for a podling.
    pub parent: Option<CommitteeKey>,
}

impl Committee {
    /// A committee with no people yet.
    pub fn new(key: CommitteeKey, name: impl Into<String>) -> Self {
        Self {
            key,
            name: name.into(),
            pmc_members: BTreeSet::new(),
            committers: BTreeSet::new(),
            release_managers: BTreeSet::new(),
            podling: false,
            parent: None,
        }
    }
}
