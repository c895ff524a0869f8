//! Records kept beside releases: CVE records and their links to releases, project settings
//! (vote policy, metadata, products), a visitor's consent, and the task queue.

mod consent;
mod cves;
mod settings;
mod tasks;

use axum::Router;
use axum::routing::{get, post, put};

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
