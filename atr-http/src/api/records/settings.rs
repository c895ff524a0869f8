//! Project settings: the vote policy, descriptive metadata, and the products with their own
//! metadata and policy overrides.

use atr_core::auth::Activity;
use atr_core::model::{EventKind, Metadata, NewEvent, Product, Project};
use atr_core::policy::{PolicyOverrides, VotePolicy};
use atr_core::ports::{EventRepository, ProjectRepository};
use atr_core::types::{ProductKey, ProjectKey};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::super::{SignedIn, json_error, now, project_key};
use super::{ApiResult, actor, authorize_project, permit};
use crate::{ApiError, AppState};

/// Longest display name accepted, in bytes.
const MAX_NAME_LEN: usize = 200;
/// Longest description accepted, in bytes.
const MAX_DESCRIPTION_LEN: usize = 16 * 1024;
/// Longest link accepted, in bytes.
const MAX_URL_LEN: usize = 2048;

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

impl MetadataBody {
    /// The metadata, or a 422 naming the field that does not fit.
    fn validate(self, prefix: &str) -> ApiResult<Metadata> {
        let display_name = self.display_name.trim().to_owned();
        if display_name.is_empty() || display_name.len() > MAX_NAME_LEN {
            return Err(ApiError::invalid(format!("{prefix}display_name must be 1 to {MAX_NAME_LEN} bytes")));
        }
        if self.description.as_ref().is_some_and(|d| d.len() > MAX_DESCRIPTION_LEN) {
            return Err(ApiError::invalid(format!("{prefix}description is longer than {MAX_DESCRIPTION_LEN} bytes")));
        }
        for (field, value) in
            [("homepage", &self.homepage), ("repository", &self.repository), ("issue_tracker", &self.issue_tracker)]
        {
            if let Some(url) = value {
                let web = url.starts_with("https://") || url.starts_with("http://");
                if !web || url.len() > MAX_URL_LEN || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(ApiError::invalid(format!(
                        "{prefix}{field} must be an http(s) URL of at most {MAX_URL_LEN} bytes"
                    )));
                }
            }
        }
        Ok(Metadata {
            display_name,
            description: self.description,
            homepage: self.homepage,
            repository: self.repository,
            issue_tracker: self.issue_tracker,
        })
    }
}

/// Checks a product's policy overrides on their own and in force over the project's.
fn check_product_policy(project: &Project, policy: &PolicyOverrides) -> ApiResult<()> {
    let invalid = |e: atr_core::policy::PolicyError| ApiError::invalid(format!("policy: {e}"));
    policy.validate().map_err(invalid)?;
    PolicyOverrides::resolve(&VotePolicy::foundation_default(), &[&project.policy, policy]).map_err(invalid)?;
    Ok(())
}

async fn emit(
    state: &AppState,
    caller: &atr_core::auth::Principal,
    project: &ProjectKey,
    product: Option<&ProductKey>,
    kind: EventKind,
) -> ApiResult<()> {
    let mut event = NewEvent::for_project(now(), actor(caller), project, kind);
    event.product = product.cloned();
    EventRepository::append(&state.storage.sql, &event).await?;
    Ok(())
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
    let (mut project, _) = authorize_project(&state, &caller, Activity::ManageMetadata, &key).await?;
    project.metadata = body.validate("")?;
    ProjectRepository::update(&state.storage.sql, &project).await?;
    emit(&state, &caller, &key, None, EventKind::MetadataChanged).await?;
    Ok(Json(project))
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
    let (mut project, committee) = authorize_project(&state, &caller, Activity::ManageMetadata, &key).await?;
    let policy = body.policy.unwrap_or_default();
    let sets_policy = policy != PolicyOverrides::default();
    if sets_policy {
        permit(&caller, Activity::ManagePolicy, &key, &committee)?;
    }
    let metadata = body.metadata.validate("metadata.")?;
    check_product_policy(&project, &policy)?;
    if project.has_product(&product_key) {
        return Err(ApiError::conflict(format!("project {key} already has a product {product_key}")));
    }
    let product = Product { key: product_key.clone(), metadata, policy };
    project.products.push(product.clone());
    ProjectRepository::update(&state.storage.sql, &project).await?;
    emit(&state, &caller, &key, Some(&product_key), EventKind::MetadataChanged).await?;
    if sets_policy {
        emit(&state, &caller, &key, Some(&product_key), EventKind::PolicyChanged).await?;
    }
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
    if body.metadata.is_none() && body.policy.is_none() {
        return Err(ApiError::invalid("send metadata, policy, or both"));
    }
    let first = if body.metadata.is_some() { Activity::ManageMetadata } else { Activity::ManagePolicy };
    let (mut project, committee) = authorize_project(&state, &caller, first, &key).await?;
    if body.metadata.is_some() && body.policy.is_some() {
        permit(&caller, Activity::ManagePolicy, &key, &committee)?;
    }
    let metadata = body.metadata.map(|m| m.validate("metadata.")).transpose()?;
    if let Some(policy) = &body.policy {
        check_product_policy(&project, policy)?;
    }
    let Some(product) = project.products.iter_mut().find(|p| p.key == product_key) else {
        return Err(ApiError::not_found(format!("product {product_key} of project {key} not found")));
    };
    let changed_metadata = metadata.is_some();
    if let Some(metadata) = metadata {
        product.metadata = metadata;
    }
    let changed_policy = body.policy.is_some();
    if let Some(policy) = body.policy {
        product.policy = policy;
    }
    let updated = product.clone();
    ProjectRepository::update(&state.storage.sql, &project).await?;
    if changed_metadata {
        emit(&state, &caller, &key, Some(&product_key), EventKind::MetadataChanged).await?;
    }
    if changed_policy {
        emit(&state, &caller, &key, Some(&product_key), EventKind::PolicyChanged).await?;
    }
    Ok(Json(updated))
}
