//! The pages that are read: the project directory, a project, a release, sign-in and consent.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use atr_core::auth::{Principal, Role};
use atr_core::model::{Phase, ReleaseKey};
use atr_core::ports::{EventFilter, PageRequest};
use atr_core::services::{ReleaseOffers, ReviewedCheck};
use atr_core::types::{CommitteeKey, ProductKey, Stage, Version};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::view::{self, size, time};
use super::{Layout, PageError, Viewer, release_url};
use crate::AppState;
use crate::auth::now;

type PageResult = Result<Response, PageError>;

/// Projects on one page of the directory.
const DIRECTORY_PAGE: u32 = 50;
/// Releases of one stage on a project page.
const STAGE_PAGE: u32 = 20;
/// Events on a release page.
const EVENTS_SHOWN: u32 = 50;

fn here(uri: &Uri) -> String {
    uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned())
}

fn project_key(text: &str) -> Result<atr_core::types::ProjectKey, PageError> {
    atr_core::types::ProjectKey::parse(text)
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such project."))
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::PmcMember => "PMC member",
        Role::ReleaseManager => "release manager",
        Role::Committer => "committer",
        Role::Visitor => "visitor",
        Role::AsfMember => "foundation member",
        Role::Admin => "admin",
    }
}

fn stage_name(stage: Option<Stage>, phase: Phase) -> String {
    match stage {
        Some(stage) => stage.as_str().to_owned(),
        None => phase.as_str().to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// The directory.

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DirectoryQuery {
    committee: Option<String>,
    stage: Option<String>,
    after: Option<String>,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

struct Latest {
    label: String,
    version: String,
    url: String,
}

struct ProjectRow {
    key: String,
    name: String,
    committee: String,
    podling: bool,
    latest: Vec<Latest>,
}

#[derive(Template, WebTemplate)]
#[template(path = "directory.html")]
struct DirectoryPage {
    layout: Layout,
    committees: Vec<Choice>,
    stages: Vec<Choice>,
    stage: String,
    rows: Vec<ProjectRow>,
    next: Option<String>,
}

/// `GET /`: every project with its latest release per product in a stage (current by default),
/// podlings marked, filtered by committee and stage.
pub(crate) async fn directory(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    query: Result<Query<DirectoryQuery>, QueryRejection>,
) -> PageResult {
    let query = super::query(query)?;
    let services = &state.services;
    let now = now();
    let wanted_committee = match query.committee.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(CommitteeKey::parse(c).map_err(|e| PageError::bad_request(format!("committee: {e}")))?),
        None => None,
    };
    let shown = match query.stage.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Stage::parse(s).ok_or_else(|| PageError::bad_request(format!("stage: there is no stage {s}")))?,
        None => Stage::Current,
    };
    let after = match query.after.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => Some(project_key(a)?),
        None => None,
    };
    let all_committees = services.list_committees(PageRequest { after: None, limit: 1000 }).await?;
    let names: BTreeMap<_, _> = all_committees.iter().map(|c| (c.key.clone(), (c.name.clone(), c.podling))).collect();
    let projects = services.list_projects(PageRequest { after, limit: DIRECTORY_PAGE }).await?;
    let next = (projects.len() == DIRECTORY_PAGE as usize).then(|| {
        let last = projects.last().map(|p| p.key.to_string()).unwrap_or_default();
        let committee = wanted_committee.as_ref().map(|c| format!("&committee={c}")).unwrap_or_default();
        format!("/?stage={shown}{committee}&after={last}")
    });
    let mut rows = Vec::new();
    for project in projects {
        if wanted_committee.as_ref().is_some_and(|c| *c != project.committee) {
            continue;
        }
        let (committee, podling) = names.get(&project.committee).cloned().unwrap_or_default();
        let mut latest = Vec::new();
        let products = std::iter::once(None).chain(project.products.iter().map(|p| Some(p.key.clone())));
        for product in products {
            let found = services
                .list_releases(
                    &viewer.principal,
                    &project.key,
                    product.clone(),
                    Some(shown),
                    PageRequest { after: None, limit: 1 },
                    now,
                )
                .await?;
            if let Some(release) = found.first() {
                latest.push(Latest {
                    label: product.as_ref().map_or_else(|| "main".to_owned(), ToString::to_string),
                    version: release.key.version.to_string(),
                    url: release_url(&release.key),
                });
            }
        }
        rows.push(ProjectRow {
            key: project.key.to_string(),
            name: project.metadata.display_name.clone(),
            committee,
            podling,
            latest,
        });
    }
    let committees = all_committees
        .iter()
        .map(|c| Choice {
            value: c.key.to_string(),
            label: c.name.clone(),
            selected: wanted_committee.as_ref() == Some(&c.key),
        })
        .collect();
    let stages = Stage::ALL
        .into_iter()
        .map(|s| Choice { value: s.as_str().to_owned(), label: s.as_str().to_owned(), selected: s == shown })
        .collect();
    let page = DirectoryPage {
        layout: Layout::new("Projects", &viewer, &here(&uri)),
        committees,
        stages,
        stage: shown.as_str().to_owned(),
        rows,
        next,
    };
    Ok(page.into_response())
}

// ---------------------------------------------------------------------------------------------
// A project.

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ProjectQuery {
    /// `candidate`, `current`, `revoked` or `draft` (drafts and previews): that stage alone,
    /// paged.
    stage: Option<String>,
    product: Option<String>,
    after: Option<String>,
}

struct ReleaseRow {
    version: String,
    product: String,
    url: String,
    phase: String,
    created: String,
}

struct StageSection {
    id: String,
    title: String,
    rows: Vec<ReleaseRow>,
    more: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "project.html")]
struct ProjectPage {
    layout: Layout,
    key: String,
    name: String,
    description: String,
    homepage: String,
    committee: String,
    podling: bool,
    roles: Vec<&'static str>,
    products: Vec<Choice>,
    sections: Vec<StageSection>,
    start_release: bool,
    error: Option<String>,
}

/// Which releases a section of the project page lists: those of a public stage, or (`None`)
/// drafts and previews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Section(Option<Stage>);

fn section_stage(name: &str) -> Option<Section> {
    match name {
        "draft" => Some(Section(None)),
        other => Stage::parse(other).map(|s| Section(Some(s))),
    }
}

/// `GET /projects/{project}`: the project and its releases by stage, newest version first, each
/// stage paged by keyset (`?stage=current&after=2.4.66`).
pub(crate) async fn project(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(project): Path<String>,
    query: Result<Query<ProjectQuery>, QueryRejection>,
) -> PageResult {
    let query = super::query(query)?;
    project_page(&state, &viewer, &here(&uri), &project, &query, None).await.map(|(_, page)| page)
}

/// Renders a project page, with `error` at its top if a form failed.
pub(crate) async fn project_page(
    state: &AppState,
    viewer: &Viewer,
    here: &str,
    project: &str,
    query: &ProjectQuery,
    error: Option<String>,
) -> Result<(StatusCode, Response), PageError> {
    let services = &state.services;
    let now = now();
    let key = project_key(project)?;
    let view = services.get_project(&key).await?;
    let committee = services.get_committee(&view.project.committee).await?;
    let offers = services.project_offers(&viewer.principal, &key, now).await?;
    let product = match query.product.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(ProductKey::parse(p).map_err(|e| PageError::bad_request(format!("product: {e}")))?),
        None => None,
    };
    let only = match query.stage.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => {
            Some(section_stage(s).ok_or_else(|| PageError::bad_request(format!("stage: there is no stage {s}")))?)
        }
        None => None,
    };
    let after = match query.after.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => Some(Version::parse(a).map_err(|e| PageError::bad_request(format!("after: {e}")))?),
        None => None,
    };
    let stages: Vec<(&str, &str, Option<Stage>)> = vec![
        ("candidate", "Candidates (under vote)", Some(Stage::Candidate)),
        ("current", "Current releases", Some(Stage::Current)),
        ("draft", "Drafts and previews", None),
        ("revoked", "Revoked releases", Some(Stage::Revoked)),
    ];
    let mut sections = Vec::new();
    for (id, title, stage) in stages {
        // Drafts are listed only to whom the core lets read them.
        if only.is_some_and(|o| o != Section(stage)) || (stage.is_none() && !offers.view_drafts) {
            continue;
        }
        let page = PageRequest { after: if only.is_some() { after.clone() } else { None }, limit: STAGE_PAGE };
        let releases = services.list_releases(&viewer.principal, &key, product.clone(), stage, page, now).await?;
        let more = (releases.len() == STAGE_PAGE as usize).then(|| {
            let last = releases.last().map(|r| r.key.version.to_string()).unwrap_or_default();
            let product = product.as_ref().map(|p| format!("&product={p}")).unwrap_or_default();
            format!("/projects/{key}?stage={id}{product}&after={last}")
        });
        let rows = releases
            .iter()
            .map(|r| ReleaseRow {
                version: r.key.version.to_string(),
                product: r.key.product.as_ref().map_or_else(|| "main".to_owned(), ToString::to_string),
                url: release_url(&r.key),
                phase: stage_name(r.stage(), r.phase),
                created: time(r.created_at.unix()),
            })
            .collect();
        sections.push(StageSection { id: id.to_owned(), title: title.to_owned(), rows, more });
    }
    let metadata = &view.project.metadata;
    let products =
        std::iter::once(Choice { value: String::new(), label: "main".to_owned(), selected: product.is_none() })
            .chain(view.project.products.iter().map(|p| Choice {
                value: p.key.to_string(),
                label: p.key.to_string(),
                selected: product.as_ref() == Some(&p.key),
            }))
            .collect();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = ProjectPage {
        layout: Layout::new(metadata.display_name.clone(), viewer, here),
        key: key.to_string(),
        name: metadata.display_name.clone(),
        description: metadata.description.clone().unwrap_or_default(),
        homepage: metadata.homepage.clone().unwrap_or_default(),
        committee: committee.name.clone(),
        podling: committee.podling,
        roles: offers
            .roles
            .iter()
            .copied()
            .filter(|r| *r != Role::Visitor || offers.roles.len() == 1)
            .map(role_name)
            .collect(),
        products,
        sections,
        start_release: offers.start_release,
        error,
    };
    Ok((status, page.into_response()))
}

// ---------------------------------------------------------------------------------------------
// A release.

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReleaseQuery {
    pub(crate) product: Option<String>,
    /// What a form just did, to say so at the top.
    pub(crate) done: Option<String>,
}

struct FileLink {
    name: String,
    size: String,
    href: Option<String>,
}

struct PackageRow {
    artifact: FileLink,
    signature: Option<FileLink>,
    checksum: Option<FileLink>,
}

struct CheckRow {
    status: &'static str,
    checker: String,
    member: String,
    message: String,
    ignored: bool,
}

struct CheckGroup {
    file: String,
    rows: Vec<CheckRow>,
}

struct BallotRow {
    voter: String,
    value: String,
    binding: bool,
    at: String,
}

struct ManifestRow {
    path: String,
    sha512: String,
}

struct VoteView {
    revision: String,
    round: String,
    started: String,
    started_by: String,
    closes: String,
    time_left: String,
    rule: String,
    binding_committee: String,
    binding_voters: String,
    signing_keys: Vec<String>,
    manifest: Vec<ManifestRow>,
    binding: String,
    non_binding: String,
    verdict: String,
    ballots: Vec<BallotRow>,
    outcome: Option<String>,
}

pub(crate) struct EventRow {
    pub(crate) id: u64,
    pub(crate) at: String,
    pub(crate) actor: String,
    /// The release it is about, if any (`project version`).
    pub(crate) release: String,
    pub(crate) what: String,
    pub(crate) details: String,
}

struct Fact {
    name: &'static str,
    value: String,
}

/// An SBOM file of the latest revision with the results of its validation.
struct SbomRow {
    file: FileLink,
    checks: Vec<SbomCheck>,
}

struct SbomCheck {
    status: &'static str,
    message: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "release.html")]
struct ReleasePage {
    layout: Layout,
    title: String,
    project_url: String,
    facts: Vec<Fact>,
    notice: Option<String>,
    error: Option<String>,
    roles: Vec<&'static str>,
    revision: String,
    packages: Vec<PackageRow>,
    other_files: Vec<FileLink>,
    listing_url: Option<String>,
    checks_summary: String,
    check_groups: Vec<CheckGroup>,
    vote: Option<VoteView>,
    cves_affecting: Vec<String>,
    cves_resolved: Vec<String>,
    /// The paths of the latest revision, for the delete and move forms.
    files: Vec<String>,
    sboms: Vec<SbomRow>,
    /// The upload progress script's URL.
    upload_js: &'static str,
    /// The vote policy that resolves for the release now, with where each value comes from.
    policy: super::config::PolicyTable,
    events: Vec<EventRow>,
    events_note: Option<String>,
    offers: ReleaseOffers,
    /// Where the forms post: the release page's path; `query` keeps the product.
    action_base: String,
    query: String,
    vote_values: Vec<Choice>,
}

/// The words for a `done=` code a form redirects with.
fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "started" => "The release was started as a draft. Upload its files next.",
        "uploaded" => "The file(s) were uploaded as a new revision; its checks are queued.",
        "deleted" => "The file was deleted in a new revision; its checks are queued.",
        "moved" => "The file was moved in a new revision; its checks are queued.",
        "vote-started" => "The vote was started.",
        "ballot" => "Your ballot was recorded.",
        "resolved" => "The vote was resolved.",
        "announced" => "The release was announced.",
        "revoked" => "The release was revoked.",
        _ => return None,
    })
}

pub(crate) fn release_key(project: &str, version: &str, product: Option<&str>) -> Result<ReleaseKey, PageError> {
    let missing = || PageError::new(StatusCode::NOT_FOUND, "There is no such release.");
    let project = project_key(project)?;
    let version = Version::parse(version).map_err(|_| missing())?;
    let product = match product.filter(|p| !p.is_empty()) {
        Some(p) => Some(ProductKey::parse(p).map_err(|_| missing())?),
        None => None,
    };
    Ok(ReleaseKey::new(project, product, version))
}

/// `GET /projects/{project}/releases/{version}`.
pub(crate) async fn release(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path((project, version)): Path<(String, String)>,
    query: Result<Query<ReleaseQuery>, QueryRejection>,
) -> PageResult {
    let query = super::query(query)?;
    let key = release_key(&project, &version, query.product.as_deref())?;
    let notice = query.done.as_deref().and_then(done_message).map(str::to_owned);
    release_page(&state, &viewer, &here(&uri), &key, notice, None).await
}

fn coordinates(stage: Stage, key: &ReleaseKey) -> String {
    match &key.product {
        Some(product) => format!("/{stage}/{}/{product}/{}/", key.project, key.version),
        None => format!("/{stage}/{}/{}/", key.project, key.version),
    }
}

#[expect(clippy::too_many_lines, reason = "the page gathers its sections one after the other, in the order shown")]
/// Renders a release page, with `error` at its top if a form failed (and then the status of
/// that failure).
pub(crate) async fn release_page(
    state: &AppState,
    viewer: &Viewer,
    here: &str,
    key: &ReleaseKey,
    notice: Option<String>,
    error: Option<PageError>,
) -> PageResult {
    let services = &state.services;
    let principal = &viewer.principal;
    let now = now();
    let view = services.release_view(principal, key, now).await?;
    let release = &view.release;
    let offers = services.release_offers(principal, release, now).await?;
    let project_offers = services.project_offers(principal, &key.project, now).await?;
    let wire = atr_api::Release::from(release);

    let mut facts = vec![
        Fact { name: "Project", value: key.project.to_string() },
        Fact { name: "Product", value: key.product.as_ref().map_or_else(|| "main".to_owned(), ToString::to_string) },
        Fact { name: "Version", value: key.version.to_string() },
        Fact { name: "Phase", value: release.phase.as_str().to_owned() },
        Fact { name: "Stage", value: view.stage.map_or_else(|| "not public".to_owned(), |s| s.as_str().to_owned()) },
        Fact { name: "Committee", value: wire.committee.clone() },
        Fact { name: "Started", value: format!("{} by {}", time(wire.created_at), wire.created_by) },
        Fact {
            name: "Latest revision",
            value: wire.latest_revision.map_or_else(|| "none yet".to_owned(), |n| format!("{n:05}")),
        },
    ];
    if let Some(at) = wire.released_at {
        facts.push(Fact { name: "Released", value: time(at) });
    }
    if let Some(revocation) = &wire.revocation {
        facts.push(Fact {
            name: "Revoked",
            value: format!("{} by {}: {}", time(revocation.at), revocation.by, revocation.reason),
        });
    }

    // The files of the latest revision, grouped into packages.
    let served = view.stage.map(|stage| coordinates(stage, key));
    let mut packages = Vec::new();
    let mut other_files = Vec::new();
    let mut check_groups = Vec::new();
    let mut checks_summary = "No files yet: nothing was checked.".to_owned();
    let mut files = Vec::new();
    let mut sboms = Vec::new();
    if let Some(number) = release.latest_revision {
        let revision = services.revision(principal, key, number, now).await?;
        let sizes: BTreeMap<String, u64> = revision.files.iter().map(|f| (f.path.to_string(), f.size)).collect();
        // Downloads serve the voted (candidate) or frozen (current, revoked) revision, which is
        // the latest one in those stages.
        let link = |path: &str| FileLink {
            name: path.to_owned(),
            size: sizes.get(path).map_or_else(String::new, |s| size(*s)),
            href: served.as_ref().map(|base| format!("{base}{path}")),
        };
        let listing = view.packages.as_ref().map(atr_api::PackageListing::from).unwrap_or_default();
        let mut in_packages = std::collections::BTreeSet::new();
        for package in &listing.packages {
            in_packages.insert(package.artifact.clone());
            in_packages.extend(package.signature.clone());
            in_packages.extend(package.checksum.clone());
            in_packages.extend(package.other_checksums.iter().cloned());
            packages.push(PackageRow {
                artifact: link(&package.artifact),
                signature: package.signature.as_deref().map(link),
                checksum: package.checksum.as_deref().map(link),
            });
        }
        other_files = sizes.keys().filter(|p| !in_packages.contains(*p)).map(|p| link(p)).collect();
        files = sizes.keys().cloned().collect();
        let listed = services.release_sboms(principal, key, now).await?;
        sboms = listed
            .sboms
            .iter()
            .map(|sbom| SbomRow {
                file: link(sbom.file.path.as_str()),
                checks: sbom
                    .checks
                    .iter()
                    .map(|c| SbomCheck { status: view::status(c.status).0, message: c.message.clone() })
                    .collect(),
            })
            .collect();
        let checks = services.reviewed_checks(principal, key, number, now).await?;
        checks_summary = summarize(&checks, number.get());
        check_groups = group_checks(checks);
    }

    let vote = match (&release.vote, &view.tally) {
        (Some(record), Some(tally)) => {
            let record = atr_api::VoteRecord::from(record);
            let tally = atr_api::Tally::from(tally);
            let voted = atr_core::model::RevisionNumber::new(record.revision)
                .ok_or_else(|| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, "the vote names no revision"))?;
            let manifest = services
                .revision(principal, key, voted, now)
                .await?
                .files
                .iter()
                .map(|f| ManifestRow { path: f.path.to_string(), sha512: f.sha512.to_hex() })
                .collect();
            Some(vote_view(&record, &tally, manifest, now.unix()))
        }
        _ => None,
    };

    let policy = super::config::policy_table(
        "release-policy".to_owned(),
        "Vote policy in force".to_owned(),
        &services.release_policy(principal, key, now).await?,
    );

    // The links are kept with the CVE records; the core reads them both ways.
    let cve_ids = |records: Vec<atr_core::model::CveRecord>| records.iter().map(|r| r.id.to_string()).collect();
    let cves_affecting = cve_ids(services.release_cves(principal, key, atr_core::model::CveLink::Affects, now).await?);
    let cves_resolved = cve_ids(services.release_cves(principal, key, atr_core::model::CveLink::Resolves, now).await?);

    let filter = EventFilter { project: None, product: None, release: Some(key.clone()) };
    let (events, events_note) =
        match services.list_events(principal, &filter, PageRequest { after: None, limit: EVENTS_SHOWN }, now).await {
            Ok(events) => (events.iter().map(event_row).collect(), None),
            Err(atr_core::services::ServiceError::Denied(_)) => {
                (Vec::new(), Some("Sign in to see the history of this release.".to_owned()))
            }
            Err(other) => return Err(other.into()),
        };

    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status);
    let action_base = format!("/projects/{}/releases/{}", key.project, key.version);
    let query = key.product.as_ref().map(|p| format!("?product={p}")).unwrap_or_default();
    let vote_values = atr_core::model::VoteValue::ALL
        .into_iter()
        .map(|v| Choice { value: v.as_str().to_owned(), label: v.as_str().to_owned(), selected: false })
        .collect();
    let title = format!("{} {}", key.project, key.version);
    let page = ReleasePage {
        layout: Layout::new(title.clone(), viewer, here),
        title,
        project_url: format!("/projects/{}", key.project),
        facts,
        notice,
        error: error.map(|e| e.message),
        roles: project_offers.roles.iter().copied().filter(|r| *r != Role::Visitor).map(role_name).collect(),
        revision: release.latest_revision.map(|n| n.get().to_string()).unwrap_or_default(),
        packages,
        other_files,
        listing_url: served,
        checks_summary,
        check_groups,
        vote,
        cves_affecting,
        cves_resolved,
        files,
        sboms,
        upload_js: super::assets::JS_URL.as_str(),
        policy,
        events,
        events_note,
        offers,
        action_base,
        query,
        vote_values,
    };
    Ok((status, page).into_response())
}

fn summarize(checks: &[ReviewedCheck], revision: u32) -> String {
    if checks.is_empty() {
        return format!("Revision {revision:05} has no check results yet; its checks may still be running.");
    }
    let counted = atr_core::model::CheckCounts::of(checks.iter().filter(|c| !c.ignored).map(|c| &c.result));
    let ignored = checks.iter().filter(|c| c.ignored).count();
    format!(
        "Revision {revision:05}: {} blocker(s), {} exception(s), {} warning(s), {} note(s), {} success(es); {ignored} ignored.",
        counted.blockers, counted.exceptions, counted.warnings, counted.notes, counted.successes
    )
}

/// Check results grouped by file (and archive member inside a row), the group with the worst
/// result first and, inside a group, the worst first; ignored results after the others.
/// A check row with what orders it: ignored after not ignored, then by severity.
type Ranked = (bool, u8, CheckRow);

fn group_checks(checks: Vec<ReviewedCheck>) -> Vec<CheckGroup> {
    let mut groups: BTreeMap<String, Vec<Ranked>> = BTreeMap::new();
    for check in checks {
        let (status, rank) = view::status(check.result.status);
        let file = check.result.path.as_ref().map_or_else(|| "(the release)".to_owned(), ToString::to_string);
        groups.entry(file).or_default().push((
            check.ignored,
            rank,
            CheckRow {
                status,
                checker: check.result.checker,
                member: check.result.member.unwrap_or_default(),
                message: check.result.message,
                ignored: check.ignored,
            },
        ));
    }
    let mut groups: Vec<(bool, u8, String, Vec<Ranked>)> = groups
        .into_iter()
        .map(|(file, mut rows)| {
            rows.sort_by(|a, b| (a.0, a.1, &a.2.member).cmp(&(b.0, b.1, &b.2.member)));
            let worst = rows.first().map_or((true, u8::MAX), |r| (r.0, r.1));
            (worst.0, worst.1, file, rows)
        })
        .collect();
    groups.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
    groups
        .into_iter()
        .map(|(_, _, file, rows)| CheckGroup { file, rows: rows.into_iter().map(|r| r.2).collect() })
        .collect()
}

fn voter(voter: &atr_api::Voter) -> String {
    match voter {
        atr_api::Voter::User(id) => id.clone(),
        atr_api::Voter::Email(address) => address.clone(),
        atr_api::Voter::Anonymous(label) => format!("anonymous ({label})"),
    }
}

fn counts(c: &atr_api::VoteCounts) -> String {
    format!("+1: {}, +0: {}, 0: {}, -0: {}, -1: {}", c.plus_one, c.plus_zero, c.zero, c.minus_zero, c.minus_one)
}

fn vote_view(record: &atr_api::VoteRecord, tally: &atr_api::Tally, manifest: Vec<ManifestRow>, now: i64) -> VoteView {
    let rule = format!(
        "at least {} binding +1{}; open at least {} hours",
        tally.rule.min_binding_plus_one,
        if tally.rule.majority_of_binding { ", and more binding +1 than binding -1" } else { "" },
        record.policy.min_hours
    );
    let verdict = match tally.verdict {
        atr_api::Verdict::Passes => "passes".to_owned(),
        atr_api::Verdict::WouldPassIfClosedNow => {
            format!("would pass if closed now; open until {}", time(tally.closes_at))
        }
        atr_api::Verdict::DoesNotPass => "does not pass (yet)".to_owned(),
    };
    let wire_name = |v: &serde_json::Value| v.as_str().map_or_else(|| view::plain(v), str::to_owned);
    VoteView {
        revision: format!("{:05}", record.revision),
        round: wire_name(&serde_json::to_value(record.round).unwrap_or_default()),
        started: time(record.started_at),
        started_by: record.started_by.clone(),
        closes: time(record.closes_at),
        time_left: if record.outcome.is_some() {
            "resolved".to_owned()
        } else {
            view::time_left(record.closes_at, now)
        },
        rule,
        binding_committee: record.binding_committee.clone(),
        binding_voters: record.binding_voters.join(", "),
        signing_keys: record.signing_keys.clone(),
        manifest,
        binding: counts(&tally.binding),
        non_binding: counts(&tally.non_binding),
        verdict,
        ballots: tally
            .votes
            .iter()
            .map(|v| BallotRow {
                voter: voter(&v.voter),
                value: wire_name(&serde_json::to_value(v.value).unwrap_or_default()),
                binding: v.binding,
                at: time(v.cast_at),
            })
            .collect(),
        outcome: record.outcome.map(|o| wire_name(&serde_json::to_value(o).unwrap_or_default())),
    }
}

pub(crate) fn event_row(event: &atr_core::model::Event) -> EventRow {
    let wire = atr_api::Event::from(event);
    let (what, details) = view::tagged(&serde_json::to_value(&wire.event.kind).unwrap_or_default());
    EventRow {
        id: wire.id,
        at: time(wire.event.at),
        actor: view::plain(&serde_json::to_value(&wire.event.actor).unwrap_or_default()),
        release: wire.event.release.as_ref().map_or_else(String::new, |r| match &r.product {
            Some(product) => format!("{} {product} {}", r.project, r.version),
            None => format!("{} {}", r.project, r.version),
        }),
        what,
        details,
    }
}

// ---------------------------------------------------------------------------------------------
// Sign-in and consent.

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SignInQuery {
    pub(crate) next: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "signin.html")]
pub(crate) struct SignInPage {
    pub(crate) layout: Layout,
    pub(crate) next: String,
    pub(crate) user: String,
    pub(crate) error: Option<String>,
}

/// A local path to go back to after signing in: only a path of this site.
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/".to_owned(),
    }
}

/// `GET /signin`.
pub(crate) async fn sign_in(viewer: Viewer, uri: Uri, query: Result<Query<SignInQuery>, QueryRejection>) -> Response {
    let query = match super::query(query) {
        Ok(query) => query,
        Err(error) => return error.into_response(),
    };
    let page = SignInPage {
        layout: Layout::new("Sign in", &viewer, &here(&uri)),
        next: local_path(query.next.as_deref()),
        user: String::new(),
        error: None,
    };
    page.into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "consent.html")]
pub(crate) struct ConsentPage {
    pub(crate) layout: Layout,
    pub(crate) given: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) notice: Option<String>,
}

/// `GET /consent`: a signed-in person gives (or withdraws) consent to keep their name and mail
/// address, which a visitor needs to vote.
pub(crate) async fn consent(viewer: Viewer, uri: Uri) -> PageResult {
    consent_page(&viewer, &here(&uri), None, None)
}

pub(crate) fn consent_page(
    viewer: &Viewer,
    here: &str,
    notice: Option<String>,
    error: Option<PageError>,
) -> PageResult {
    let Principal::Person(person) = &viewer.principal else {
        return Err(PageError::new(StatusCode::UNAUTHORIZED, "Sign in first to give or withdraw consent."));
    };
    let given = person
        .consent
        .as_ref()
        .filter(|c| c.revoked_at.is_none())
        .map(|c| format!("{} <{}>, given {}", c.name, c.email, time(c.given_at.unix())));
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status);
    let page =
        ConsentPage { layout: Layout::new("Consent", viewer, here), given, error: error.map(|e| e.message), notice };
    Ok((status, page).into_response())
}
