//! The permission table, cell by cell, and the rules around it.

use std::collections::BTreeSet;

use super::*;
use crate::model::Consent;

const T0: Timestamp = Timestamp::from_unix(1_750_000_000);

/// domain.md's tables (the release activities, then the platform's own), kept as text in
/// `roles.table` so that a change to [`Role::grants`] has to be a change there too; the Python
/// bindings' tests read the same file. Columns: PMC member, release manager, committer, visitor,
/// ASF member, admin. `consent` is a grant that needs an active consent record.
const TABLE: &str = include_str!("roles.table");

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn committee(key: &str) -> Committee {
    Committee::new(crate::types::CommitteeKey::parse(key).unwrap(), key)
}

fn consent(user: &str) -> Consent {
    Consent { user: uid(user), name: "A Person".into(), email: "a@example.org".into(), given_at: T0, revoked_at: None }
}

/// A person holding exactly `role` on the `httpd` committee (and, as everyone, visitor).
fn holder(role: Role, httpd: &mut Committee) -> Person {
    let id = uid(role.as_str().replace('_', "-").as_str());
    let mut person = Person { id: id.clone(), asf_member: false, admin: false, consent: None };
    match role {
        Role::PmcMember => {
            httpd.pmc_members.insert(id);
        }
        Role::ReleaseManager => {
            httpd.release_managers.insert(id);
        }
        Role::Committer => {
            httpd.committers.insert(id);
        }
        Role::Visitor => person.consent = Some(consent(role.as_str().replace('_', "-").as_str())),
        Role::AsfMember => person.asf_member = true,
        Role::Admin => person.admin = true,
    }
    person
}

fn expected_table() -> Vec<(Activity, Vec<bool>)> {
    TABLE
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut cells = line.split('|').map(str::trim);
            let activity = Activity::parse(cells.next().unwrap()).unwrap();
            let row: Vec<bool> = cells.map(|c| c == "yes" || c == "consent").collect();
            assert_eq!(row.len(), 6, "{line}");
            (activity, row)
        })
        .collect()
}

#[test]
fn every_cell_of_the_permission_table() {
    let project = ProjectKey::parse("httpd").unwrap();
    let mut httpd = committee("httpd");
    let people: Vec<(Role, Person)> = Role::ALL.into_iter().map(|r| (r, holder(r, &mut httpd))).collect();
    let table = expected_table();
    assert_eq!(table.len(), Activity::ALL.len());
    let mut cells = 0;
    for (activity, row) in &table {
        for ((role, person), expected) in people.iter().zip(row) {
            // Own-key management is on the person's own key; everything else on the project.
            let target = if *activity == Activity::ManageOwnKey {
                Target::Key { owner: Some(&person.id), committee: &httpd, project: Some(&project) }
            } else {
                Target::Project { project: &project, committee: &httpd }
            };
            let got = authorize(&Principal::Person(person.clone()), *activity, &target, T0);
            assert_eq!(got.is_ok(), *expected, "{role} / {activity}: {got:?}");
            assert_eq!(role.grants(*activity), *expected, "grants: {role} / {activity}");
            cells += 1;
        }
    }
    assert_eq!(cells, 6 * Activity::ALL.len());
}

/// The cells marked `consent` grant nothing without an active consent record.
#[test]
fn consent_cells_need_consent() {
    let project = ProjectKey::parse("httpd").unwrap();
    let httpd = committee("httpd");
    let target = Target::Project { project: &project, committee: &httpd };
    let visitor = Person { id: uid("visitor"), asf_member: false, admin: false, consent: None };
    let mut consent_cells = 0;
    for line in TABLE.lines().filter(|l| !l.starts_with('#') && l.contains("consent")) {
        let activity = Activity::parse(line.split('|').next().unwrap().trim()).unwrap();
        let denied = authorize(&Principal::Person(visitor.clone()), activity, &target, T0).unwrap_err();
        assert_eq!(denied.reason, DenyReason::NoConsent, "{activity}");
        consent_cells += 1;
    }
    assert_eq!(consent_cells, 1);
}

/// A committee as a target: its people hold their per-project roles on it, and no token is
/// scoped to it.
#[test]
fn a_committee_target_carries_its_people() {
    let mut httpd = committee("httpd");
    let pmc = holder(Role::PmcMember, &mut httpd);
    let committer = holder(Role::Committer, &mut httpd);
    let target = Target::Committee(&httpd);
    assert_eq!(target.to_string(), "committee httpd");
    assert!(authorize(&Principal::Person(pmc.clone()), Activity::BindingVote, &target, T0).is_ok());
    let denied = authorize(&Principal::Person(committer), Activity::BindingVote, &target, T0).unwrap_err();
    assert_eq!(denied.reason, DenyReason::NeedsRole(vec![Role::PmcMember]));
    let other = committee("tomcat");
    assert!(authorize(&Principal::Person(pmc), Activity::BindingVote, &Target::Committee(&other), T0).is_err());
    httpd.release_managers.insert(uid("rm"));
    let rm = Person { id: uid("rm"), asf_member: false, admin: false, consent: None };
    let by_token = Principal::Token { owner: rm, token: token(&[Activity::ManageRelease], 1).unwrap() };
    let denied = authorize(&by_token, Activity::ManageRelease, &Target::Committee(&httpd), T0).unwrap_err();
    assert_eq!(denied.reason, DenyReason::TokenProject);
}

#[test]
fn per_project_roles_do_not_leak_to_other_projects() {
    let mut httpd = committee("httpd");
    let pmc = holder(Role::PmcMember, &mut httpd);
    let tomcat = committee("tomcat");
    let project = ProjectKey::parse("tomcat").unwrap();
    let target = Target::Project { project: &project, committee: &tomcat };
    let principal = Principal::Person(pmc);
    for activity in [Activity::BindingVote, Activity::ManageRelease, Activity::ManageKeys, Activity::PerformActions] {
        let denied = authorize(&principal, activity, &target, T0).unwrap_err();
        assert_eq!(denied.reason, DenyReason::NeedsRole(activity.granted_by()));
    }
    // Global roles apply everywhere.
    let admin = Person { id: uid("root"), asf_member: false, admin: true, consent: None };
    assert!(authorize(&Principal::Person(admin), Activity::ManageRelease, &target, T0).is_ok());
}

#[test]
fn roles_compose() {
    let project = ProjectKey::parse("httpd").unwrap();
    let mut httpd = committee("httpd");
    let mut person = holder(Role::ReleaseManager, &mut httpd);
    let target = Target::Project { project: &project, committee: &httpd };
    assert!(authorize(&Principal::Person(person.clone()), Activity::ViewAllEvents, &target, T0).is_err());
    assert!(authorize(&Principal::Person(person.clone()), Activity::Vote, &target, T0).is_err());
    person.asf_member = true;
    let p = Principal::Person(person.clone());
    for activity in [Activity::ViewAllEvents, Activity::Vote, Activity::ManageRelease] {
        assert!(authorize(&p, activity, &target, T0).is_ok(), "{activity}");
    }
    assert_eq!(roles(&person, &target), BTreeSet::from([Role::ReleaseManager, Role::Visitor, Role::AsfMember]));
}

#[test]
fn a_visitor_votes_only_with_active_consent() {
    let project = ProjectKey::parse("httpd").unwrap();
    let httpd = committee("httpd");
    let target = Target::Project { project: &project, committee: &httpd };
    let mut person = Person { id: uid("visitor"), asf_member: false, admin: false, consent: None };
    let denied = authorize(&Principal::Person(person.clone()), Activity::Vote, &target, T0).unwrap_err();
    assert_eq!(denied.reason, DenyReason::NoConsent);
    assert!(denied.to_string().contains("consent"), "{denied}");

    person.consent = Some(consent("visitor"));
    assert!(authorize(&Principal::Person(person.clone()), Activity::Vote, &target, T0).is_ok());
    // Before consent was given, and after it was revoked: no vote.
    assert!(authorize(&Principal::Person(person.clone()), Activity::Vote, &target, T0.plus_seconds(-1)).is_err());
    person.consent.as_mut().unwrap().revoked_at = Some(T0.plus_hours(1));
    assert!(authorize(&Principal::Person(person.clone()), Activity::Vote, &target, T0.plus_hours(1)).is_err());
    // Someone else's consent record does not count.
    person.consent = Some(consent("someone-else"));
    assert!(authorize(&Principal::Person(person), Activity::Vote, &target, T0).is_err());
    // Nobody signed in cannot vote but can read a release's history.
    assert!(authorize(&Principal::Anonymous, Activity::Vote, &target, T0).is_err());
    assert!(authorize(&Principal::Anonymous, Activity::ViewReleaseEvents, &target, T0).is_ok());
    assert!(authorize(&Principal::Anonymous, Activity::ViewAllEvents, &Target::Foundation, T0).is_err());
}

#[test]
fn own_key_means_own() {
    let project = ProjectKey::parse("httpd").unwrap();
    let mut httpd = committee("httpd");
    let rm = holder(Role::ReleaseManager, &mut httpd);
    let other = uid("someone");
    let principal = Principal::Person(rm.clone());
    let theirs = Target::Key { owner: Some(&other), committee: &httpd, project: Some(&project) };
    assert_eq!(authorize(&principal, Activity::ManageOwnKey, &theirs, T0).unwrap_err().reason, DenyReason::NotOwnKey);
    assert!(authorize(&principal, Activity::ManageKeys, &theirs, T0).is_err());
    let unowned = Target::Key { owner: None, committee: &httpd, project: None };
    assert!(authorize(&principal, Activity::ManageOwnKey, &unowned, T0).is_err());
    let mine = Target::Key { owner: Some(&rm.id), committee: &httpd, project: None };
    assert!(authorize(&principal, Activity::ManageOwnKey, &mine, T0).is_ok());
}

#[test]
fn denial_messages_name_activity_target_and_roles() {
    let project = ProjectKey::parse("httpd").unwrap();
    let httpd = committee("httpd");
    let target = Target::Project { project: &project, committee: &httpd };
    let nobody = Principal::Person(Person { id: uid("nobody"), asf_member: false, admin: false, consent: None });
    let message = authorize(&nobody, Activity::ManageRelease, &target, T0).unwrap_err().to_string();
    assert_eq!(
        message,
        "permission denied: manage_release on project httpd: needs one of the roles pmc_member, release_manager, admin"
    );
}

fn token(activities: &[Activity], lifetime_hours: u32) -> Result<MachineToken, TokenError> {
    MachineToken::new(
        "ci-token_1".into(),
        uid("rm"),
        BTreeSet::from([ProjectKey::parse("httpd").unwrap()]),
        activities.iter().copied().collect(),
        T0,
        T0.plus_hours(lifetime_hours),
    )
}

#[test]
fn tokens_never_carry_more_than_release_manager_rights() {
    let rm_rights: Vec<Activity> = Activity::ALL.into_iter().filter(|a| a.allowed_for_tokens()).collect();
    assert_eq!(
        rm_rights,
        [
            Activity::ManageRelease,
            Activity::ManagePolicy,
            Activity::ManageMetadata,
            Activity::ManageOwnKey,
            Activity::PerformActions,
            Activity::ViewDrafts,
            Activity::ViewReleaseEvents,
            Activity::ViewTasks
        ]
    );
    let above_all = [Activity::BindingVote, Activity::Vote, Activity::ManageKeys, Activity::ViewAllEvents];
    for above in above_all.into_iter().chain([Activity::CreateToken]) {
        assert_eq!(token(&[Activity::ManageRelease, above], 24), Err(TokenError::AboveReleaseManager(above)));
    }
    assert!(token(&rm_rights, 24).is_ok());
}

#[test]
fn token_grants_are_bounded() {
    assert_eq!(token(&[], 24), Err(TokenError::NoActivity));
    assert_eq!(token(&[Activity::ManageRelease], 0), Err(TokenError::Lifetime));
    assert_eq!(token(&[Activity::ManageRelease], 367 * 24), Err(TokenError::Lifetime));
    assert!(token(&[Activity::ManageRelease], 366 * 24).is_ok());
    let no_projects = MachineToken::new(
        "t".into(),
        uid("rm"),
        BTreeSet::new(),
        BTreeSet::from([Activity::Vote]),
        T0,
        T0.plus_hours(1),
    );
    assert_eq!(no_projects, Err(TokenError::Projects));
    for bad_id in ["", "has space", "slash/y", &"x".repeat(65)] {
        let t = MachineToken::new(
            bad_id.into(),
            uid("rm"),
            BTreeSet::from([ProjectKey::parse("httpd").unwrap()]),
            BTreeSet::from([Activity::ManageRelease]),
            T0,
            T0.plus_hours(1),
        );
        assert_eq!(t, Err(TokenError::BadId), "{bad_id:?}");
    }
}

#[test]
fn a_token_acts_within_its_scope_and_its_owners_rights() {
    let httpd_key = ProjectKey::parse("httpd").unwrap();
    let tomcat_key = ProjectKey::parse("tomcat").unwrap();
    let mut httpd = committee("httpd");
    let mut tomcat = committee("tomcat");
    let mut owner = Person { id: uid("rm"), asf_member: false, admin: true, consent: None };
    httpd.pmc_members.insert(owner.id.clone());
    tomcat.pmc_members.insert(owner.id.clone());
    let t = token(&[Activity::ManageRelease, Activity::ManageOwnKey], 24).unwrap();
    let principal = Principal::Token { owner: owner.clone(), token: t.clone() };
    let on_httpd = Target::Project { project: &httpd_key, committee: &httpd };
    let on_tomcat = Target::Project { project: &tomcat_key, committee: &tomcat };

    assert!(authorize(&principal, Activity::ManageRelease, &on_httpd, T0).is_ok());
    let reason = |activity, target: &Target<'_>, now| authorize(&principal, activity, target, now).unwrap_err().reason;
    assert_eq!(reason(Activity::ManageRelease, &on_tomcat, T0), DenyReason::TokenProject);
    assert_eq!(reason(Activity::PerformActions, &on_httpd, T0), DenyReason::TokenActivity);
    // The owner is a PMC member and admin, yet the token cannot vote or manage others' keys.
    assert_eq!(reason(Activity::BindingVote, &on_httpd, T0), DenyReason::TokenActivity);
    assert_eq!(reason(Activity::ViewAllEvents, &Target::Foundation, T0), DenyReason::TokenActivity);
    // Expiry is exclusive.
    assert!(authorize(&principal, Activity::ManageRelease, &on_httpd, T0.plus_hours(24).plus_seconds(-1)).is_ok());
    let expired = authorize(&principal, Activity::ManageRelease, &on_httpd, T0.plus_hours(24)).unwrap_err();
    assert_eq!(expired.reason, DenyReason::TokenExpired);
    assert!(expired.to_string().contains("expired"));
    // A key target needs a project in scope.
    let own_key = Target::Key { owner: Some(&owner.id), committee: &httpd, project: Some(&httpd_key) };
    assert!(authorize(&principal, Activity::ManageOwnKey, &own_key, T0).is_ok());
    let unscoped = Target::Key { owner: Some(&owner.id), committee: &httpd, project: None };
    assert_eq!(reason(Activity::ManageOwnKey, &unscoped, T0), DenyReason::TokenProject);

    // The owner loses their roles: the token loses them too.
    httpd.pmc_members.clear();
    owner.admin = false;
    let principal = Principal::Token { owner: owner.clone(), token: t.clone() };
    let on_httpd = Target::Project { project: &httpd_key, committee: &httpd };
    let denied = authorize(&principal, Activity::ManageRelease, &on_httpd, T0).unwrap_err();
    assert!(matches!(denied.reason, DenyReason::NeedsRole(_)));

    // A token presented for another person is refused.
    let stranger = Person { id: uid("stranger"), asf_member: false, admin: true, consent: None };
    let principal = Principal::Token { owner: stranger, token: t };
    let denied = authorize(&principal, Activity::ManageRelease, &on_httpd, T0).unwrap_err();
    assert_eq!(denied.reason, DenyReason::TokenOwner);
}

#[test]
fn names_round_trip() {
    for a in Activity::ALL {
        assert_eq!(Activity::parse(a.as_str()), Some(a));
    }
    assert_eq!(Activity::parse("delete_everything"), None);
    assert_eq!(Role::ALL.iter().filter(|r| r.is_per_project()).count(), 3);
}

#[test]
fn the_admin_activities_are_the_admins_alone_and_never_a_tokens() {
    let admin = Person { id: uid("root"), asf_member: true, admin: true, consent: None };
    let mut httpd = committee("httpd");
    httpd.pmc_members.insert(uid("root"));
    let project = ProjectKey::parse("httpd").unwrap();
    let admin_only: Vec<Activity> = Activity::ALL.into_iter().filter(|a| a.is_admin_only()).collect();
    assert_eq!(
        admin_only,
        [
            Activity::ManageTasks,
            Activity::CreateProject,
            Activity::ManageCommittees,
            Activity::ManageAccounts,
            Activity::VerifyAudit
        ]
    );
    for activity in admin_only {
        assert!(!activity.allowed_for_tokens(), "{activity}");
        assert!(authorize(&Principal::Person(admin.clone()), activity, &Target::Foundation, T0).is_ok());
        // A PMC member and foundation member who is not an admin is refused.
        let member = Person { admin: false, ..admin.clone() };
        let denied = authorize(&Principal::Person(member), activity, &Target::Foundation, T0).unwrap_err();
        assert_eq!(denied.reason, DenyReason::NeedsRole(vec![Role::Admin]), "{activity}");
        // An admin's token carries at most release-manager rights, even on a project.
        let token = MachineToken::new(
            "t1".into(),
            uid("root"),
            BTreeSet::from([project.clone()]),
            BTreeSet::from([Activity::ManageRelease]),
            T0,
            T0.plus_hours(1),
        )
        .unwrap();
        let by_token = Principal::Token { owner: admin.clone(), token };
        let target = Target::Project { project: &project, committee: &httpd };
        let denied = authorize(&by_token, activity, &target, T0).unwrap_err();
        assert_eq!(denied.reason, DenyReason::TokenActivity, "{activity}");
        assert!(matches!(
            MachineToken::new(
                "t2".into(),
                uid("root"),
                BTreeSet::from([project.clone()]),
                BTreeSet::from([activity]),
                T0,
                T0.plus_hours(1)
            ),
            Err(TokenError::AboveReleaseManager(_))
        ));
    }
}

#[test]
fn tokens_are_created_in_sessions_only() {
    let alice = Person { id: uid("alice"), asf_member: false, admin: false, consent: None };
    assert!(authorize(&Principal::Person(alice.clone()), Activity::CreateToken, &Target::Foundation, T0).is_ok());
    let denied = authorize(&Principal::Anonymous, Activity::CreateToken, &Target::Foundation, T0).unwrap_err();
    assert_eq!(denied.reason, DenyReason::NotSignedIn);
    let project = ProjectKey::parse("httpd").unwrap();
    let token = MachineToken::new(
        "t1".into(),
        uid("alice"),
        BTreeSet::from([project]),
        BTreeSet::from([Activity::ManageRelease]),
        T0,
        T0.plus_hours(1),
    )
    .unwrap();
    let denied = authorize(&Principal::Token { owner: alice, token }, Activity::CreateToken, &Target::Foundation, T0)
        .unwrap_err();
    assert_eq!(denied.reason, DenyReason::SessionOnly);
    assert!(denied.to_string().contains("a token cannot create tokens; sign in with a session"), "{denied}");
    assert!(!Activity::CreateToken.allowed_for_tokens());
}

#[test]
fn a_token_reads_the_drafts_and_tasks_of_its_projects_if_its_owner_may() {
    let project = ProjectKey::parse("httpd").unwrap();
    let mut httpd = committee("httpd");
    let rm = holder(Role::ReleaseManager, &mut httpd);
    let target = Target::Project { project: &project, committee: &httpd };
    let grant = |owner: &Person, scoped: &ProjectKey| {
        MachineToken::new(
            "t1".into(),
            owner.id.clone(),
            BTreeSet::from([scoped.clone()]),
            BTreeSet::from([Activity::ManageRelease]),
            T0,
            T0.plus_hours(1),
        )
        .unwrap()
    };
    let token = Principal::Token { owner: rm.clone(), token: grant(&rm, &project) };
    for implied in [Activity::ViewDrafts, Activity::ViewTasks] {
        assert!(authorize(&token, implied, &target, T0).is_ok(), "{implied} is implied by the project scope");
    }
    // Not on another project, not on the foundation's tasks, and not for an owner without a role.
    let tomcat = ProjectKey::parse("tomcat").unwrap();
    let elsewhere = Principal::Token { owner: rm.clone(), token: grant(&rm, &tomcat) };
    assert_eq!(authorize(&elsewhere, Activity::ViewTasks, &target, T0).unwrap_err().reason, DenyReason::TokenProject);
    assert_eq!(
        authorize(&token, Activity::ViewTasks, &Target::Foundation, T0).unwrap_err().reason,
        DenyReason::TokenProject
    );
    let outsider = Person { id: uid("outsider"), asf_member: true, admin: false, consent: None };
    let theirs = Principal::Token { owner: outsider.clone(), token: grant(&outsider, &project) };
    assert!(matches!(
        authorize(&theirs, Activity::ViewTasks, &target, T0).unwrap_err().reason,
        DenyReason::NeedsRole(_)
    ));
}

#[test]
fn a_token_may_do_what_anyone_may() {
    let project = ProjectKey::parse("httpd").unwrap();
    let mut httpd = committee("httpd");
    let rm = holder(Role::ReleaseManager, &mut httpd);
    let target = Target::Project { project: &project, committee: &httpd };
    let tomcat = ProjectKey::parse("tomcat").unwrap();
    let elsewhere = MachineToken::new(
        "t1".into(),
        rm.id.clone(),
        BTreeSet::from([tomcat]),
        BTreeSet::from([Activity::ManageRelease]),
        T0,
        T0.plus_hours(1),
    )
    .unwrap();
    let token = Principal::Token { owner: rm.clone(), token: elsewhere };
    // Anyone reads a project's history, so a token that neither carries that activity nor is
    // scoped to the project reads it too.
    assert!(authorize(&Principal::Anonymous, Activity::ViewReleaseEvents, &target, T0).is_ok());
    assert!(authorize(&token, Activity::ViewReleaseEvents, &target, T0).is_ok());
    // Beyond what anyone may, the scope still holds.
    assert_eq!(authorize(&token, Activity::ManageRelease, &target, T0).unwrap_err().reason, DenyReason::TokenProject);
    // An expired token is refused even what anyone may do: it is a wrong credential.
    assert_eq!(
        authorize(&token, Activity::ViewReleaseEvents, &target, T0.plus_hours(2)).unwrap_err().reason,
        DenyReason::TokenExpired
    );
}
