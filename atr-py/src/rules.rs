//! The core's pure rules for Python: names of roles and activities, validation of the names a
//! principal carries, and the one permission decision, [`atr_core::auth::authorize`].
//!
//! A Python principal describes a person by their committees (as an OAuth session does), and
//! may carry the grant of the personal access token it acts with; it is mapped here to the
//! core's principal (a person, or a token with its owner) and committee values and handed to the
//! same function the HTTP service calls. Nothing here decides a permission itself.

#![expect(clippy::needless_pass_by_value, reason = "pyo3 hands the functions their arguments as owned values")]

use std::collections::BTreeSet;

use atr_core::auth::{self, Activity, MachineToken, Principal, Role, Target};
use atr_core::model::{Committee, Person};
use atr_core::types::{CommitteeKey, ProjectKey, Timestamp, UserId};
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
    /// The grant of the token the principal acts with (`atr.TokenGrant`), if any.
    #[pyo3(attribute("token"))]
    pub(crate) token: Option<PyTokenGrant>,
}

/// A token's grant as Python describes it (`atr.TokenGrant`): never its secret.
#[derive(Debug, Clone, FromPyObject)]
pub(crate) struct PyTokenGrant {
    #[pyo3(attribute("id"))]
    pub(crate) id: String,
    #[pyo3(attribute("projects"))]
    projects: BTreeSet<String>,
    #[pyo3(attribute("activities"))]
    activities: BTreeSet<String>,
    #[pyo3(attribute("created_at"), from_py_with = unix_seconds)]
    created_at: Timestamp,
    #[pyo3(attribute("expires_at"), from_py_with = unix_seconds)]
    expires_at: Timestamp,
}

/// An aware `datetime` as whole Unix seconds.
fn unix_seconds(value: &Bound<'_, PyAny>) -> PyResult<Timestamp> {
    let seconds: f64 = value.call_method0("timestamp")?.extract()?;
    // Finite, and far within what an i64 of seconds holds (a datetime ends at year 9999).
    if !seconds.is_finite() || seconds.abs() > 9.0e15 {
        return Err(pyo3::exceptions::PyValueError::new_err("a token's times must be finite Unix seconds"));
    }
    #[expect(clippy::cast_possible_truncation, reason = "finite and bounded above, floored to whole seconds")]
    let whole = seconds.floor() as i64;
    Ok(Timestamp::from_unix(whole))
}

impl PyTokenGrant {
    /// The core's grant of `owner`'s token, refused as the core refuses a grant at creation.
    fn grant(&self, owner: &UserId) -> Result<MachineToken, Failure> {
        let projects = self
            .projects
            .iter()
            .map(|p| ProjectKey::parse(p).map_err(|e| Failure::invalid(format!("token project {p:?}: {e}"))))
            .collect::<Result<BTreeSet<_>, _>>()?;
        let activities = self.activities.iter().map(|a| activity(a)).collect::<Result<BTreeSet<_>, _>>()?;
        MachineToken::new(self.id.clone(), owner.clone(), projects, activities, self.created_at, self.expires_at)
            .map_err(|e| Failure::invalid(format!("token {:?}: {e}", self.id)))
    }
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
        if principal.token.is_some() {
            return Err(Failure::invalid("an anonymous principal carries no token"));
        }
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
    let principal = match &principal.token {
        Some(token) => Principal::Token { token: token.grant(&person.id)?, owner: person },
        None => Principal::Person(person),
    };
    Ok((principal, target))
}

/// May the principal do the activity on the committee (or on its project `project`, which is
/// what a token is scoped to)? `Ok(())`, or the core's refusal.
fn decide(
    principal: &PyPrincipal,
    activity_name: &str,
    committee: &str,
    project: Option<&str>,
    release_managers: &BTreeSet<String>,
) -> Result<(), Failure> {
    let activity = activity(activity_name)?;
    let project = project
        .map(|p| ProjectKey::parse(p).map_err(|e| Failure::invalid(format!("project {p:?}: {e}"))))
        .transpose()?;
    let (principal, committee) = question(principal, committee, release_managers)?;
    let owner = match &principal {
        Principal::Person(person) | Principal::Token { owner: person, .. } => Some(&person.id),
        Principal::Anonymous => None,
    };
    // Managing one's own key is asked about one's own key for the committee.
    let target = match (activity, &project) {
        (Activity::ManageOwnKey, project) => Target::Key { owner, committee: &committee, project: project.as_ref() },
        (_, Some(project)) => Target::Project { project, committee: &committee },
        (_, None) => Target::Committee(&committee),
    };
    auth::authorize(&principal, activity, &target, clock::now())?;
    Ok(())
}

/// Raises `Forbidden` (or `NotAuthenticated` for what needs someone signed in) unless the core
/// allows it.
#[pyfunction]
#[pyo3(signature = (principal, activity, committee, project, release_managers))]
pub(crate) fn authorize(
    py: Python<'_>,
    principal: PyPrincipal,
    activity: &str,
    committee: &str,
    project: Option<&str>,
    release_managers: BTreeSet<String>,
) -> PyResult<()> {
    decide(&principal, activity, committee, project, &release_managers).map_err(|f| f.into_pyerr(py))
}

/// True if the core allows it; bad input still raises.
#[pyfunction]
#[pyo3(signature = (principal, activity, committee, project, release_managers))]
pub(crate) fn can(
    py: Python<'_>,
    principal: PyPrincipal,
    activity: &str,
    committee: &str,
    project: Option<&str>,
    release_managers: BTreeSet<String>,
) -> PyResult<bool> {
    match decide(&principal, activity, committee, project, &release_managers) {
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
            token: None,
        }
    }

    fn token(projects: &[&str], activities: &[&str]) -> PyTokenGrant {
        let now = clock::now();
        PyTokenGrant {
            id: "0123456789abcdef01234567".into(),
            projects: projects.iter().map(|p| (*p).to_owned()).collect(),
            activities: activities.iter().map(|a| (*a).to_owned()).collect(),
            created_at: now,
            expires_at: now.plus_seconds(3600),
        }
    }

    #[test]
    fn membership_of_the_named_committee_only() {
        let none = BTreeSet::new();
        assert_eq!(decide(&pmc("httpd"), "binding_vote", "httpd", None, &none), Ok(()));
        let other = decide(&pmc("httpd"), "binding_vote", "tomcat", None, &none).unwrap_err();
        assert_eq!(other.kind, Kind::Forbidden);
        let bad = decide(&pmc("httpd"), "fly", "httpd", None, &none).unwrap_err();
        assert_eq!(bad.kind, Kind::InvalidInput);
    }

    #[test]
    fn a_token_acts_on_its_projects_and_activities_only() {
        let none = BTreeSet::new();
        let held = PyPrincipal { token: Some(token(&["httpd"], &["manage_release"])), ..pmc("httpd") };
        assert_eq!(decide(&held, "manage_release", "httpd", Some("httpd"), &none), Ok(()));
        let reason = |r: Result<(), Failure>| r.unwrap_err().details.unwrap()["reason"].clone();
        assert_eq!(reason(decide(&held, "manage_release", "httpd", None, &none)), "token_project");
        assert_eq!(reason(decide(&held, "manage_release", "httpd", Some("mod-ssl"), &none)), "token_project");
        assert_eq!(reason(decide(&held, "perform_actions", "httpd", Some("httpd"), &none)), "token_activity");
        assert_eq!(reason(decide(&held, "binding_vote", "httpd", Some("httpd"), &none)), "token_activity");
        let bad = PyPrincipal { token: Some(token(&["httpd"], &["manage_accounts"])), ..pmc("httpd") };
        assert_eq!(decide(&bad, "manage_release", "httpd", Some("httpd"), &none).unwrap_err().kind, Kind::InvalidInput);
    }
}
