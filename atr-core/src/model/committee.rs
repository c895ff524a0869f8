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

/// A role held through a committee: one of its three sets of people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitteeRole {
    /// A member of the (P)PMC.
    PmcMember,
    /// A committer.
    Committer,
    /// A release manager who need not be a PMC member.
    ReleaseManager,
}

impl CommitteeRole {
    /// `pmc_member`, `committer` or `release_manager`.
    pub fn as_str(self) -> &'static str {
        match self {
            CommitteeRole::PmcMember => "pmc_member",
            CommitteeRole::Committer => "committer",
            CommitteeRole::ReleaseManager => "release_manager",
        }
    }
}

/// Whether a role is given or taken away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleAction {
    Add,
    Remove,
}

/// One person's role added to or removed from a committee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    pub user: UserId,
    pub role: CommitteeRole,
    pub action: RoleAction,
}

impl Committee {
    /// The set of people holding `role`.
    pub fn people(&self, role: CommitteeRole) -> &BTreeSet<UserId> {
        match role {
            CommitteeRole::PmcMember => &self.pmc_members,
            CommitteeRole::Committer => &self.committers,
            CommitteeRole::ReleaseManager => &self.release_managers,
        }
    }

    fn people_mut(&mut self, role: CommitteeRole) -> &mut BTreeSet<UserId> {
        match role {
            CommitteeRole::PmcMember => &mut self.pmc_members,
            CommitteeRole::Committer => &mut self.committers,
            CommitteeRole::ReleaseManager => &mut self.release_managers,
        }
    }

    /// Applies the change; true if the committee changed (adding a role held, or removing one
    /// not held, changes nothing). The other sets are left alone.
    pub fn apply(&mut self, change: &RoleChange) -> bool {
        let people = self.people_mut(change.role);
        match change.action {
            RoleAction::Add => people.insert(change.user.clone()),
            RoleAction::Remove => people.remove(&change.user),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[test]
    fn a_role_change_touches_one_set_and_says_whether_it_changed() {
        let mut c = Committee::new(CommitteeKey::parse("httpd").unwrap(), "Apache HTTP Server");
        c.committers.insert(uid("dev"));
        let grant = RoleChange { user: uid("erin"), role: CommitteeRole::PmcMember, action: RoleAction::Add };
        assert!(c.apply(&grant));
        assert!(!c.apply(&grant), "granting a role held changes nothing");
        assert_eq!(c.people(CommitteeRole::PmcMember), &BTreeSet::from([uid("erin")]));
        assert_eq!(c.committers, BTreeSet::from([uid("dev")]));
        let revoke = RoleChange { action: RoleAction::Remove, ..grant };
        assert!(c.apply(&revoke));
        assert!(!c.apply(&revoke), "revoking a role not held changes nothing");
        assert!(c.pmc_members.is_empty());
    }
}
