//! CVE records: recorded on behalf of a project, linked to the releases they affect and to those
//! that resolve them, and read both ways.

use atr_core::model::{CveLink, CveRecord, Cvss, Severity};
use atr_core::ports::PageRequest;
use atr_core::types::{CveId, Timestamp};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::super::{ProductQuery, SignedIn, json_error, now, project_key, query_error, release_key};
use super::ApiResult;
use crate::{ApiError, AppState};

fn cve_id(text: &str) -> ApiResult<CveId> {
    CveId::parse(text).map_err(|e| ApiError::bad_request(format!("id: {e}")))
}

fn link_of(text: &str) -> Option<CveLink> {
    match text {
        "affects" => Some(CveLink::Affects),
        "resolves" => Some(CveLink::Resolves),
        _ => None,
    }
}

/// A CVSS score in tenths (98 for 9.8) and its vector.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CvssBody {
    score_tenths: u8,
    vector: String,
}

/// The fields of a CVE record; its id is in the path and its links are kept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CveBody {
    title: String,
    #[serde(default)]
    description: String,
    severity: Option<Severity>,
    cvss: Option<CvssBody>,
    #[serde(default)]
    references: Vec<String>,
    published_at: Option<Timestamp>,
}

impl CveBody {
    /// The record these fields make; the services check them against the limits.
    fn into_record(self, id: CveId) -> CveRecord {
        CveRecord {
            id,
            title: self.title,
            description: self.description,
            severity: self.severity,
            cvss: self.cvss.map(|c| Cvss { score_tenths: c.score_tenths, vector: c.vector }),
            references: self.references,
            published_at: self.published_at,
            affects: std::collections::BTreeSet::new(),
            resolved_by: std::collections::BTreeSet::new(),
        }
    }
}

/// Records a CVE, or updates its fields (its links are kept): 201 when new, 200 when updated.
pub(crate) async fn record(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((project, id)): Path<(String, String)>,
    body: Result<Json<CveBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<CveRecord>)> {
    let project = project_key(&project)?;
    let id = cve_id(&id)?;
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let recorded = state.services.record_cve(&caller, &project, body.into_record(id), now()).await?;
    let status = if recorded.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(recorded.record)))
}

/// One CVE record with the releases it affects and those that resolve it.
pub(crate) async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<CveRecord>> {
    let id = cve_id(&id)?;
    Ok(Json(state.services.cve(&id).await?))
}

/// A listing page of CVE records: `?after=<id>&limit=<n>`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CvePage {
    after: Option<String>,
    limit: Option<u32>,
}

/// CVE records ordered by id.
pub(crate) async fn list(
    State(state): State<AppState>,
    page: Result<Query<CvePage>, QueryRejection>,
) -> ApiResult<Json<Vec<CveRecord>>> {
    let Query(page) = page.map_err(|e| query_error(&e))?;
    let after = page
        .after
        .as_deref()
        .map(|a| CveId::parse(a).map_err(|e| ApiError::bad_request(format!("after: {e}"))))
        .transpose()?;
    let request = PageRequest { after, limit: page.limit.unwrap_or(100) };
    Ok(Json(state.services.list_cves(request).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewLink {
    id: String,
    link: CveLink,
}

/// Links a recorded CVE to the release: it `affects` it, or the release `resolves` it.
pub(crate) async fn link(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((project, version)): Path<(String, String)>,
    query: Result<Query<ProductQuery>, QueryRejection>,
    body: Result<Json<NewLink>, JsonRejection>,
) -> ApiResult<Json<CveRecord>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let Json(body) = body.map_err(|e| json_error(&e))?;
    let id = CveId::parse(&body.id).map_err(|e| ApiError::invalid(format!("id: {e}")))?;
    Ok(Json(state.services.link_cve(&caller, &id, &key, body.link, now()).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReleaseCvesQuery {
    /// `affects` or `resolves`.
    link: Option<String>,
    product: Option<String>,
}

/// The CVEs that affect the release (`?link=affects`) or that it resolves (`?link=resolves`).
pub(crate) async fn for_release(
    State(state): State<AppState>,
    Path((project, version)): Path<(String, String)>,
    query: Result<Query<ReleaseCvesQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<CveRecord>>> {
    let Query(query) = query.map_err(|e| query_error(&e))?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let link = query
        .link
        .as_deref()
        .map(|l| link_of(l).ok_or_else(|| ApiError::bad_request(format!("link: {l} is neither affects nor resolves"))))
        .transpose()?
        .ok_or_else(|| ApiError::bad_request("link: say ?link=affects or ?link=resolves"))?;
    Ok(Json(state.services.release_cves(&key, link).await?))
}
