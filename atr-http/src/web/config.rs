//! A project's configuration page: its metadata and its products', the vote policy in force for
//! each product with the level each value comes from (resolved by the core), its release
//! managers, its check ignores and its committee's signing keys, with a KEYS import for those
//! the core lets manage them.

use askama::Template;
use askama_web::WebTemplate;
use atr_core::model::Metadata;
use atr_core::policy::SourcedPolicy;
use atr_core::services::{KeyImport, ProjectConfig, ProjectOffers};
use atr_core::types::ProjectKey;
use atr_tasks::analyze::signature::MAX_KEYS_FILE_BYTES;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;

use super::records::{Fact, key_url};
use super::view::{self, time};
use super::{Layout, PageError, Viewer};
use crate::AppState;
use crate::auth::now;

/// Most bytes of the posted import form: a KEYS file of the most bytes accepted, percent-encoded.
pub(crate) const MAX_IMPORT_FORM_BYTES: usize = 3 * MAX_KEYS_FILE_BYTES + 4096;

fn project_key(text: &str) -> Result<ProjectKey, PageError> {
    ProjectKey::parse(text).map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such project."))
}

/// One setting of a vote policy: its value in force and the level it comes from.
pub(crate) struct Setting {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) source: &'static str,
}

/// The vote policy in force for one product (or release).
pub(crate) struct PolicyTable {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) settings: Vec<Setting>,
}

/// A resolved policy as a table: each setting with its value and the level it comes from, as
/// the core resolved them.
pub(crate) fn policy_table(id: String, title: String, sourced: &SourcedPolicy) -> PolicyTable {
    let json = serde_json::to_value(&sourced.policy).unwrap_or_default();
    let settings = sourced
        .sources
        .iter()
        .map(|(name, source)| Setting {
            name: name.replace('_', " "),
            value: json.get(*name).map(setting_value).unwrap_or_default(),
            source: source.as_str(),
        })
        .collect();
    PolicyTable { id, title, settings }
}

struct ProductRow {
    key: String,
    facts: Vec<Fact>,
}

struct IgnoreRow {
    id: u64,
    checker: String,
    path: String,
    message: String,
    /// The other selectors it gives (version, revision, member, status), or `-`.
    more: String,
    reason: String,
}

struct KeyRow {
    fingerprint: String,
    url: String,
    owner: String,
    user_ids: String,
    algorithm: String,
    expires: String,
}

struct ReportRow {
    fingerprint: String,
    url: Option<String>,
    user_ids: String,
    note: String,
}

/// One kind of outcome of an import (added, updated, rejected) with its keys.
struct ReportSection {
    title: &'static str,
    rows: Vec<ReportRow>,
}

/// What an import did, as the page reports it.
struct Report {
    summary: String,
    sections: Vec<ReportSection>,
}

#[derive(Template, WebTemplate)]
#[template(path = "config.html")]
struct ConfigPage {
    layout: Layout,
    key: String,
    name: String,
    committee: String,
    committee_key: String,
    facts: Vec<Fact>,
    products: Vec<ProductRow>,
    policies: Vec<PolicyTable>,
    pmc_members: String,
    release_managers: String,
    ignores: Vec<IgnoreRow>,
    keys: Vec<KeyRow>,
    import_keys: bool,
    report: Option<Report>,
    error: Option<String>,
    keys_text: String,
}

fn metadata_facts(metadata: &Metadata) -> Vec<Fact> {
    let unset = |v: &Option<String>| v.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "not set".to_owned());
    vec![
        Fact { name: "Name", value: metadata.display_name.clone() },
        Fact { name: "Description", value: unset(&metadata.description) },
        Fact { name: "Home page", value: unset(&metadata.homepage) },
        Fact { name: "Repository", value: unset(&metadata.repository) },
        Fact { name: "Issue tracker", value: unset(&metadata.issue_tracker) },
    ]
}

/// A policy value as short text: lists joined, empty ones and empty texts as `none`.
fn setting_value(value: &serde_json::Value) -> String {
    let text = match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{}: {}", k.replace('_', " "), view::plain(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => view::plain(other),
    };
    if text.is_empty() { "none".to_owned() } else { text }
}

fn people(set: &std::collections::BTreeSet<atr_core::types::UserId>) -> String {
    if set.is_empty() { "none".to_owned() } else { set.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ") }
}

fn report(import: &KeyImport) -> Report {
    let wire = atr_api::KeyImportReport::from(import);
    let went_in = |k: &atr_api::ImportedKey| ReportRow {
        url: Some(key_url(&k.fingerprint)),
        fingerprint: k.fingerprint.clone(),
        user_ids: k.user_ids.join(", "),
        note: k.note.clone(),
    };
    let summary =
        format!("{} key(s) added, {} updated, {} rejected.", wire.added.len(), wire.updated.len(), wire.rejected.len());
    let rejected = wire
        .rejected
        .iter()
        .map(|k| ReportRow {
            fingerprint: k.fingerprint.clone().unwrap_or_else(|| "(unreadable)".to_owned()),
            url: None,
            user_ids: k.user_ids.join(", "),
            note: k.reason.clone(),
        })
        .collect();
    let sections = vec![
        ReportSection { title: "Added", rows: wire.added.iter().map(went_in).collect() },
        ReportSection { title: "Updated", rows: wire.updated.iter().map(went_in).collect() },
        ReportSection { title: "Rejected", rows: rejected },
    ];
    Report { summary, sections: sections.into_iter().filter(|s| !s.rows.is_empty()).collect() }
}

/// Everything the page shows of `config`, with the import offered or not.
fn page(
    viewer: &Viewer,
    here: &str,
    config: &ProjectConfig,
    offers: &ProjectOffers,
    report: Option<Report>,
    error: Option<String>,
    keys_text: String,
) -> ConfigPage {
    let project = &config.project;
    let policies = config
        .policies
        .iter()
        .map(|sourced| {
            let (id, title) = match &sourced.product {
                Some(product) => (format!("policy-{product}"), format!("Vote policy of the product {product}")),
                None => ("policy-main".to_owned(), "Vote policy of the main product".to_owned()),
            };
            policy_table(id, title, &sourced.policy)
        })
        .collect();
    let keys = config
        .keys
        .iter()
        .map(|k| {
            let wire = atr_api::SigningKey::summary(k);
            KeyRow {
                url: key_url(&wire.fingerprint),
                fingerprint: wire.fingerprint,
                owner: wire.owner.unwrap_or_else(|| "not known".to_owned()),
                user_ids: wire.user_ids.join(", "),
                algorithm: wire.bits.map_or_else(|| wire.algorithm.clone(), |b| format!("{} {b}", wire.algorithm)),
                expires: wire.expires_at.map_or_else(|| "never".to_owned(), time),
            }
        })
        .collect();
    let ignores = config
        .ignores
        .iter()
        .map(|i| {
            let any = |g: &Option<String>| g.clone().unwrap_or_else(|| "any".to_owned());
            let mut more: Vec<String> = [("version", &i.version_glob), ("member", &i.member_glob)]
                .into_iter()
                .filter_map(|(name, glob)| glob.as_ref().map(|g| format!("{name} {g}")))
                .collect();
            more.extend(i.revision.map(|r| format!("revision {r}")));
            more.extend(i.status.map(|s| format!("status {}", super::view::status(s).0)));
            IgnoreRow {
                id: i.id,
                checker: any(&i.checker_glob),
                path: any(&i.path_glob),
                message: any(&i.message_glob),
                more: if more.is_empty() { "-".to_owned() } else { more.join(", ") },
                reason: i.reason.clone(),
            }
        })
        .collect();
    let mut facts = metadata_facts(&project.metadata);
    facts.insert(0, Fact { name: "Key", value: project.key.to_string() });
    ConfigPage {
        layout: Layout::new(format!("Configuration of {}", project.metadata.display_name), viewer, here),
        key: project.key.to_string(),
        name: project.metadata.display_name.clone(),
        committee: format!("{}{}", config.committee.name, if config.committee.podling { " (podling)" } else { "" }),
        committee_key: config.committee.key.to_string(),
        facts,
        products: project
            .products
            .iter()
            .map(|p| ProductRow { key: p.key.to_string(), facts: metadata_facts(&p.metadata) })
            .collect(),
        policies,
        pmc_members: people(&config.committee.pmc_members),
        release_managers: people(&config.committee.release_managers),
        ignores,
        keys,
        import_keys: offers.import_keys,
        report,
        error,
        keys_text,
    }
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    here: &str,
    project: &ProjectKey,
    report: Option<Report>,
    error: Option<PageError>,
    keys_text: String,
) -> Result<Response, PageError> {
    let config = state.services.project_config(project).await?;
    let offers = state.services.project_offers(&viewer.principal, project, now()).await?;
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status);
    let page = page(viewer, here, &config, &offers, report, error.map(|e| e.message), keys_text);
    Ok((status, page).into_response())
}

/// `GET /projects/{project}/config`.
pub(crate) async fn config(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(project): Path<String>,
) -> Result<Response, PageError> {
    let project = project_key(&project)?;
    render(&state, &viewer, uri.path(), &project, None, None, String::new()).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct ImportForm {
    csrf: Option<String>,
    /// The KEYS file's text.
    keys: Option<String>,
}

/// `POST /projects/{project}/config/keys`: imports a KEYS file into the project's committee
/// (`Services::import_keys`, which decides who may) and shows the page with what happened to
/// each key; a refusal is shown at the top, having changed nothing.
pub(crate) async fn import(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(project): Path<String>,
    form: Result<Form<ImportForm>, FormRejection>,
) -> Response {
    let project = match project_key(&project) {
        Ok(project) => project,
        Err(error) => return error.into_response(),
    };
    let here = format!("/projects/{project}/config");
    let mut text = String::new();
    let result = async {
        let Form(form) = form.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                PageError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("The KEYS file is larger than {MAX_KEYS_FILE_BYTES} bytes."),
                )
            } else {
                PageError::bad_request(format!("The form could not be read: {}", e.body_text()))
            }
        })?;
        if !viewer.verify(form.csrf.as_deref()) {
            return Err(super::forms::bad_token());
        }
        text = form.keys.unwrap_or_default();
        if text.trim().is_empty() {
            return Err(PageError::new(StatusCode::UNPROCESSABLE_ENTITY, "KEYS: paste the text of a KEYS file."));
        }
        if text.len() > MAX_KEYS_FILE_BYTES {
            return Err(PageError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("KEYS: the text is larger than {MAX_KEYS_FILE_BYTES} bytes."),
            ));
        }
        let committee = state.services.get_project(&project).await?.project.committee;
        let at = now();
        let read = crate::api::keys::parse_keys(Bytes::from(text.clone()), at).await?;
        Ok::<_, PageError>(state.services.import_keys(&viewer.principal, &committee, read, at).await?)
    }
    .await;
    let (shown, error, kept) = match result {
        Ok(import) => (Some(report(&import)), None, String::new()),
        Err(error) => (None, Some(error), text),
    };
    match render(&state, &viewer, &here, &project, shown, error.clone(), kept).await {
        Ok(page) => page,
        Err(failed) => error.unwrap_or(failed).into_response(),
    }
}
