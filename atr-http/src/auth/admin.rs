//! What only admins may do: create local accounts, set committees' people, and verify the audit
//! log. Who is an admin is decided by `atr_core::auth::authorize` through the services; the
//! handlers here parse, call one service, and word a refusal as the API always has.
//!
//! `POST /api/admin/committees/{key}/people` changes one person's role atomically on the
//! server: `{"user": "erin", "role": "pmc_member" | "committer" | "release_manager",
//! "action": "add" | "remove"}`, answered with `{"committee", "changed"}` (`changed` is false
//! when the person already held the role, or did not hold the role being removed).
//!
//! # The committee import document
//!
//! `POST /api/admin/committees/import` takes one JSON document:
//!
//! ```json
//! {
//!   "committees": [
//!     {
//!       "key": "httpd",
//!       "name": "Apache HTTP Server",
//!       "podling": false,
//!       "parent": null,
//!       "pmc_members": ["alice", "bob"],
//!       "committers": ["alice", "bob", "carol"],
//!       "release_managers": ["dave"]
//!     }
//!   ]
//! }
//! ```
//!
//! `key` is a committee key and `name` its display name (both required); `podling` defaults to
//! false and `parent` (the overseeing committee, the Incubator for a podling) to none;
//! `pmc_members` and `committers` are required lists of user ids, `release_managers` defaults to
//! an empty list. Unknown fields are refused. A key may appear once; a parent must be in the
//! document or already known. Every committee is validated before any is written; each listed
//! committee is then created or replaced whole. Committees not listed are left alone.

use std::collections::BTreeSet;

use atr_api as api;
use atr_core::auth::{Principal, Secret};
use atr_core::model::{Committee, CommitteeRole, RoleAction, RoleChange};
use atr_core::ports::AuditVerdict;
use atr_core::services::{CommitteeUpdate, NewAccount as AccountRequest, ServiceError};
use atr_core::types::{CommitteeKey, UserId};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::body::Body;
use super::session::not_signed_in;
use super::{Caller, now};
use crate::{ApiError, AppState};

/// Words a refusal of an admin activity as the API always has: who was refused, for which
/// action, and that it needs the role admin. Other failures pass through.
fn admin_refusal<'a>(principal: &'a Principal, action: &'static str) -> impl FnOnce(ServiceError) -> ApiError + 'a {
    move |error| match error {
        ServiceError::Denied(denied) => {
            let details = json!({ "action": action, "needs_role": "admin", "activity": denied.activity.as_str() });
            let who = match principal {
                Principal::Anonymous => return not_signed_in(),
                Principal::Token { .. } => "a token never carries".to_owned(),
                Principal::Person(person) => format!("{} does not hold", person.id),
            };
            ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("permission denied: {action} needs the role admin, which {who}"),
            )
            .with_details(details)
        }
        other => other.into(),
    }
}

/// `POST /api/admin/accounts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAccount {
    user: UserId,
    password: String,
    #[serde(default)]
    asf_member: bool,
    #[serde(default)]
    admin: bool,
}

/// Creates a local account and its person with the given global roles.
pub(crate) async fn create_account(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Body(request): Body<NewAccount>,
) -> Result<Response, ApiError> {
    let account = AccountRequest {
        user: request.user,
        password: Secret::new(request.password),
        asf_member: request.asf_member,
        admin: request.admin,
    };
    let person = state
        .services
        .create_account(&principal, account, now())
        .await
        .map_err(admin_refusal(&principal, "creating accounts"))?;
    tracing::info!(user = %person.id, admin = person.admin, "account created");
    Ok((StatusCode::CREATED, Json(api::AccountCreated { person: (&person).into() })).into_response())
}

/// `GET /api/admin/audit/verify`: recomputes the audit log's hash chain. Answers 200 either way:
/// `{"intact": true, "events", "head"}`, or `{"intact": false, "error", "broken_at"}` naming the
/// first event that does not verify (`null` when the log could not be read).
pub(crate) async fn verify_audit(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<api::AuditReport>, ApiError> {
    let verdict = state
        .services
        .verify_audit(&principal, now())
        .await
        .map_err(admin_refusal(&principal, "verifying the audit log"))?;
    match &verdict {
        AuditVerdict::Intact { events, .. } => tracing::info!(events, "audit log verified: intact"),
        AuditVerdict::Broken { error, .. } => tracing::warn!(%error, "audit log verified: broken"),
    }
    Ok(Json(verdict.into()))
}

/// Makes sure `user` has a local account and is an admin, for the first start of a service.
/// Creates the account with `password` if there is none (true); otherwise leaves the password
/// alone and only grants admin if missing (false).
pub async fn ensure_admin(state: &AppState, user: &UserId, password: &str) -> Result<bool, ServiceError> {
    let created = state.services.ensure_admin(user, &Secret::new(password)).await?;
    tracing::info!(%user, created, "admin account ensured");
    Ok(created)
}

/// Deserializes a present field, even `null`, as `Some`: tells "absent" from "null".
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// `PUT /api/admin/committees/{key}`: the committee's people, replaced whole. `name`, `podling`
/// and `parent` replace the stored values when given and keep them when absent; a new committee
/// needs a `name`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(clippy::option_option, reason = "absent, null and a value are three different requests")]
pub(crate) struct CommitteePeople {
    name: Option<String>,
    podling: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    parent: Option<Option<CommitteeKey>>,
    pmc_members: BTreeSet<UserId>,
    committers: BTreeSet<UserId>,
    #[serde(default)]
    release_managers: BTreeSet<UserId>,
}

fn committee_key(text: &str) -> Result<CommitteeKey, ApiError> {
    CommitteeKey::parse(text)
        .map_err(|e| ApiError::invalid(format!("key: {e}")).with_details(json!({ "field": "key" })))
}

/// Creates a committee or replaces its people.
pub(crate) async fn put_committee(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(key): Path<String>,
    Body(request): Body<CommitteePeople>,
) -> Result<Json<api::CommitteeAnswer>, ApiError> {
    let key = committee_key(&key)?;
    let update = CommitteeUpdate {
        name: request.name,
        podling: request.podling,
        parent: request.parent,
        pmc_members: request.pmc_members,
        committers: request.committers,
        release_managers: request.release_managers,
    };
    let committee = state
        .services
        .put_committee(&principal, &key, update, now())
        .await
        .map_err(admin_refusal(&principal, "setting a committee's people"))?;
    tracing::info!(committee = %key, "committee people set");
    Ok(Json(api::CommitteeAnswer { committee: (&committee).into() }))
}

/// `POST /api/admin/committees/{key}/people`: one person's role, added or removed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonRole {
    user: UserId,
    role: CommitteeRole,
    action: RoleAction,
}

/// Adds or removes one person's role in a committee, atomically on the server.
pub(crate) async fn change_role(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(key): Path<String>,
    Body(request): Body<PersonRole>,
) -> Result<Json<api::RoleChanged>, ApiError> {
    let key = committee_key(&key)?;
    let change = RoleChange { user: request.user, role: request.role, action: request.action };
    let done = state
        .services
        .change_committee_role(&principal, &key, &change, now())
        .await
        .map_err(admin_refusal(&principal, "changing a committee's people"))?;
    if done.changed {
        tracing::info!(committee = %key, user = %change.user, role = change.role.as_str(), ?change.action, "committee role changed");
    }
    Ok(Json((&done).into()))
}

/// One committee of the import document (see the module documentation).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportedCommittee {
    key: CommitteeKey,
    name: String,
    #[serde(default)]
    podling: bool,
    #[serde(default)]
    parent: Option<CommitteeKey>,
    pmc_members: BTreeSet<UserId>,
    committers: BTreeSet<UserId>,
    #[serde(default)]
    release_managers: BTreeSet<UserId>,
}

/// The import document (see the module documentation).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitteeImport {
    committees: Vec<ImportedCommittee>,
}

impl CommitteeImport {
    /// The document's committees, in its order, as the core imports them.
    pub fn into_committees(self) -> Vec<Committee> {
        self.committees
            .into_iter()
            .map(|imported| {
                let mut committee = Committee::new(imported.key, imported.name);
                committee.podling = imported.podling;
                committee.parent = imported.parent;
                committee.pmc_members = imported.pmc_members;
                committee.committers = imported.committers;
                committee.release_managers = imported.release_managers;
                committee
            })
            .collect()
    }
}

/// The answer to an import: `{imported, created, updated}`.
pub fn import_report(report: &atr_core::services::ImportReport) -> api::CommitteeImportReport {
    report.into()
}

/// Creates or replaces every committee of the document, after validating all of them.
pub(crate) async fn import_committees(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Body(document): Body<CommitteeImport>,
) -> Result<Json<api::CommitteeImportReport>, ApiError> {
    let report = state
        .services
        .import_committees(&principal, document.into_committees(), now())
        .await
        .map_err(admin_refusal(&principal, "importing committees"))?;
    let report = import_report(&report);
    tracing::info!(imported = report.imported, "committees imported");
    Ok(Json(report))
}
