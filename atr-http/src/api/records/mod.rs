//! Records kept beside releases: CVE records and their links to releases, project settings
//! (vote policy, metadata, products), a visitor's consent, and the task queue.

mod consent;
mod cves;
mod settings;
mod tasks;

use atr_core::auth::{self, Activity, Principal, Target};
use atr_core::model::{Actor, Committee, Project};
use atr_core::ports::{CommitteeRepository, ProjectRepository};
use atr_core::types::ProjectKey;
use axum::Router;
use axum::routing::{get, post, put};

use super::now;
use crate::{ApiError, AppState};

type ApiResult<T> = Result<T, ApiError>;

/// The routes of CVE records, project settings, consent and tasks.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/cves", get(cves::list))
        .route("/api/cves/{id}", get(cves::get))
        .route("/api/projects/{project}/cves/{id}", put(cves::record))
        .route("/api/projects/{project}/releases/{version}/cves", get(cves::for_release).post(cves::link))
        .route("/api/projects/{project}/policy", put(settings::policy))
        .route("/api/projects/{project}/metadata", put(settings::metadata))
        .route("/api/projects/{project}/products", post(settings::add_product))
        .route("/api/projects/{project}/products/{product}", put(settings::put_product))
        .route("/api/me/consent", put(consent::give).delete(consent::revoke))
        .route("/api/tasks", get(tasks::list))
        .route("/api/tasks/status", get(tasks::status))
        .route("/api/tasks/{id}", get(tasks::task))
        .route("/api/tasks/{id}/cancel", post(tasks::cancel))
        .route("/api/tasks/{id}/retry", post(tasks::retry))
        .route("/api/projects/{project}/releases/{version}/analyze", post(tasks::analyze))
}

/// Loads a project and its committee (404 for either missing) and checks the caller may do
/// `activity` on it, as the services do.
async fn authorize_project(
    state: &AppState,
    caller: &Principal,
    activity: Activity,
    key: &ProjectKey,
) -> ApiResult<(Project, Committee)> {
    let sql = &state.storage.sql;
    let project = ProjectRepository::get(sql, key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("project {key} not found")))?;
    let committee = CommitteeRepository::get(sql, &project.committee)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("committee {} not found", project.committee)))?;
    permit(caller, activity, key, &committee)?;
    Ok((project, committee))
}

/// Checks the caller may do `activity` on a project whose committee is already loaded.
fn permit(caller: &Principal, activity: Activity, project: &ProjectKey, committee: &Committee) -> ApiResult<()> {
    auth::authorize(caller, activity, &Target::Project { project, committee }, now())?;
    Ok(())
}

/// The actor events record for a caller.
fn actor(caller: &Principal) -> Actor {
    match caller {
        Principal::Anonymous => Actor::System,
        Principal::Person(person) => Actor::User(person.id.clone()),
        Principal::Token { owner, token } => Actor::Token { owner: owner.id.clone(), token: token.id().to_owned() },
    }
}
