//! Signing keys: one key, the keys of a committee or a person, a committee's KEYS file, adding
//! one key or importing a whole KEYS file, linking a key to another committee, and deleting a key
//! no release used.
//!
//! Bodies that carry keys are raw OpenPGP data, not JSON: send the ASCII-armored key (or a whole
//! KEYS file) as the request body, ideally with `Content-Type: application/pgp-keys`. One key is
//! at most 1 MiB, a KEYS file at most 16 MiB.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use atr_core::auth::{self, Activity, Principal, Target};
use atr_core::model::{ReleaseKey, SigningKey};
use atr_core::ports::{CommitteeRepository, KeyRepository};
use atr_core::services::ServiceError;
use atr_core::types::{CommitteeKey, Fingerprint, Timestamp, UserId};
use atr_tasks::analyze::signature::{KeyNote, KeyOutcome, KeyRing, MAX_KEYS_FILE_BYTES, SignaturePolicy};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use serde_json::json;

use super::{SignedIn, now};
use crate::routes::Routes;
use crate::{ApiError, AppState};

type ApiResult<T> = Result<T, ApiError>;

/// The largest body of `POST /api/committees/{key}/keys`: one armored key.
pub(crate) const MAX_KEY_BYTES: usize = 1 << 20;

/// The routes of this part of the API, registered from the catalogue of `atr-api`.
pub(crate) fn routes() -> Routes {
    use atr_api::endpoints as op;
    Routes::new()
        .serve(op::GetKey, key)
        .serve(op::DeleteKey, delete_key)
        .serve(op::ReleasesSigned, releases_signed)
        .serve(op::CommitteeKeys, committee_keys)
        .serve_with(op::AddKey, add_key, |route| route.layer(DefaultBodyLimit::max(MAX_KEY_BYTES)))
        .serve_with(op::ImportKeys, import_keys, |route| route.layer(DefaultBodyLimit::max(MAX_KEYS_FILE_BYTES)))
        .serve(op::LinkKey, link_key)
        .serve(op::GetKeysFile, keys_file)
        .serve(op::UserKeys, user_keys)
}

/// A signing key as the API shows it. Listings leave out the armored key; the KEYS file and the
/// single key carry it.
#[derive(Debug, Serialize)]
pub(crate) struct KeyView {
    fingerprint: Fingerprint,
    key_id: String,
    owner: Option<UserId>,
    algorithm: String,
    bits: Option<u32>,
    created_at: Timestamp,
    expires_at: Option<Timestamp>,
    revoked: bool,
    user_ids: Vec<String>,
    committees: BTreeSet<CommitteeKey>,
    added_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    armored: Option<String>,
}

impl KeyView {
    fn full(key: SigningKey) -> Self {
        let armored = Some(key.armored.clone());
        Self { armored, ..Self::summary(key) }
    }

    fn summary(key: SigningKey) -> Self {
        Self {
            key_id: key.fingerprint.key_id().to_hex(),
            fingerprint: key.fingerprint,
            owner: key.owner,
            algorithm: key.algorithm,
            bits: key.bits,
            created_at: key.created_at,
            expires_at: key.expires_at,
            revoked: key.revoked,
            user_ids: key.user_ids,
            committees: key.committees,
            added_at: key.added_at,
            armored: None,
        }
    }
}

/// One key of an import that went in.
#[derive(Debug, Serialize)]
pub(crate) struct Imported {
    fingerprint: Fingerprint,
    owner: Option<UserId>,
    user_ids: Vec<String>,
    /// What the KEYS reader noted, such as where the key starts and whether it expired.
    note: String,
}

/// One key (or unreadable block) of an import that did not go in on its own: an unusable key, a
/// damaged block, or a second copy of a key (merged into the first, which is reported as added).
#[derive(Debug, Serialize)]
pub(crate) struct Rejected {
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<Fingerprint>,
    user_ids: Vec<String>,
    reason: String,
}

/// What an import did, key by key.
#[derive(Debug, Default, Serialize)]
pub(crate) struct ImportReport {
    added: Vec<Imported>,
    updated: Vec<Imported>,
    rejected: Vec<Rejected>,
}

fn fingerprint(text: &str) -> ApiResult<Fingerprint> {
    Fingerprint::parse(text).map_err(|e| ApiError::bad_request(format!("fingerprint: {e}")))
}

fn committee_key(text: &str) -> ApiResult<CommitteeKey> {
    CommitteeKey::parse(text).map_err(|e| ApiError::bad_request(format!("committee: {e}")))
}

async fn committee(state: &AppState, key: &CommitteeKey) -> ApiResult<atr_core::model::Committee> {
    CommitteeRepository::get(&state.storage.sql, key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("committee {key} not found")))
}

async fn load_key(state: &AppState, fingerprint: &Fingerprint) -> ApiResult<SigningKey> {
    KeyRepository::get(&state.storage.sql, fingerprint)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("key {fingerprint} not found")))
}

/// The raw body, or 413 past the route's limit.
fn raw_body(body: Result<Bytes, BytesRejection>, limit: usize) -> ApiResult<Bytes> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("the body is larger than {limit} bytes"))
        } else {
            ApiError::bad_request(format!("the body could not be read: {}", rejection.body_text()))
        }
    })
}

/// Reads OpenPGP keys (off the async threads: a KEYS file may hold thousands).
async fn parse_keys(bytes: Bytes, now: Timestamp) -> ApiResult<(Vec<SigningKey>, Vec<KeyNote>)> {
    tokio::task::spawn_blocking(move || {
        let (ring, notes) = KeyRing::parse(&bytes, &SignaturePolicy::default());
        (ring.signing_keys(now), notes)
    })
    .await
    .map_err(|e| ApiError::internal(&e))
}

/// Prepares a parsed key for storing over `existing`: an owner already recorded (perhaps set by
/// an admin) and the first time the key was added are kept.
fn over_existing(mut key: SigningKey, existing: Option<&SigningKey>) -> SigningKey {
    if let Some(existing) = existing {
        if existing.owner.is_some() {
            key.owner.clone_from(&existing.owner);
        }
        key.added_at = existing.added_at;
    }
    key
}

/// `GET /api/keys/{fingerprint}`: one key, with its armored form.
pub(crate) async fn key(State(state): State<AppState>, Path(fp): Path<String>) -> ApiResult<Json<KeyView>> {
    let fp = fingerprint(&fp)?;
    Ok(Json(KeyView::full(load_key(&state, &fp).await?)))
}

/// `GET /api/keys/{fingerprint}/releases`: the releases the key signed.
pub(crate) async fn releases_signed(
    State(state): State<AppState>,
    Path(fp): Path<String>,
) -> ApiResult<Json<Vec<ReleaseKey>>> {
    let fp = fingerprint(&fp)?;
    load_key(&state, &fp).await?;
    Ok(Json(KeyRepository::releases_signed(&state.storage.sql, &fp).await?))
}

/// `GET /api/committees/{key}/keys`: the committee's keys, by fingerprint.
pub(crate) async fn committee_keys(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<Json<Vec<KeyView>>> {
    let key = committee_key(&key)?;
    committee(&state, &key).await?;
    let keys = KeyRepository::by_committee(&state.storage.sql, &key).await?;
    Ok(Json(keys.into_iter().map(KeyView::summary).collect()))
}

/// `GET /api/users/{id}/keys`: the keys a person owns.
pub(crate) async fn user_keys(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Vec<KeyView>>> {
    let id = UserId::parse(&id).map_err(|e| ApiError::bad_request(format!("user: {e}")))?;
    let keys = KeyRepository::by_owner(&state.storage.sql, &id).await?;
    Ok(Json(keys.into_iter().map(KeyView::summary).collect()))
}

/// Text safe for a comment line of a KEYS file: control characters (a line break in a user id
/// could forge an armor line) become spaces.
fn comment_text(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The date part of a timestamp, `YYYY-MM-DD`.
fn date(at: Timestamp) -> String {
    let text = at.to_string();
    text.split('T').next().unwrap_or(&text).to_owned()
}

/// A committee's KEYS file: a header, then each key's armored block preceded by comment lines
/// in the style of `gpg --list-keys`.
pub(crate) fn render_keys_file(committee: &atr_core::model::Committee, keys: &[SigningKey]) -> String {
    let mut out = String::new();
    let _ =
        writeln!(out, "This file contains the OpenPGP keys of {} ({}).", comment_text(&committee.name), committee.key);
    out.push_str(
        "Use them to verify the signatures of its releases; import them with `gpg --import KEYS`.\n\
         It is generated from the committee's keys in ATR: change the keys there, not here.\n\n",
    );
    for key in keys {
        let mut flags = String::new();
        if key.revoked {
            flags.push_str(" [revoked]");
        }
        if let Some(expires) = key.expires_at {
            let _ = write!(flags, " [expires: {}]", date(expires));
        }
        let bits = key.bits.map_or_else(String::new, |b| b.to_string());
        let algorithm = comment_text(&key.algorithm.to_ascii_lowercase());
        let _ = writeln!(out, "pub   {algorithm}{bits} {}{flags}", date(key.created_at));
        let _ = writeln!(out, "      {}", key.fingerprint);
        for uid in &key.user_ids {
            let _ = writeln!(out, "uid   {}", comment_text(uid));
        }
        out.push('\n');
        out.push_str(key.armored.trim_end());
        out.push_str("\n\n");
    }
    out
}

/// `GET /api/committees/{key}/KEYS`: the committee's KEYS file, generated from the database.
pub(crate) async fn keys_file(State(state): State<AppState>, Path(key): Path<String>) -> ApiResult<Response> {
    let key = committee_key(&key)?;
    let committee = committee(&state, &key).await?;
    let keys = KeyRepository::by_committee(&state.storage.sql, &key).await?;
    let text = render_keys_file(&committee, &keys);
    let content_type = HeaderValue::from_static("text/plain; charset=utf-8");
    Ok(([(header::CONTENT_TYPE, content_type)], text).into_response())
}

/// Why no key of a body could be used, from the reader's notes.
fn no_usable_key(notes: &[KeyNote]) -> ApiError {
    let reasons: Vec<&str> =
        notes.iter().filter(|n| n.outcome == KeyOutcome::Skipped).map(|n| n.reason.as_str()).collect();
    let message = if reasons.is_empty() {
        "the body holds no OpenPGP public key; send an ASCII-armored public key".to_owned()
    } else {
        format!("the body holds no usable OpenPGP public key: {}", reasons.join("; "))
    };
    let details: Vec<_> = notes
        .iter()
        .map(|n| json!({ "fingerprint": n.fingerprint, "user_ids": n.user_ids, "reason": n.reason }))
        .collect();
    ApiError::invalid(message).with_details(json!({ "keys": details }))
}

/// `POST /api/committees/{key}/keys`: adds one key (the raw armored key as the body) and links
/// it to the committee. The caller's own key (by an `@apache.org` user id) needs `manage own key`;
/// anyone else's `manage keys`. 201 for a new key, 200 for a key already known (its material and
/// user ids are updated).
pub(crate) async fn add_key(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<KeyView>)> {
    let committee = committee_key(&key)?;
    self::committee(&state, &committee).await?;
    let body = raw_body(body, MAX_KEY_BYTES)?;
    let at = now();
    let (mut keys, notes) = parse_keys(body, at).await?;
    if keys.len() > 1 {
        return Err(ApiError::invalid(format!(
            "the body holds {} keys; send one, or import a KEYS file with POST /api/committees/{committee}/keys/import",
            keys.len()
        )));
    }
    let Some(parsed) = keys.pop() else {
        return Err(no_usable_key(&notes));
    };
    let existing = KeyRepository::get(&state.storage.sql, &parsed.fingerprint).await?;
    let status = if existing.is_some() { StatusCode::OK } else { StatusCode::CREATED };
    let parsed = over_existing(parsed, existing.as_ref());
    let stored = state.services.add_key(&caller, parsed, &committee, at).await?;
    let stored = KeyRepository::get(&state.storage.sql, &stored.fingerprint).await?.unwrap_or(stored);
    Ok((status, Json(KeyView::full(stored))))
}

/// Checks up front that the caller may manage anyone's keys for the committee, so an import is
/// refused whole (naming `manage keys`) rather than key by key.
fn may_manage_keys(caller: &Principal, committee: &atr_core::model::Committee, at: Timestamp) -> ApiResult<()> {
    let target = Target::Key { owner: None, committee, project: None };
    auth::authorize(caller, Activity::ManageKeys, &target, at)?;
    Ok(())
}

/// `POST /api/committees/{key}/keys/import`: adds every usable key of a KEYS file (the raw body)
/// and links it to the committee, answering what happened to each key. Needs `manage keys`.
pub(crate) async fn import_keys(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ImportReport>> {
    let key = committee_key(&key)?;
    let committee = committee(&state, &key).await?;
    let at = now();
    may_manage_keys(&caller, &committee, at)?;
    let body = raw_body(body, MAX_KEYS_FILE_BYTES)?;
    let (keys, notes) = parse_keys(body, at).await?;
    let mut report = ImportReport::default();
    for note in &notes {
        if note.outcome == KeyOutcome::Skipped {
            report.rejected.push(Rejected {
                fingerprint: note.fingerprint.clone(),
                user_ids: note.user_ids.clone(),
                reason: note.reason.clone(),
            });
        }
    }
    for parsed in keys {
        let note = notes
            .iter()
            .find(|n| n.outcome == KeyOutcome::Added && n.fingerprint.as_ref() == Some(&parsed.fingerprint))
            .map_or_else(|| "added".to_owned(), |n| n.reason.clone());
        let existing = KeyRepository::get(&state.storage.sql, &parsed.fingerprint).await?;
        let parsed = over_existing(parsed, existing.as_ref());
        let (fingerprint, user_ids) = (parsed.fingerprint.clone(), parsed.user_ids.clone());
        match state.services.add_key(&caller, parsed, &key, at).await {
            Ok(stored) => {
                let entry = Imported { fingerprint, owner: stored.owner, user_ids, note };
                if existing.is_some() { report.updated.push(entry) } else { report.added.push(entry) }
            }
            // The store refused this key (say, a field it cannot hold): the others still go in.
            Err(ServiceError::Invalid(reason)) => {
                report.rejected.push(Rejected { fingerprint: Some(fingerprint), user_ids, reason });
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(Json(report))
}

/// `PUT /api/committees/{key}/keys/{fingerprint}`: links a known key to another committee.
pub(crate) async fn link_key(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((key, fp)): Path<(String, String)>,
) -> ApiResult<Json<KeyView>> {
    let committee = committee_key(&key)?;
    let fp = fingerprint(&fp)?;
    state.services.link_key(&caller, &fp, &committee, now()).await?;
    Ok(Json(KeyView::full(load_key(&state, &fp).await?)))
}

/// `DELETE /api/keys/{fingerprint}`: deletes a key no release used (204); 409 names the releases
/// that used it.
pub(crate) async fn delete_key(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(fp): Path<String>,
) -> ApiResult<StatusCode> {
    let fp = fingerprint(&fp)?;
    match state.services.delete_key(&caller, &fp, now()).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(ServiceError::Conflict(what)) => {
            let releases = KeyRepository::releases_signed(&state.storage.sql, &fp).await?;
            Err(ApiError::conflict(format!("the key cannot be deleted: {what}"))
                .with_details(json!({ "releases": releases })))
        }
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use atr_core::model::Committee;

    use super::*;

    fn key(armored: &str, user_ids: &[&str]) -> SigningKey {
        SigningKey {
            fingerprint: Fingerprint::parse(&"AB".repeat(20)).unwrap(),
            owner: None,
            algorithm: "RSA".into(),
            bits: Some(4096),
            created_at: Timestamp::from_unix(1_546_300_800),
            expires_at: Some(Timestamp::from_unix(1_704_067_200)),
            revoked: true,
            user_ids: user_ids.iter().map(|&u| u.to_owned()).collect(),
            armored: armored.into(),
            committees: BTreeSet::new(),
            added_at: Timestamp::from_unix(0),
        }
    }

    #[test]
    fn keys_file_comments_each_key() {
        let httpd = Committee::new(CommitteeKey::parse("httpd").unwrap(), "Apache HTTP Server");
        let armored = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n";
        let text = render_keys_file(&httpd, &[key(armored, &["Jane <jane@apache.org>"])]);
        assert!(text.starts_with("This file contains the OpenPGP keys of Apache HTTP Server (httpd).\n"));
        let expected = format!(
            "pub   rsa4096 2019-01-01 [revoked] [expires: 2024-01-01]\n      {}\nuid   Jane <jane@apache.org>\n\n{armored}\n",
            "AB".repeat(20)
        );
        assert!(text.ends_with(&expected), "{text}");
    }

    #[test]
    fn user_ids_cannot_forge_lines() {
        let httpd = Committee::new(CommitteeKey::parse("httpd").unwrap(), "HTTP\nServer");
        let text = render_keys_file(&httpd, &[key("", &["x\n-----BEGIN PGP PUBLIC KEY BLOCK-----"])]);
        assert!(text.lines().all(|l| !l.starts_with("-----BEGIN")), "{text}");
        assert!(text.contains("uid   x -----BEGIN PGP PUBLIC KEY BLOCK-----\n"));
    }
}
