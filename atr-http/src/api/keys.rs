//! Signing keys: one key, the keys of a committee or a person, a committee's KEYS file, adding
//! one key or importing a whole KEYS file, linking a key to another committee, and deleting a key
//! no release used.
//!
//! Bodies that carry keys are raw OpenPGP data, not JSON: send the ASCII-armored key (or a whole
//! KEYS file) as the request body, ideally with `Content-Type: application/pgp-keys`. One key is
//! at most 1 MiB, a KEYS file at most 16 MiB.

use std::collections::BTreeSet;

use atr_core::model::key::ReadKeys;
use atr_core::model::{ReleaseKey, SigningKey};
use atr_core::services::{ImportedKey, KeyImport, KeyRefusal, RejectedKey, ServiceError};
use atr_core::types::{CommitteeKey, Fingerprint, Timestamp, UserId};
use atr_tasks::analyze::signature::{MAX_KEYS_FILE_BYTES, SignaturePolicy, read_keys};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;

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

impl From<ImportedKey> for Imported {
    fn from(key: ImportedKey) -> Self {
        Self { fingerprint: key.fingerprint, owner: key.owner, user_ids: key.user_ids, note: key.note }
    }
}

impl From<RejectedKey> for Rejected {
    fn from(key: RejectedKey) -> Self {
        Self { fingerprint: key.fingerprint, user_ids: key.user_ids, reason: key.reason }
    }
}

impl From<KeyImport> for ImportReport {
    fn from(report: KeyImport) -> Self {
        Self {
            added: report.added.into_iter().map(Imported::from).collect(),
            updated: report.updated.into_iter().map(Imported::from).collect(),
            rejected: report.rejected.into_iter().map(Rejected::from).collect(),
        }
    }
}

fn fingerprint(text: &str) -> ApiResult<Fingerprint> {
    Fingerprint::parse(text).map_err(|e| ApiError::bad_request(format!("fingerprint: {e}")))
}

fn committee_key(text: &str) -> ApiResult<CommitteeKey> {
    CommitteeKey::parse(text).map_err(|e| ApiError::bad_request(format!("committee: {e}")))
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
async fn parse_keys(bytes: Bytes, now: Timestamp) -> ApiResult<ReadKeys> {
    tokio::task::spawn_blocking(move || read_keys(&bytes, &SignaturePolicy::default(), now))
        .await
        .map_err(|e| ApiError::internal(&e))
}

/// `GET /api/keys/{fingerprint}`: one key, with its armored form.
pub(crate) async fn key(State(state): State<AppState>, Path(fp): Path<String>) -> ApiResult<Json<KeyView>> {
    let fp = fingerprint(&fp)?;
    Ok(Json(KeyView::full(state.services.signing_key(&fp).await?)))
}

/// `GET /api/keys/{fingerprint}/releases`: the releases the key signed.
pub(crate) async fn releases_signed(
    State(state): State<AppState>,
    Path(fp): Path<String>,
) -> ApiResult<Json<Vec<ReleaseKey>>> {
    let fp = fingerprint(&fp)?;
    Ok(Json(state.services.key_releases(&fp).await?))
}

/// `GET /api/committees/{key}/keys`: the committee's keys, by fingerprint.
pub(crate) async fn committee_keys(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<Json<Vec<KeyView>>> {
    let key = committee_key(&key)?;
    let keys = state.services.committee_keys(&key).await?;
    Ok(Json(keys.into_iter().map(KeyView::summary).collect()))
}

/// `GET /api/users/{id}/keys`: the keys a person owns.
pub(crate) async fn user_keys(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Vec<KeyView>>> {
    let id = UserId::parse(&id).map_err(|e| ApiError::bad_request(format!("user: {e}")))?;
    let keys = state.services.person_keys(&id).await?;
    Ok(Json(keys.into_iter().map(KeyView::summary).collect()))
}

/// `GET /api/committees/{key}/KEYS`: the committee's KEYS file, generated from the database.
pub(crate) async fn keys_file(State(state): State<AppState>, Path(key): Path<String>) -> ApiResult<Response> {
    let key = committee_key(&key)?;
    let text = state.services.committee_keys_file(&key).await?;
    let content_type = HeaderValue::from_static("text/plain; charset=utf-8");
    Ok(([(header::CONTENT_TYPE, content_type)], text).into_response())
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
    let body = raw_body(body, MAX_KEY_BYTES)?;
    let at = now();
    let read = parse_keys(body, at).await?;
    let added = state.services.add_one_key(&caller, &committee, read, at).await.map_err(|error| match error {
        ServiceError::Key(KeyRefusal::SeveralKeys(n)) => ApiError::invalid(format!(
            "the body holds {n} keys; send one, or import a KEYS file with POST /api/committees/{committee}/keys/import"
        )),
        other => other.into(),
    })?;
    let status = if added.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(KeyView::full(added.key))))
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
    let body = raw_body(body, MAX_KEYS_FILE_BYTES)?;
    let at = now();
    let read = parse_keys(body, at).await?;
    Ok(Json(state.services.import_keys(&caller, &key, read, at).await?.into()))
}

/// `PUT /api/committees/{key}/keys/{fingerprint}`: links a known key to another committee.
pub(crate) async fn link_key(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((key, fp)): Path<(String, String)>,
) -> ApiResult<Json<KeyView>> {
    let committee = committee_key(&key)?;
    let fp = fingerprint(&fp)?;
    Ok(Json(KeyView::full(state.services.link_key(&caller, &fp, &committee, now()).await?)))
}

/// `DELETE /api/keys/{fingerprint}`: deletes a key no release used (204); 409 names the releases
/// that used it.
pub(crate) async fn delete_key(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(fp): Path<String>,
) -> ApiResult<StatusCode> {
    let fp = fingerprint(&fp)?;
    state.services.delete_key(&caller, &fp, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
