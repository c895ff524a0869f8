//! From a URL path to a release, one of its revisions, and a file or folder in it.

use std::cell::RefCell;

use atr_core::model::{Phase, Project, Release, ReleaseKey, RevisionNumber};
use atr_core::ports::{ProjectRepository, ReleaseRepository};
use atr_core::types::{Coordinates, CoordinatesError, ProjectKey, ReleasePath, VersionRef};
use axum::http::StatusCode;
use serde_json::json;

use super::MAX_URL_PATH;
use crate::{ApiError, AppState};

/// A file name put after a path ending in `/`, so that the coordinates parser validates the
/// folder's path like any other; it is dropped again right after.
const FOLDER_PLACEHOLDER: &str = "index";

/// What a request names.
#[derive(Debug)]
pub(super) enum Target {
    /// A file of the release.
    File(ReleasePath),
    /// A folder of the release: `None` is its root.
    Folder(Option<ReleasePath>),
}

/// A resolved request.
#[derive(Debug)]
pub(super) enum Resolved {
    /// `latest`: redirect to the versioned path.
    Latest { location: String },
    /// A release that is public in the URL's stage, the revision served there, and the target.
    Found { coordinates: Coordinates, release: Box<Release>, revision: RevisionNumber, target: Target },
}

/// Resolves a URL path (still percent-encoded, as received).
pub(super) async fn resolve(app: &AppState, url_path: &str) -> Result<Resolved, ApiError> {
    if url_path.len() > MAX_URL_PATH {
        return Err(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the path is longer than {MAX_URL_PATH} bytes"),
        ));
    }
    let folder = url_path.ends_with('/');
    let parsed_path = if folder { format!("{url_path}{FOLDER_PLACEHOLDER}") } else { url_path.to_owned() };
    let (coordinates, project) = parse(app, &parsed_path).await?;
    let Some(project) = project else {
        return Err(missing("project", format!("project {} not found", coordinates.project())));
    };
    let stage = coordinates.stage();
    let product = coordinates.product().cloned();
    let release = match coordinates.version() {
        VersionRef::Latest => {
            let latest = ReleaseRepository::latest(&app.storage.sql, &project.key, product, stage)
                .await
                .map_err(|e| ApiError::internal(&e))?;
            let Some(release) = latest else {
                return Err(missing(
                    "release",
                    format!("{} has no release in stage {stage}", name(&project.key, coordinates.product())),
                ));
            };
            let target = coordinates.with_version(release.key.version).to_string();
            let location = if folder { strip_placeholder(&target) } else { target };
            return Ok(Resolved::Latest { location });
        }
        VersionRef::Exact(version) => {
            let key = ReleaseKey::new(project.key.clone(), product, version.clone());
            let found = ReleaseRepository::get(&app.storage.sql, &key).await.map_err(|e| ApiError::internal(&e))?;
            // Drafts, previews and releases of another stage are not there, as far as this
            // stage is concerned.
            match found {
                Some(release) if release.stage() == Some(stage) => release,
                Some(release) => {
                    let error = missing("release", format!("release {key} not found in stage {stage}"));
                    return Err(match release.stage() {
                        Some(public) => error.with_details(json!({ "missing": "release", "stage": public.as_str() })),
                        None => error,
                    });
                }
                None => return Err(missing("release", format!("release {key} not found in stage {stage}"))),
            }
        }
    };
    let Some(revision) = served_revision(&release) else {
        return Err(missing("release", format!("release {} has no files", release.key)));
    };
    let target =
        if folder { Target::Folder(coordinates.path().parent()) } else { Target::File(coordinates.path().clone()) };
    Ok(Resolved::Found { coordinates, release: Box::new(release), revision, target })
}

/// The revision a public release serves: the voted one while under vote (later changes are not
/// what was voted on), the latest one once released (announce freezes it). A release revoked
/// before it was ever released serves the revision that was under vote, and nothing if it never
/// was a candidate.
pub(super) fn served_revision(release: &Release) -> Option<RevisionNumber> {
    match release.phase {
        Phase::Release => release.latest_revision,
        Phase::Candidate | Phase::Draft | Phase::Preview => release.vote.as_ref().map(|vote| vote.revision),
    }
}

/// Parses coordinates, loading the project to tell its products from versions. Returns the
/// project too, `None` if it does not exist. Errors are 400s.
async fn parse(app: &AppState, url_path: &str) -> Result<(Coordinates, Option<Project>), ApiError> {
    // First pass: the parser asks about products only once the project is valid and the path is
    // long enough for a product. If it does not ask, the answer does not matter.
    let asked: RefCell<Option<ProjectKey>> = RefCell::new(None);
    let first = Coordinates::parse(url_path, |project, _| {
        asked.replace(Some(project.clone()));
        false
    });
    let key = match (&first, asked.into_inner()) {
        (_, Some(key)) => key,
        (Ok(coordinates), None) => coordinates.project().clone(),
        (Err(error), None) => return Err(bad_path(error)),
    };
    let project = ProjectRepository::get(&app.storage.sql, &key).await.map_err(|e| ApiError::internal(&e))?;
    let coordinates = match &project {
        Some(project) if !project.products.is_empty() => {
            Coordinates::parse(url_path, |_, product| project.has_product(product))
        }
        _ => first,
    }
    .map_err(|error| bad_path(&error))?;
    Ok((coordinates, project))
}

fn strip_placeholder(location: &str) -> String {
    location.strip_suffix(FOLDER_PLACEHOLDER).unwrap_or(location).to_owned()
}

fn name(project: &ProjectKey, product: Option<&atr_core::types::ProductKey>) -> String {
    match product {
        Some(product) => format!("{project}/{product}"),
        None => project.to_string(),
    }
}

/// A 404 naming what is missing.
pub(super) fn missing(what: &str, message: String) -> ApiError {
    ApiError::not_found(message).with_details(json!({ "missing": what }))
}

fn bad_path(error: &CoordinatesError) -> ApiError {
    ApiError::bad_request(format!("invalid download path: {error}")).with_details(json!({
        "expected": "/<stage>/<project>/[<product>/]<version>/<path>",
    }))
}
