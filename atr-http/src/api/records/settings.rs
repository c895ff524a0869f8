//! Project settings: the vote policy, descriptive metadata, and the products with their own
//! metadata and policy overrides. The limits, permissions and events are the core's
//! (`atr_core::services`); these handlers parse, call, and answer.

use atr_core::model::{Metadata, Product, Project};
use atr_core::policy::PolicyOverrides;
use atr_core::services::{NewProduct as ProductRequest, ProductUpdate as ProductChange};
use atr_core::types::ProductKey;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::super::{SignedIn, json_error, now, project_key};
use super::ApiResult;
use crate::{ApiError, AppState};

/// Descriptive metadata of a project or product.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetadataBody {
    display_name: String,
    description: Option<String>,
    homepage: Option<String>,
    repository: Option<String>,
    issue_tracker: Option<String>,
}

impl From<MetadataBody> for Metadata {
    fn from(body: MetadataBody) -> Self {
        Metadata {
            display_name: body.display_name,
            description: body.description,
            homepage: body.homepage,
            repository: body.repository,
            issue_tracker: body.issue_tracker,
        }
    }
}

/// Replaces the project's vote policy settings (fields left out inherit the foundation default).
pub(crate) async fn policy(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(project): Path<String>,
    body: Result<Json<PolicyOverrides>, JsonRejection>,
) -> ApiResult<Json<Project>> {
    let key = project_key(&project)?;
    let Json(policy) = body.map_err(|e| json_error(&e))?;
    Ok(Json(state.services.set_project_policy(&caller, &key, policy, now()).await?))
}

/// Replaces the project's descriptive metadata.
pub(crate) async fn metadata(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(project): Path<String>,
    body: Result<Json<MetadataBody>, JsonRejection>,
) -> ApiResult<Json<Project>> {
    let key = project_key(&project)?;
    let Json(body) = body.map_err(|e| json_error(&e))?;
    Ok(Json(state.services.set_project_metadata(&caller, &key, body.into(), now()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewProduct {
    key: String,
    metadata: MetadataBody,
    /// Overrides of the project's policy; changing them also needs `manage_policy`.
    policy: Option<PolicyOverrides>,
}

/// Adds a product to the project: 201 with the product, 409 if the project has it already or a
/// release of the main product has a version named like it.
pub(crate) async fn add_product(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(project): Path<String>,
    body: Result<Json<NewProduct>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Product>)> {
    let key = project_key(&project)?;
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let product_key = ProductKey::parse(&body.key).map_err(|e| ApiError::invalid(format!("key: {e}")))?;
    let request = ProductRequest { key: product_key, metadata: body.metadata.into(), policy: body.policy };
    let product = state.services.add_product(&caller, &key, request, now()).await?;
    Ok((StatusCode::CREATED, Json(product)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProductUpdate {
    /// New metadata (needs `manage_metadata`).
    metadata: Option<MetadataBody>,
    /// New policy overrides, replacing the product's (needs `manage_policy`).
    policy: Option<PolicyOverrides>,
}

/// Replaces a product's metadata, its policy overrides, or both.
pub(crate) async fn put_product(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((project, product)): Path<(String, String)>,
    body: Result<Json<ProductUpdate>, JsonRejection>,
) -> ApiResult<Json<Product>> {
    let key = project_key(&project)?;
    let product_key = ProductKey::parse(&product).map_err(|e| ApiError::bad_request(format!("product: {e}")))?;
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let change = ProductChange { metadata: body.metadata.map(Metadata::from), policy: body.policy };
    Ok(Json(state.services.update_product(&caller, &key, &product_key, change, now()).await?))
}
