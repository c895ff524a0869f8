//! `atr admin ...`: local accounts, committees' people, the committee import and the audit log.
//!
//! Tokens never carry admin rights, so every admin command signs in like `atr token create`
//! does: as `--user`, with the password in `ATR_PASSWORD` (else a line of stdin), and signs out
//! when done. What a command reads by itself (a new account's password, an import document) is
//! read and checked first, before signing in.

use atr_api::Operation;
use atr_api::endpoints as op;
use atr_api::{AuditReport, CommitteeImport, NewAccount, PersonRole, RoleAction};
use serde_json::{Value, json};

use super::api::{Api, Failure, Outcome, exit, path_of};
use super::{
    AdminAuditCommand, AdminCommand, AdminCommitteesCommand, AdminSignIn, AdminUserCommand, CommitteeRole, RoleChange,
    admin, output, project,
};

/// What a command needs besides the session, gathered before signing in.
enum Input {
    Nothing,
    /// The password of the account to create.
    NewPassword(String),
    /// The committee import document.
    Document(CommitteeImport),
}

/// `atr admin ...`: gathers the command's input, signs in, acts, signs out.
pub(crate) async fn admin(api: &Api, command: &AdminCommand, json: bool) -> Outcome {
    let (sign_in, input) = prepare(command)?;
    let password = admin::password()?;
    let session = api.sign_in(&sign_in.sign_in_as, &password).await?;
    let result = act(&session, command, input, json).await;
    // Sign out whatever happened: the session is not needed any more.
    session.sign_out().await;
    result.map_err(|failure| {
        failure.hint_for(
            exit::REFUSED,
            format!(
                "only admins may do this, and {} is not one: sign in with an admin account (--user ADMIN)",
                sign_in.sign_in_as
            ),
        )
    })
}

fn prepare(command: &AdminCommand) -> Outcome<(&AdminSignIn, Input)> {
    Ok(match command {
        AdminCommand::User(AdminUserCommand::Create { sign_in, .. }) => {
            (sign_in, Input::NewPassword(admin::secret("ATR_NEW_PASSWORD", "new account's password")?))
        }
        AdminCommand::User(AdminUserCommand::Grant { sign_in, .. } | AdminUserCommand::Revoke { sign_in, .. })
        | AdminCommand::Committees(AdminCommitteesCommand::Set { sign_in, .. })
        | AdminCommand::Audit(AdminAuditCommand::Verify { sign_in }) => (sign_in, Input::Nothing),
        AdminCommand::Committees(AdminCommitteesCommand::Import { file, sign_in }) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
            let hint = "the document is {\"committees\": [{\"key\", \"name\", \"pmc_members\", \"committers\", ...}]}";
            let document: Value = serde_json::from_str(&text)
                .map_err(|e| Failure::usage(format!("{} is not JSON: {e}", file.display())).hint(hint))?;
            let document = serde_json::from_value(document).map_err(|e| {
                Failure::usage(format!("{} is not a committee import document: {e}", file.display())).hint(hint)
            })?;
            (sign_in, Input::Document(document))
        }
    })
}

async fn act(session: &Api, command: &AdminCommand, input: Input, json: bool) -> Outcome {
    match (command, input) {
        (AdminCommand::User(AdminUserCommand::Create { person, admin, asf_member, .. }), Input::NewPassword(pw)) => {
            let body = NewAccount { user: person.clone(), password: pw, admin: *admin, asf_member: *asf_member };
            let answer = session.op(op::CreateAccount, op::CreateAccount::ENDPOINT.path, Some(&body)).await?;
            if json {
                output::print_json(&answer.json);
            } else {
                let person = &answer.body.person;
                let mut roles = Vec::new();
                if person.admin {
                    roles.push("admin");
                }
                if person.asf_member {
                    roles.push("foundation member");
                }
                let roles = if roles.is_empty() { String::new() } else { format!(" ({})", roles.join(", ")) };
                println!("account {}{roles} created", person.id);
            }
            Ok(())
        }
        (AdminCommand::User(AdminUserCommand::Grant { change, .. }), _) => set_role(session, change, true, json).await,
        (AdminCommand::User(AdminUserCommand::Revoke { change, .. }), _) => {
            set_role(session, change, false, json).await
        }
        (AdminCommand::Committees(AdminCommitteesCommand::Import { .. }), Input::Document(document)) => {
            let path = op::ImportCommittees::ENDPOINT.path;
            let answer = session.op(op::ImportCommittees, path, Some(&document)).await?;
            if json {
                output::print_json(&answer.json);
            } else {
                let names = |keys: &[String]| if keys.is_empty() { "none".to_owned() } else { output::list(keys) };
                let report = &answer.body;
                println!(
                    "{} committee(s) imported: created {}; replaced {}",
                    report.imported,
                    names(&report.created),
                    names(&report.updated)
                );
            }
            Ok(())
        }
        (
            AdminCommand::Committees(AdminCommitteesCommand::Set {
                committee,
                name,
                podling,
                pmc,
                committers,
                release_managers,
                ..
            }),
            _,
        ) => {
            let body = project::committee_people(name.as_deref(), *podling, pmc, committers, release_managers);
            let path = path_of(op::PutCommittee, &[("key", committee)], "");
            let answer = session.op(op::PutCommittee, &path, Some(&body)).await?;
            if json {
                output::print_json(&answer.json);
            } else {
                project::print_committee(&answer.body.committee);
            }
            Ok(())
        }
        (AdminCommand::Audit(AdminAuditCommand::Verify { .. }), _) => verify(session, json).await,
        _ => Err(Failure::other("the command's input was not gathered")),
    }
}

/// The role as the API names it, and as a sentence says it.
fn role_of(role: CommitteeRole) -> (atr_api::CommitteeRole, &'static str) {
    match role {
        CommitteeRole::Pmc => (atr_api::CommitteeRole::PmcMember, "a PMC member"),
        CommitteeRole::Committer => (atr_api::CommitteeRole::Committer, "a committer"),
        CommitteeRole::ReleaseManager => (atr_api::CommitteeRole::ReleaseManager, "a release manager"),
    }
}

/// `atr admin user grant|revoke`: one server-side change of one person's role
/// (`POST /api/admin/committees/{key}/people`), so that concurrent changes of the committee's
/// people are never lost.
async fn set_role(session: &Api, change: &RoleChange, grant: bool, json: bool) -> Outcome {
    let key = &change.committee;
    let (name, role) = role_of(change.role);
    let action = if grant { RoleAction::Add } else { RoleAction::Remove };
    let body = PersonRole { user: change.person.clone(), role: name, action };
    let path = path_of(op::ChangeCommitteeRole, &[("key", key)], "");
    let answer = session.op(op::ChangeCommitteeRole, &path, Some(&body)).await.map_err(|f| {
        f.hint_for(exit::NOT_FOUND, "check the committee's key; `atr admin committees import FILE` creates committees")
    })?;
    if json {
        output::print_json(&json!({ "committee": answer.body.committee }));
    }
    if !answer.body.changed {
        let state = if grant { "already" } else { "not" };
        eprintln!("{} is {state} {role} of {key}: nothing to change", change.person);
    } else if !json {
        let now = if grant { "now" } else { "no longer" };
        println!("{} is {now} {role} of {key}", change.person);
    }
    Ok(())
}

/// `atr admin audit verify`.
async fn verify(session: &Api, json: bool) -> Outcome {
    let answer = session.op(op::VerifyAudit, op::VerifyAudit::ENDPOINT.path, None).await?;
    if json {
        output::print_json(&answer.json);
    }
    let (error, broken_at) = match answer.body {
        AuditReport::Intact { events, head, .. } => {
            if !json {
                println!("the audit log is intact: {events} event(s), head {head}");
            }
            return Ok(());
        }
        AuditReport::Broken { error, broken_at, .. } => (error, broken_at),
    };
    Err(match broken_at {
        Some(id) => Failure::other(format!("the audit log is broken at event {id}: {error}"))
            .hint("the events from there on were changed or deleted outside the service: compare them with a backup"),
        None => Failure::other(format!("the audit log could not be verified: {error}"))
            .hint("check that the service can read its database, then run the command again"),
    })
}
