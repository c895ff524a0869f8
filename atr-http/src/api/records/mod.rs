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

use super::now;
use crate::routes::Routes;
use crate::{ApiError, AppState};

type ApiResult<T> = Result<T, ApiError>;

/// The routes of CVE records, project settings, consent and tasks, registered from the
/// catalogue of `atr-api`.
pub(crate) fn routes() -> Routes {
    use atr_api::endpoints as op;
    Routes::new()
        .serve(op::ListCves, cves::list)
        .serve(op::GetCve, cves::get)
        .serve(op::RecordCve, cves::record)
        .serve(op::ReleaseCves, cves::for_release)
        .serve(op::LinkCve, cves::link)
        .serve(op::SetProjectPolicy, settings::policy)
        .serve(op::SetProjectMetadata, settings::metadata)
        .serve(op::AddProduct, settings::add_product)
        .serve(op::UpdateProduct, settings::put_product)
        .serve(op::GiveVisitorConsent, consent::give)
        .serve(op::RevokeVisitorConsent, consent::revoke)
        .serve(op::ListTasks, tasks::list)
        .serve(op::GetQueueStatus, tasks::status)
        .serve(op::GetTask, tasks::task)
        .serve(op::CancelTask, tasks::cancel)
        .serve(op::RetryTask, tasks::retry)
        .serve(op::AnalyzeRevision, tasks::analyze)
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
