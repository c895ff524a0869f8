//! Records kept beside releases: CVE records and their links to releases, project settings
//! (vote policy, metadata, products, check ignores), a visitor's consent, and the task queue.

mod consent;
mod cves;
mod settings;
mod tasks;

use crate::ApiError;
use crate::routes::Routes;

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
        .serve(op::ListIgnores, settings::ignores)
        .serve(op::AddIgnore, settings::add_ignore)
        .serve(op::DeleteIgnore, settings::delete_ignore)
        .serve(op::GiveVisitorConsent, consent::give)
        .serve(op::RevokeVisitorConsent, consent::revoke)
        .serve(op::ListTasks, tasks::list)
        .serve(op::GetQueueStatus, tasks::status)
        .serve(op::GetTask, tasks::task)
        .serve(op::CancelTask, tasks::cancel)
        .serve(op::RetryTask, tasks::retry)
        .serve(op::AnalyzeRevision, tasks::analyze)
        .serve(op::GetChecksStatus, tasks::checks_status)
}
