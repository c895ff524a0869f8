//! What only admins may do: create local accounts, set committees' people, and verify the audit
//! log.
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

use std::collections::{BTreeMap, BTreeSet};

use atr_core::auth::Principal;
use atr_core::model::{Committee, Person};
use atr_core::ports::{CommitteeRepository, PersonRepository, StoreError};
use atr_core::types::{CommitteeKey, UserId};
use atr_store::sql::ChainError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::body::Body;
use super::session::not_signed_in;
use super::{Caller, password};
use crate::{ApiError, AppState};

/// The admin behind a request, or the refusal naming the missing permission.
fn require_admin(principal: &Principal, action: &str) -> Result<Person, ApiError> {
    let details = json!({ "action": action, "needs_role": "admin" });
    match principal {
        Principal::Anonymous => Err(not_signed_in()),
        Principal::Token { .. } => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("permission denied: {action} needs the role admin, which a token never carries"),
        )
        .with_details(details)),
        Principal::Person(person) if person.admin => Ok(person.clone()),
        Principal::Person(person) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("permission denied: {action} needs the role admin, which {} does not hold", person.id),
        )
        .with_details(details)),
    }
}

fn field_error(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(format!("{field}: {message}")).with_details(json!({ "field": field }))
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
    let admin = require_admin(&principal, "creating accounts")?;
    if let Some(weakness) = password::weakness(&request.password) {
        return Err(ApiError::invalid(weakness).with_details(json!({ "field": "password" })));
    }
    let sql = &state.storage.sql;
    let hash = password::hash(request.password).await?;
    sql.create_account(&request.user, &hash).await?;
    sql.put_person(&Person {
        id: request.user.clone(),
        asf_member: request.asf_member,
        admin: request.admin,
        consent: None,
    })
    .await?;
    let person = PersonRepository::get(sql, &request.user)
        .await?
        .ok_or_else(|| ApiError::internal(&"a person just written is missing"))?;
    tracing::info!(by = %admin.id, user = %person.id, admin = person.admin, "account created");
    Ok((StatusCode::CREATED, Json(json!({ "person": person }))).into_response())
}

/// `GET /api/admin/audit/verify`: recomputes the audit log's hash chain. Answers 200 either way:
/// `{"intact": true, "events", "head"}`, or `{"intact": false, "error", "broken_at"}` naming the
/// first event that does not verify (`null` when the log could not be read).
pub(crate) async fn verify_audit(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let admin = require_admin(&principal, "verifying the audit log")?;
    let answer = match state.storage.sql.verify_events().await {
        Ok(report) => {
            tracing::info!(by = %admin.id, events = report.events, "audit log verified: intact");
            json!({ "intact": true, "events": report.events, "head": report.head })
        }
        Err(error) => {
            let broken_at = match &error {
                ChainError::Missing { expected: id, .. }
                | ChainError::BrokenLink { id }
                | ChainError::Changed { id } => Some(*id),
                // The first event deleted from the end.
                ChainError::Truncated { found, .. } => Some(found + 1),
                ChainError::Store(_) => None,
            };
            tracing::warn!(by = %admin.id, %error, "audit log verified: broken");
            json!({ "intact": false, "error": error.to_string(), "broken_at": broken_at })
        }
    };
    Ok(Json(answer))
}

/// Makes sure `user` has a local account and is an admin, for the first start of a service.
/// Creates the account with `password` if there is none (true); otherwise leaves the password
/// alone and only grants admin if missing (false).
pub async fn ensure_admin(state: &AppState, user: &UserId, password: &str) -> Result<bool, StoreError> {
    let sql = &state.storage.sql;
    let existing = PersonRepository::get(sql, user).await?;
    let asf_member = existing.as_ref().is_some_and(|p| p.asf_member);
    let created = if sql.password_hash(user).await?.is_some() {
        false
    } else {
        if let Some(weakness) = password::weakness(password) {
            return Err(StoreError::Refused(weakness));
        }
        let hash = password::hash(password.to_owned()).await.map_err(|e| StoreError::Backend(e.message))?;
        sql.create_account(user, &hash).await?;
        true
    };
    if created || !existing.is_some_and(|p| p.admin) {
        sql.put_person(&Person { id: user.clone(), asf_member, admin: true, consent: None }).await?;
        tracing::info!(%user, created, "admin account ensured");
    }
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
#[expect(clippy::option_option, reason = "`parent`: absent keeps the stored parent, null removes it")]
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

fn check_name(field: &str, name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(field_error(field, "must be 1 to 200 characters, without control characters"));
    }
    Ok(name.to_owned())
}

/// Creates a committee or replaces its people.
pub(crate) async fn put_committee(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(key): Path<String>,
    Body(request): Body<CommitteePeople>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let admin = require_admin(&principal, "setting a committee's people")?;
    let key = CommitteeKey::parse(&key).map_err(|e| field_error("key", e))?;
    let sql = &state.storage.sql;
    let existing = CommitteeRepository::get(sql, &key).await?;
    let mut committee = match (existing, &request.name) {
        (Some(committee), _) => committee,
        (None, Some(_)) => Committee::new(key.clone(), String::new()),
        (None, None) => return Err(field_error("name", format!("committee {key} is new and needs a name"))),
    };
    if let Some(name) = &request.name {
        committee.name = check_name("name", name)?;
    }
    if let Some(podling) = request.podling {
        committee.podling = podling;
    }
    if let Some(parent) = request.parent {
        if let Some(parent) = &parent {
            if parent == &key {
                return Err(field_error("parent", "a committee cannot oversee itself"));
            }
            if CommitteeRepository::get(sql, parent).await?.is_none() {
                return Err(field_error("parent", format!("committee {parent} is not known")));
            }
        }
        committee.parent = parent;
    }
    committee.pmc_members = request.pmc_members;
    committee.committers = request.committers;
    committee.release_managers = request.release_managers;
    CommitteeRepository::put(sql, &committee).await?;
    tracing::info!(by = %admin.id, committee = %key, "committee people set");
    Ok(Json(json!({ "committee": committee })))
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

/// Creates or replaces every committee of the document, after validating all of them.
pub(crate) async fn import_committees(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Body(document): Body<CommitteeImport>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let admin = require_admin(&principal, "importing committees")?;
    let report = apply_committee_import(&state.storage.sql, &document).await?;
    tracing::info!(by = %admin.id, %report, "committees imported");
    Ok(Json(report))
}

/// Applies a committee import document (see the module documentation) and answers the report
/// `{imported, created, updated}`. The `atr committees import` command uses it too.
pub async fn apply_committee_import(
    sql: &atr_store::sql::SqlStore,
    document: &CommitteeImport,
) -> Result<serde_json::Value, ApiError> {
    let mut committees: BTreeMap<CommitteeKey, Committee> = BTreeMap::new();
    for (index, imported) in document.committees.iter().enumerate() {
        if committees.contains_key(&imported.key) {
            return Err(field_error(
                &format!("committees[{index}].key"),
                format!("committee {} appears twice", imported.key),
            ));
        }
        let mut committee =
            Committee::new(imported.key.clone(), check_name(&format!("committees[{index}].name"), &imported.name)?);
        committee.podling = imported.podling;
        committee.parent.clone_from(&imported.parent);
        committee.pmc_members.clone_from(&imported.pmc_members);
        committee.committers.clone_from(&imported.committers);
        committee.release_managers.clone_from(&imported.release_managers);
        committees.insert(imported.key.clone(), committee);
    }
    for (index, imported) in document.committees.iter().enumerate() {
        let Some(parent) = &imported.parent else { continue };
        let field = format!("committees[{index}].parent");
        if parent == &imported.key {
            return Err(field_error(&field, "a committee cannot oversee itself"));
        }
        if !committees.contains_key(parent) && CommitteeRepository::get(sql, parent).await?.is_none() {
            return Err(field_error(&field, format!("committee {parent} is neither in the document nor known")));
        }
    }
    let (mut created, mut updated) = (Vec::new(), Vec::new());
    for committee in committees.values() {
        let known = CommitteeRepository::get(sql, &committee.key).await?.is_some();
        CommitteeRepository::put(sql, committee).await?;
        if known { &mut updated } else { &mut created }.push(committee.key.clone());
    }
    Ok(json!({ "imported": committees.len(), "created": created, "updated": updated }))
}
