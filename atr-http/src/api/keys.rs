//! Signing keys: one key, the keys of a committee or a person, a committee's KEYS file, adding
//! one key or importing a whole KEYS file, linking a key to another committee, and deleting a key
//! no release used.
//!
//! Bodies that carry keys are raw OpenPGP data, not JSON: send the ASCII-armored key (or a whole
//! KEYS file) as the request body, ideally with `Content-Type: application/pgp-keys`. One key is
//! at most 1 MiB, a KEYS file at most 16 MiB.

use atr_api as api;
use atr_core::model::key::ReadKeys;
use atr_core::services::{KeyRefusal, ServiceError};
use atr_core::types::{CommitteeKey, Fingerprint, Timestamp, UserId};
use atr_tasks::analyze::signature::{MAX_KEYS_FILE_BYTES, SignaturePolicy, read_keys};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::{SignedIn, now};
use crate::auth::Caller;
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
pub(crate) async fn parse_keys(bytes: Bytes, now: Timestamp) -> ApiResult<ReadKeys> {
    tokio::task::spawn_blocking(move || read_keys(&bytes, &SignaturePolicy::default(), now))
        .await
        .map_err(|e| ApiError::internal(&e))
}

/// `GET /api/keys/{fingerprint}`: one key, with its armored form.
pub(crate) async fn key(State(state): State<AppState>, Path(fp): Path<String>) -> ApiResult<Json<api::SigningKey>> {
    let fp = fingerprint(&fp)?;
    Ok(Json(api::SigningKey::full(&state.services.signing_key(&fp).await?)))
}

/// `GET /api/keys/{fingerprint}/releases`: the releases the key signed, as far as the caller may
/// read them.
pub(crate) async fn releases_signed(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(fp): Path<String>,
) -> ApiResult<Json<Vec<api::ReleaseKey>>> {
    let fp = fingerprint(&fp)?;
    let signed = state.services.key_releases(&caller, &fp, now()).await?;
    Ok(Json(signed.iter().map(api::ReleaseKey::from).collect()))
}

/// `GET /api/committees/{key}/keys`: the committee's keys, by fingerprint.
pub(crate) async fn committee_keys(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<Json<Vec<api::SigningKey>>> {
    let key = committee_key(&key)?;
    let keys = state.services.committee_keys(&key).await?;
    Ok(Json(keys.iter().map(api::SigningKey::summary).collect()))
}

/// `GET /api/users/{id}/keys`: the keys a person owns.
pub(crate) async fn user_keys(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<api::SigningKey>>> {
    let id = UserId::parse(&id).map_err(|e| ApiError::bad_request(format!("user: {e}")))?;
    let keys = state.services.person_keys(&id).await?;
    Ok(Json(keys.iter().map(api::SigningKey::summary).collect()))
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
) -> ApiResult<(StatusCode, Json<api::SigningKey>)> {
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
    Ok((status, Json(api::SigningKey::full(&added.key))))
}

/// `POST /api/committees/{key}/keys/import`: adds every usable key of a KEYS file (the raw body)
/// and links it to the committee, answering what happened to each key. Needs `manage keys`.
pub(crate) async fn import_keys(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<api::KeyImportReport>> {
    let key = committee_key(&key)?;
    let body = raw_body(body, MAX_KEYS_FILE_BYTES)?;
    let at = now();
    let read = parse_keys(body, at).await?;
    Ok(Json((&state.services.import_keys(&caller, &key, read, at).await?).into()))
}

/// `PUT /api/committees/{key}/keys/{fingerprint}`: links a known key to another committee.
pub(crate) async fn link_key(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((key, fp)): Path<(String, String)>,
) -> ApiResult<Json<api::SigningKey>> {
    let committee = committee_key(&key)?;
    let fp = fingerprint(&fp)?;
    Ok(Json(api::SigningKey::full(&state.services.link_key(&caller, &fp, &committee, now()).await?)))
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
