//! CVE records: recorded on behalf of a project, linked to the releases they affect and to those
//! that resolve them, and read both ways.

use atr_api as api;
use atr_core::ports::PageRequest;
use atr_core::types::CveId;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

use super::super::{ProductQuery, SignedIn, json_error, now, project_key, query_error, release_key};
use super::ApiResult;
use crate::auth::Caller;
use crate::{ApiError, AppState};

fn cve_id(text: &str) -> ApiResult<CveId> {
    CveId::parse(text).map_err(|e| ApiError::bad_request(format!("id: {e}")))
}

/// Records a CVE, or updates its fields (its links are kept): 201 when new, 200 when updated.
pub(crate) async fn record(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((project, id)): Path<(String, String)>,
    body: Result<Json<api::CveFields>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<api::CveRecord>)> {
    let project = project_key(&project)?;
    let id = cve_id(&id)?;
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let recorded = state.services.record_cve(&caller, &project, body.into_record(id), now()).await?;
    let status = if recorded.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json((&recorded.record).into())))
}

/// One CVE record with the releases it affects and those that resolve it, as far as the caller
/// may read them.
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<api::CveRecord>> {
    let id = cve_id(&id)?;
    Ok(Json((&state.services.cve(&caller, &id, now()).await?).into()))
}

/// CVE records ordered by id.
pub(crate) async fn list(
    State(state): State<AppState>,
    page: Result<Query<api::PageQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<api::CveRecord>>> {
    let Query(page) = page.map_err(|e| query_error(&e))?;
    let after = page
        .after
        .as_deref()
        .map(|a| CveId::parse(a).map_err(|e| ApiError::bad_request(format!("after: {e}"))))
        .transpose()?;
    let request = PageRequest { after, limit: page.limit.unwrap_or(100) };
    Ok(Json(state.services.list_cves(request).await?.iter().map(api::CveRecord::from).collect()))
}

/// Links a recorded CVE to the release: it `affects` it, or the release `resolves` it.
pub(crate) async fn link(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((project, version)): Path<(String, String)>,
    query: Result<Query<ProductQuery>, QueryRejection>,
    body: Result<Json<api::NewCveLink>, JsonRejection>,
) -> ApiResult<Json<api::CveRecord>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let id = CveId::parse(&body.id).map_err(|e| ApiError::invalid(format!("id: {e}")))?;
    Ok(Json((&state.services.link_cve(&caller, &id, &key, body.link.into(), now()).await?).into()))
}

/// The CVEs that affect the release (`?link=affects`) or that it resolves (`?link=resolves`).
pub(crate) async fn for_release(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((project, version)): Path<(String, String)>,
    query: Result<Query<api::ReleaseCvesQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<api::CveRecord>>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let link = query.link.ok_or_else(|| ApiError::bad_request("link: say ?link=affects or ?link=resolves"))?;
    let records = state.services.release_cves(&caller, &key, link.into(), now()).await?;
    Ok(Json(records.iter().map(api::CveRecord::from).collect()))
}
