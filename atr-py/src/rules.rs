//! The core's pure rules for Python: names of roles and activities, validation of the names a
//! principal carries, and the one permission decision, [`atr_core::auth::authorize`].
//!
//! A Python principal describes a person by their committees (as an OAuth session does); it is
//! mapped here to the core's person and committee values and handed to the same function the
//! HTTP service calls. Nothing here decides a permission itself.

#![expect(clippy::needless_pass_by_value, reason = "pyo3 hands the functions their arguments as owned values")]

use std::collections::BTreeSet;

use atr_core::auth::{self, Activity, Principal, Role, Target};
use atr_core::model::{Committee, Person};
use atr_core::types::{CommitteeKey, UserId};
use pyo3::prelude::*;

use crate::clock;
use crate::errors::{Failure, Kind};

/// A principal as Python describes it.
#[derive(Debug, Clone, FromPyObject)]
pub(crate) struct PyPrincipal {
    #[pyo3(attribute("uid"))]
    pub(crate) uid: Option<String>,
    #[pyo3(attribute("is_admin"))]
    pub(crate) is_admin: bool,
    #[pyo3(attribute("is_asf_member"))]
    pub(crate) is_asf_member: bool,
    #[pyo3(attribute("member_of"))]
    pub(crate) member_of: BTreeSet<String>,
    #[pyo3(attribute("participant_of"))]
    pub(crate) participant_of: BTreeSet<String>,
}

pub(crate) fn user_id(value: &str) -> Result<UserId, Failure> {
    UserId::parse(value).map_err(|e| Failure::invalid(format!("user id {value:?}: {e}")))
}

pub(crate) fn committee_key(value: &str) -> Result<CommitteeKey, Failure> {
    CommitteeKey::parse(value).map_err(|e| Failure::invalid(format!("committee {value:?}: {e}")))
}

fn activity(name: &str) -> Result<Activity, Failure> {
    Activity::parse(name).ok_or_else(|| Failure::invalid(format!("{name:?} is not an activity")))
}

/// The names of the roles, in the order of the permission table.
#[pyfunction]
pub(crate) fn role_names() -> Vec<&'static str> {
    Role::ALL.into_iter().map(Role::as_str).collect()
}

/// The names of the activities, in the order of the permission table.
#[pyfunction]
pub(crate) fn activity_names() -> Vec<&'static str> {
    Activity::ALL.into_iter().map(Activity::as_str).collect()
}

/// What is wrong with the names a principal carries (a user id and committee keys as the core
/// accepts them), or `None`.
#[pyfunction]
#[pyo3(signature = (uid, committees))]
pub(crate) fn principal_problem(uid: Option<&str>, committees: Vec<String>) -> Option<String> {
    let uid = uid.map(user_id).transpose().err();
    uid.or_else(|| committees.iter().find_map(|c| committee_key(c).err())).map(|f| f.message)
}

/// The core's principal and committee for a question about `committee`.
fn question(
    principal: &PyPrincipal,
    committee: &str,
    release_managers: &BTreeSet<String>,
) -> Result<(Principal, Committee), Failure> {
    let key = committee_key(committee)?;
    let mut target = Committee::new(key, committee);
    for manager in release_managers {
        target.release_managers.insert(user_id(manager)?);
    }
    let Some(uid) = &principal.uid else {
        return Ok((Principal::Anonymous, target));
    };
    let id = user_id(uid)?;
    if principal.member_of.contains(committee) {
        target.pmc_members.insert(id.clone());
    }
    if principal.participant_of.contains(committee) {
        target.committers.insert(id.clone());
    }
    // Python principals carry no consent record: only the platform holds those.
    let person = Person { id, asf_member: principal.is_asf_member, admin: principal.is_admin, consent: None };
    Ok((Principal::Person(person), target))
}

/// May the principal do the activity on the committee? `Ok(())`, or the core's refusal.
fn decide(
    principal: &PyPrincipal,
    activity_name: &str,
    committee: &str,
    release_managers: &BTreeSet<String>,
) -> Result<(), Failure> {
    let activity = activity(activity_name)?;
    let (principal, committee) = question(principal, committee, release_managers)?;
    let owner = match &principal {
        Principal::Person(person) => Some(&person.id),
        _ => None,
    };
    // Managing one's own key is asked about one's own key for the committee.
    let target = if activity == Activity::ManageOwnKey {
        Target::Key { owner, committee: &committee, project: None }
    } else {
        Target::Committee(&committee)
    };
    auth::authorize(&principal, activity, &target, clock::now())?;
    Ok(())
}

/// Raises `Forbidden` (or `NotAuthenticated` for what needs someone signed in) unless the core
/// allows it.
#[pyfunction]
#[pyo3(signature = (principal, activity, committee, release_managers))]
pub(crate) fn authorize(
    py: Python<'_>,
    principal: PyPrincipal,
    activity: &str,
    committee: &str,
    release_managers: BTreeSet<String>,
) -> PyResult<()> {
    decide(&principal, activity, committee, &release_managers).map_err(|f| f.into_pyerr(py))
}

/// True if the core allows it; bad input still raises.
#[pyfunction]
#[pyo3(signature = (principal, activity, committee, release_managers))]
pub(crate) fn can(
    py: Python<'_>,
    principal: PyPrincipal,
    activity: &str,
    committee: &str,
    release_managers: BTreeSet<String>,
) -> PyResult<bool> {
    match decide(&principal, activity, committee, &release_managers) {
        Ok(()) => Ok(true),
        Err(f) if matches!(f.kind, Kind::Forbidden | Kind::NotAuthenticated) => Ok(false),
        Err(f) => Err(f.into_pyerr(py)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pmc(of: &str) -> PyPrincipal {
        PyPrincipal {
            uid: Some("alice".into()),
            is_admin: false,
            is_asf_member: false,
            member_of: BTreeSet::from([of.to_owned()]),
            participant_of: BTreeSet::from([of.to_owned()]),
        }
    }

    #[test]
    fn membership_of_the_named_committee_only() {
        let none = BTreeSet::new();
        assert_eq!(decide(&pmc("httpd"), "binding_vote", "httpd", &none), Ok(()));
        let other = decide(&pmc("httpd"), "binding_vote", "tomcat", &none).unwrap_err();
        assert_eq!(other.kind, Kind::Forbidden);
        let bad = decide(&pmc("httpd"), "fly", "httpd", &none).unwrap_err();
        assert_eq!(bad.kind, Kind::InvalidInput);
    }
}
