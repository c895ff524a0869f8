//! The pages of the records a release refers to: a signing key (its facts and what it signed), a
//! CVE (what it affects and which release resolves it) and a task (its status, attempts and
//! timing, for those the core lets see it).

use askama::Template;
use askama_web::WebTemplate;
use atr_core::model::ReleaseKey;
use atr_core::types::{CveId, Fingerprint};
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::view::{self, time};
use super::{Layout, PageError, Viewer, release_url};
use crate::AppState;
use crate::auth::now;

type PageResult = Result<Response, PageError>;

fn here(uri: &Uri) -> String {
    uri.path().to_owned()
}

/// A fact of a record, as a row of a definition list.
pub(crate) struct Fact {
    pub(crate) name: &'static str,
    pub(crate) value: String,
}

/// A release named by a record, with its page.
pub(crate) struct ReleaseLink {
    pub(crate) name: String,
    pub(crate) url: String,
}

fn release_link(key: &ReleaseKey) -> ReleaseLink {
    ReleaseLink { name: key.to_string(), url: release_url(key) }
}

// ---------------------------------------------------------------------------------------------
// Keys.

#[derive(Template, WebTemplate)]
#[template(path = "key.html")]
struct KeyPage {
    layout: Layout,
    fingerprint: String,
    facts: Vec<Fact>,
    user_ids: Vec<String>,
    committees: Vec<String>,
    signed: Vec<ReleaseLink>,
}

/// The page of a key.
pub(crate) fn key_url(fingerprint: &str) -> String {
    format!("/keys/{fingerprint}")
}

/// `GET /keys/{fingerprint}`: a signing key's facts and the releases it signed.
pub(crate) async fn key(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(fingerprint): Path<String>,
) -> PageResult {
    let fingerprint = Fingerprint::parse(&fingerprint).map_err(|_| {
        PageError::new(StatusCode::NOT_FOUND, "There is no such key: a fingerprint is 40 or 64 hexadecimal digits.")
    })?;
    let key = state.services.signing_key(&fingerprint).await?;
    let signed = state.services.key_releases(&viewer.principal, &fingerprint, now()).await?;
    let wire = atr_api::SigningKey::summary(&key);
    let algorithm = match wire.bits {
        Some(bits) => format!("{} {bits} bits", wire.algorithm),
        None => wire.algorithm.clone(),
    };
    let mut facts = vec![
        Fact { name: "Fingerprint", value: wire.fingerprint.clone() },
        Fact { name: "Key id", value: wire.key_id.clone() },
        Fact { name: "Algorithm", value: algorithm },
        Fact { name: "Created", value: time(wire.created_at) },
        Fact { name: "Expires", value: wire.expires_at.map_or_else(|| "never".to_owned(), time) },
        Fact { name: "Owner", value: wire.owner.clone().unwrap_or_else(|| "not known".to_owned()) },
        Fact { name: "Added", value: time(wire.added_at) },
    ];
    if wire.revoked {
        facts.push(Fact { name: "Revoked", value: "yes: the key's owner revoked it".to_owned() });
    }
    let page = KeyPage {
        layout: Layout::new(format!("Key {}", wire.key_id), &viewer, &here(&uri)),
        fingerprint: wire.fingerprint,
        facts,
        user_ids: wire.user_ids,
        committees: wire.committees,
        signed: signed.iter().map(release_link).collect(),
    };
    Ok(page.into_response())
}

// ---------------------------------------------------------------------------------------------
// CVEs.

/// A reference of a CVE record: a link when it is a web address.
struct Reference {
    text: String,
    href: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "cve.html")]
struct CvePage {
    layout: Layout,
    id: String,
    title: String,
    description: String,
    facts: Vec<Fact>,
    references: Vec<Reference>,
    affects: Vec<ReleaseLink>,
    resolved_by: Vec<ReleaseLink>,
}

/// `GET /cves/{id}`: a CVE record, the releases it affects and those that resolve it.
pub(crate) async fn cve(State(state): State<AppState>, viewer: Viewer, uri: Uri, Path(id): Path<String>) -> PageResult {
    let id = CveId::parse(&id)
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such CVE: an id looks like CVE-2026-1234."))?;
    let record = state.services.cve(&viewer.principal, &id, now()).await?;
    let wire = atr_api::CveRecord::from(&record);
    let mut facts = vec![Fact {
        name: "Severity",
        value: wire
            .severity
            .map_or_else(|| "not stated".to_owned(), |s| view::plain(&serde_json::to_value(s).unwrap_or_default())),
    }];
    if let Some(cvss) = &wire.cvss {
        facts.push(Fact {
            name: "CVSS",
            value: format!("{}.{} ({})", cvss.score_tenths / 10, cvss.score_tenths % 10, cvss.vector),
        });
    }
    facts.push(Fact { name: "Published", value: wire.published_at.map_or_else(|| "not yet".to_owned(), time) });
    let references = wire
        .references
        .iter()
        .map(|r| Reference {
            text: r.clone(),
            href: (r.starts_with("https://") || r.starts_with("http://")).then(|| r.clone()),
        })
        .collect();
    let page = CvePage {
        layout: Layout::new(wire.id.clone(), &viewer, &here(&uri)),
        id: wire.id,
        title: wire.title,
        description: wire.description,
        facts,
        references,
        affects: record.affects.iter().map(release_link).collect(),
        resolved_by: record.resolved_by.iter().map(release_link).collect(),
    };
    Ok(page.into_response())
}

// ---------------------------------------------------------------------------------------------
// Tasks.

#[derive(Template, WebTemplate)]
#[template(path = "task.html")]
struct TaskPage {
    layout: Layout,
    id: u64,
    facts: Vec<Fact>,
    release: Option<ReleaseLink>,
    failure: Option<String>,
}

/// A time in Unix milliseconds, in words.
fn time_ms(ms: i64) -> String {
    time(ms.div_euclid(1000))
}

/// How long from `from` to `to` (Unix milliseconds), in seconds with one decimal.
fn took(from: i64, to: i64) -> String {
    let ms = to.saturating_sub(from).max(0);
    format!("{}.{} s", ms / 1000, (ms % 1000) / 100)
}

/// `GET /tasks/{id}`: a task, for those the core lets see it (`view tasks` on its project); the
/// others get the refusal in words.
pub(crate) async fn task(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(id): Path<String>,
) -> PageResult {
    let id: u64 = id
        .parse()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such task: a task id is a number."))?;
    let view = state.services.task(&viewer.principal, id, now()).await?;
    let wire = atr_api::Task::from(&view);
    let status = view::plain(&serde_json::to_value(wire.status).unwrap_or_default());
    let mut facts = vec![
        Fact { name: "Status", value: status },
        Fact { name: "Kind", value: wire.kind.clone() },
        Fact { name: "Attempts", value: format!("{} of at most {}", wire.attempts, wire.max_attempts) },
        Fact { name: "Priority", value: wire.priority.to_string() },
        Fact { name: "Queued", value: time_ms(wire.created_at_ms) },
        Fact { name: "Scheduled for", value: time_ms(wire.scheduled_at_ms) },
        Fact { name: "Started", value: wire.started_at_ms.map_or_else(|| "not yet".to_owned(), time_ms) },
        Fact { name: "Finished", value: wire.finished_at_ms.map_or_else(|| "not yet".to_owned(), time_ms) },
    ];
    if let (Some(started), Some(finished)) = (wire.started_at_ms, wire.finished_at_ms) {
        facts.push(Fact { name: "Took", value: took(started, finished) });
    }
    if let Some(revision) = wire.args.get("revision").and_then(serde_json::Value::as_u64) {
        facts.push(Fact { name: "Revision", value: format!("{revision:05}") });
    }
    let failure = match (&wire.error, &wire.error_code) {
        (Some(message), Some(code)) => Some(format!("{message} ({code})")),
        (Some(message), None) => Some(message.clone()),
        _ => None,
    };
    let page = TaskPage {
        layout: Layout::new(format!("Task {id}"), &viewer, &here(&uri)),
        id,
        facts,
        release: view.task.release.as_ref().map(release_link),
        failure,
    };
    Ok(page.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times_read_well() {
        assert_eq!(took(1_000, 3_450), "2.4 s");
        assert_eq!(took(5_000, 1_000), "0.0 s");
        assert_eq!(time_ms(1_700_000_000_999), time(1_700_000_000));
    }
}
