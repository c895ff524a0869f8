//! `atr admin ...`: local accounts, committees' people, the committee import and the audit log.
//!
//! Tokens never carry admin rights, so every admin command signs in like `atr token create`
//! does: as `--user`, with the password in `ATR_PASSWORD` (else a line of stdin), and signs out
//! when done. What a command reads by itself (a new account's password, an import document) is
//! read and checked first, before signing in.

use serde_json::{Value, json};

use super::api::{Api, Failure, Outcome, exit, segment};
use super::{
    AdminAuditCommand, AdminCommand, AdminCommitteesCommand, AdminSignIn, AdminUserCommand, CommitteeRole, RoleChange,
    admin, output,
};

/// What a command needs besides the session, gathered before signing in.
enum Input {
    Nothing,
    /// The password of the account to create.
    NewPassword(String),
    /// The committee import document.
    Document(Value),
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
        | AdminCommand::Audit(AdminAuditCommand::Verify { sign_in }) => (sign_in, Input::Nothing),
        AdminCommand::Committees(AdminCommitteesCommand::Import { file, sign_in }) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
            let document = serde_json::from_str(&text).map_err(|e| {
                Failure::usage(format!("{} is not JSON: {e}", file.display())).hint(
                    "the document is {\"committees\": [{\"key\", \"name\", \"pmc_members\", \"committers\", ...}]}",
                )
            })?;
            (sign_in, Input::Document(document))
        }
    })
}

async fn act(session: &Api, command: &AdminCommand, input: Input, json: bool) -> Outcome {
    match (command, input) {
        (AdminCommand::User(AdminUserCommand::Create { person, admin, asf_member, .. }), Input::NewPassword(pw)) => {
            let body = json!({ "user": person, "password": pw, "admin": admin, "asf_member": asf_member });
            let answer = session.post("/api/admin/accounts", &body).await?;
            if json {
                output::print_json(&answer);
            } else {
                let mut roles = Vec::new();
                if answer["person"]["admin"].as_bool() == Some(true) {
                    roles.push("admin");
                }
                if answer["person"]["asf_member"].as_bool() == Some(true) {
                    roles.push("foundation member");
                }
                let roles = if roles.is_empty() { String::new() } else { format!(" ({})", roles.join(", ")) };
                println!("account {}{roles} created", output::text(&answer["person"]["id"]));
            }
            Ok(())
        }
        (AdminCommand::User(AdminUserCommand::Grant { change, .. }), _) => set_role(session, change, true, json).await,
        (AdminCommand::User(AdminUserCommand::Revoke { change, .. }), _) => {
            set_role(session, change, false, json).await
        }
        (AdminCommand::Committees(AdminCommitteesCommand::Import { .. }), Input::Document(document)) => {
            let answer = session.post("/api/admin/committees/import", &document).await?;
            if json {
                output::print_json(&answer);
            } else {
                let names = |v: &Value| {
                    if v.as_array().is_some_and(|a| !a.is_empty()) { output::list(v) } else { "none".into() }
                };
                println!(
                    "{} committee(s) imported: created {}; replaced {}",
                    answer["imported"].as_u64().unwrap_or(0),
                    names(&answer["created"]),
                    names(&answer["updated"])
                );
            }
            Ok(())
        }
        (AdminCommand::Audit(AdminAuditCommand::Verify { .. }), _) => verify(session, json).await,
        _ => Err(Failure::other("the command's input was not gathered")),
    }
}

/// The role as the API names it, and as a sentence says it.
fn role_of(role: CommitteeRole) -> (&'static str, &'static str) {
    match role {
        CommitteeRole::Pmc => ("pmc_member", "a PMC member"),
        CommitteeRole::Committer => ("committer", "a committer"),
        CommitteeRole::ReleaseManager => ("release_manager", "a release manager"),
    }
}

/// `atr admin user grant|revoke`: one server-side change of one person's role
/// (`POST /api/admin/committees/{key}/people`), so that concurrent changes of the committee's
/// people are never lost.
async fn set_role(session: &Api, change: &RoleChange, grant: bool, json: bool) -> Outcome {
    let key = &change.committee;
    let (name, role) = role_of(change.role);
    let body = json!({ "user": change.person, "role": name, "action": if grant { "add" } else { "remove" } });
    let answer = session.post(&format!("/api/admin/committees/{}/people", segment(key)), &body).await.map_err(|f| {
        f.hint_for(exit::NOT_FOUND, "check the committee's key; `atr admin committees import FILE` creates committees")
    })?;
    if json {
        output::print_json(&json!({ "committee": answer["committee"] }));
    }
    if answer["changed"].as_bool() != Some(true) {
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
    let answer = session.get("/api/admin/audit/verify").await?;
    if json {
        output::print_json(&answer);
    }
    if answer["intact"].as_bool() == Some(true) {
        if !json {
            println!(
                "the audit log is intact: {} event(s), head {}",
                answer["events"].as_u64().unwrap_or(0),
                output::text(&answer["head"])
            );
        }
        return Ok(());
    }
    let error = output::text(&answer["error"]);
    Err(match answer["broken_at"].as_i64() {
        Some(id) => Failure::other(format!("the audit log is broken at event {id}: {error}"))
            .hint("the events from there on were changed or deleted outside the service: compare them with a backup"),
        None => Failure::other(format!("the audit log could not be verified: {error}"))
            .hint("check that the service can read its database, then run the command again"),
    })
}
