//! Project settings: the vote policy, descriptive metadata, the products with their own
//! metadata and policy overrides, and the check ignores. The limits, permissions and events are the core's
//! (`atr_core::services`); these handlers parse, call, and answer.

use atr_api as api;
use atr_core::model::{CheckIgnore, Metadata, RevisionNumber};
use atr_core::services::{NewProduct as ProductRequest, ProductUpdate as ProductChange};
use atr_core::types::ProductKey;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::super::{SignedIn, json_error, now, project_key};
use super::ApiResult;
use crate::{ApiError, AppState};

/// Replaces the project's vote policy settings (fields left out inherit the foundation default).
pub(crate) async fn policy(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(project): Path<String>,
    body: Result<Json<api::PolicyOverrides>, JsonRejection>,
) -> ApiResult<Json<api::Project>> {
    let key = project_key(&project)?;
    let Json(policy) = body.map_err(|e| json_error(&e))?;
    Ok(Json((&state.services.set_project_policy(&caller, &key, policy.into(), now()).await?).into()))
}

/// Replaces the project's descriptive metadata.
pub(crate) async fn metadata(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(project): Path<String>,
    body: Result<Json<api::MetadataUpdate>, JsonRejection>,
) -> ApiResult<Json<api::Project>> {
    let key = project_key(&project)?;
    let Json(body) = body.map_err(|e| json_error(&e))?;
    Ok(Json((&state.services.set_project_metadata(&caller, &key, body.into(), now()).await?).into()))
}

/// Adds a product to the project: 201 with the product, 409 if the project has it already or a
/// release of the main product has a version named like it.
pub(crate) async fn add_product(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(project): Path<String>,
    body: Result<Json<api::NewProduct>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<api::Product>)> {
    let key = project_key(&project)?;
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let product_key = ProductKey::parse(&body.key).map_err(|e| ApiError::invalid(format!("key: {e}")))?;
    let request =
        ProductRequest { key: product_key, metadata: body.metadata.into(), policy: body.policy.map(Into::into) };
    let product = state.services.add_product(&caller, &key, request, now()).await?;
    Ok((StatusCode::CREATED, Json((&product).into())))
}

/// Replaces a product's metadata, its policy overrides, or both.
pub(crate) async fn put_product(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((project, product)): Path<(String, String)>,
    body: Result<Json<api::ProductUpdate>, JsonRejection>,
) -> ApiResult<Json<api::Product>> {
    let key = project_key(&project)?;
    let product_key = ProductKey::parse(&product).map_err(|e| ApiError::bad_request(format!("product: {e}")))?;
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let change = ProductChange { metadata: body.metadata.map(Metadata::from), policy: body.policy.map(Into::into) };
    Ok(Json((&state.services.update_product(&caller, &key, &product_key, change, now()).await?).into()))
}

/// The project's check ignores, oldest first.
pub(crate) async fn ignores(
    State(state): State<AppState>,
    Path(project): Path<String>,
) -> ApiResult<Json<Vec<api::CheckIgnore>>> {
    let key = project_key(&project)?;
    Ok(Json(state.services.list_ignores(&key).await?.iter().map(api::CheckIgnore::from).collect()))
}

/// Adds a check ignore: 201 with the ignore and its id.
pub(crate) async fn add_ignore(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(project): Path<String>,
    body: Result<Json<api::NewIgnore>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<api::CheckIgnore>)> {
    let key = project_key(&project)?;
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let revision = body
        .revision
        .map(|n| RevisionNumber::new(n).ok_or_else(|| ApiError::invalid("revision: numbers start at 1")))
        .transpose()?;
    let ignore = CheckIgnore {
        version_glob: body.version_glob,
        revision,
        checker_glob: body.checker_glob,
        path_glob: body.path_glob,
        member_glob: body.member_glob,
        status: body.status.map(Into::into),
        message_glob: body.message_glob,
        ..CheckIgnore::new(key.clone(), body.reason)
    };
    let added = state.services.add_ignore(&caller, &key, ignore, now()).await?;
    Ok((StatusCode::CREATED, Json((&added).into())))
}

/// Deletes a check ignore and answers it.
pub(crate) async fn delete_ignore(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((project, id)): Path<(String, String)>,
) -> ApiResult<Json<api::CheckIgnore>> {
    let key = project_key(&project)?;
    let id: u64 = id.parse().map_err(|_| ApiError::bad_request("id: an ignore's id is a positive number"))?;
    Ok(Json((&state.services.delete_ignore(&caller, &key, id, now()).await?).into()))
}
