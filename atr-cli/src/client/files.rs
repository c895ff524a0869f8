//! A release's files and revisions: listing releases, revisions and files, deleting and moving
//! files of a draft (each a new revision), re-running the checks, SBOMs and a release's CVEs.

use std::fmt::Write as _;

use atr_api::endpoints as op;
use atr_api::{Analyze, CheckStatus, CveLink as WireCveLink, MoveFile, NewRevision, Release, Revision, Stage};
use clap::ValueEnum;
use reqwest::header::IF_MATCH;
use serde_json::{Value, json};

use super::api::{Api, Failure, Outcome, Reply, exit, path_of, segment};
use super::output;
use super::transfer::if_match;
use super::{CveLink, ReleaseArgs};

/// The stage `atr release list` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ListedStage {
    /// Drafts and previews: not public yet.
    Draft,
    /// Under vote.
    Candidate,
    /// Released.
    Current,
    /// Revoked.
    Revoked,
}

/// What `atr release list` asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReleaseListing<'a> {
    pub project: &'a str,
    pub stage: ListedStage,
    pub product: Option<&'a str>,
    pub after: Option<&'a str>,
    pub limit: u32,
}

fn release_line(release: &Release) -> String {
    let key = &release.key;
    let name = match &key.product {
        Some(product) => format!("{}/{product}", key.project),
        None => key.project.clone(),
    };
    let revision = release.latest_revision.map_or_else(|| "no files".to_owned(), |n| format!("revision {n}"));
    let vote = release.vote.as_ref().map(|v| format!(", vote on revision {}", v.revision)).unwrap_or_default();
    format!(
        "{name:<20} {:<14} {:<10} {:<10} {revision}{vote}, created {} by {}",
        key.version,
        output::name(&release.phase),
        output::name(&release.state),
        output::date(release.created_at),
        release.created_by
    )
}

/// `atr release list`.
pub(crate) async fn list(api: &Api, listing: &ReleaseListing<'_>, json: bool) -> Outcome {
    let mut query = format!("?limit={}", listing.limit);
    let stage = match listing.stage {
        ListedStage::Draft => None,
        ListedStage::Candidate => Some(Stage::Candidate),
        ListedStage::Current => Some(Stage::Current),
        ListedStage::Revoked => Some(Stage::Revoked),
    };
    if let Some(stage) = stage {
        let _ = write!(query, "&stage={}", output::name(&stage));
    }
    if let Some(product) = listing.product {
        let _ = write!(query, "&product={}", segment(product));
    }
    if let Some(after) = listing.after {
        let _ = write!(query, "&after={}", segment(after));
    }
    let path = path_of(op::ListReleases, &[("project", listing.project)], &query);
    let answer = api.op(op::ListReleases, &path, None).await?;
    if json {
        output::print_json(&answer.json);
        return Ok(());
    }
    for release in &answer.body {
        println!("{}", release_line(release));
    }
    let stage = match listing.stage {
        ListedStage::Draft => "draft or preview".to_owned(),
        other => other.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default(),
    };
    if answer.body.is_empty() {
        eprintln!("{} has no {stage} release", listing.project);
    } else if answer.body.len() == listing.limit as usize
        && let Some(last) = answer.body.last()
    {
        eprintln!("more may follow: add `--after {}`", last.key.version);
    }
    Ok(())
}

/// The latest revision of a release, or a failure saying there is none.
pub(crate) async fn latest_revision(api: &Api, release: &ReleaseArgs) -> Outcome<u32> {
    let answer = api.op(op::GetRelease, &release.at(op::GetRelease, &[]), None).await?;
    answer.body.release.latest_revision.ok_or_else(|| {
        Failure::new(exit::CONFLICT, format!("release {} has no files yet", release.name()))
            .hint(format!("upload them first: `atr upload {} FILE...`", release.args()))
    })
}

/// `atr release files`.
pub(crate) async fn files(api: &Api, release: &ReleaseArgs, revision: Option<u32>, json: bool) -> Outcome {
    let revision = match revision {
        Some(n) => n,
        None => latest_revision(api, release).await?,
    };
    let number = revision.to_string();
    let answer = api.op(op::GetRevision, &release.at(op::GetRevision, &[("number", &number)]), None).await?;
    if json {
        output::print_json(&answer.json);
        return Ok(());
    }
    let r: &Revision = &answer.body;
    eprintln!("{} revision {}: {} file(s)", release.name(), r.number, r.files.len());
    for file in &r.files {
        println!("{:>12}  {}  sha512 {}", file.size, file.path, &file.sha512[..file.sha512.len().min(16)]);
    }
    Ok(())
}

/// `atr release revisions`.
pub(crate) async fn revisions(api: &Api, release: &ReleaseArgs, json: bool) -> Outcome {
    let answer = api.op(op::ListRevisions, &release.at(op::ListRevisions, &[]), None).await?;
    if json {
        output::print_json(&answer.json);
        return Ok(());
    }
    for r in &answer.body {
        let parent = r.parent.map_or_else(|| "-".to_owned(), |p| p.to_string());
        println!(
            "{:>5}  parent {parent:<5} {:<8} {} file(s)  {} by {}{}",
            r.number,
            output::name(&r.phase),
            r.files.len(),
            output::date(r.created_at),
            r.created_by,
            r.description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
        );
    }
    if answer.body.is_empty() {
        eprintln!("{} has no revisions yet", release.name());
    }
    Ok(())
}

/// `atr release delete-draft`.
pub(crate) async fn delete_draft(api: &Api, release: &ReleaseArgs, json: bool) -> Outcome {
    let answer = api.op(op::DeleteDraft, &release.at(op::DeleteDraft, &[]), None).await.map_err(|f| {
        f.hint_for(
            exit::CONFLICT,
            format!("only a draft is deleted; `atr revoke {} --reason ...` revokes a release", release.args()),
        )
        .hint_for(exit::REFUSED, "deleting a draft needs `manage_release` on the project")
    })?;
    if json {
        output::print_json(&answer.json);
    } else {
        let revisions = answer.body.latest_revision.unwrap_or(0);
        println!("{} deleted, with its {revisions} revision(s); its history stays in `atr events`", release.name());
    }
    Ok(())
}

/// `atr release source`: sets or clears the source repository and commit.
pub(crate) async fn set_source(
    api: &Api,
    release: &ReleaseArgs,
    origin: Option<atr_api::SourceOrigin>,
    json: bool,
) -> Outcome {
    let hint = |f: Failure| {
        f.hint_for(
            exit::CONFLICT,
            format!(
                "the source is set before the vote, while the files may change: `atr release show {}`",
                release.args()
            ),
        )
        .hint_for(exit::REFUSED, "setting the source needs `manage_release` on the project")
    };
    let answer = match &origin {
        Some(origin) => api.op(op::SetSource, &release.at(op::SetSource, &[]), Some(origin)).await.map_err(hint)?,
        None => api.op(op::ClearSource, &release.at(op::ClearSource, &[]), None).await.map_err(hint)?,
    };
    if json {
        output::print_json(&answer.json);
        return Ok(());
    }
    match &answer.body.release.source {
        Some(source) => println!("{}: source is {} at commit {}", release.name(), source.repository, source.commit),
        None => println!("{}: source cleared", release.name()),
    }
    if let Some(task) = &answer.body.analyze_task {
        println!("the checks run again as task {}: `atr checks {} --wait` shows them", task.id, release.args());
    }
    Ok(())
}

/// The hint of a change of a draft's files that met a newer revision or a frozen release.
fn changed_since(release: &ReleaseArgs, expected: Option<u32>) -> String {
    let since = expected.map_or_else(|| "it had no files".to_owned(), |n| format!("revision {n}"));
    format!(
        "{} changed since {since} (another change, or the vote started): `atr release show {}` shows it",
        release.name(),
        release.args()
    )
}

/// `atr rm`: each path deleted as a new revision, each naming the revision it expects.
pub(crate) async fn remove(api: &Api, release: &ReleaseArgs, paths: &[String], json: bool) -> Outcome {
    let mut expected = Some(latest_revision(api, release).await?);
    let mut answers = Vec::new();
    for path in paths {
        let path = path.trim_matches('/');
        let request = api
            .request_for(op::DeleteFile, &release.at(op::DeleteFile, &[("path", path)]))
            .header(IF_MATCH, if_match(expected));
        let sent = api.send(request).await.map_err(|f| {
            let listing = format!("`atr release files {}` lists the files of the latest revision", release.args());
            f.hint_for(exit::CONFLICT, changed_since(release, expected))
                .hint_for(exit::NOT_FOUND, listing.clone())
                .hint_for(exit::USAGE, listing)
        })?;
        let answer: Reply<NewRevision> = Reply::read(sent).await?;
        let revision = answer.body.revision.number;
        if !json {
            println!("deleted {path}: revision {revision}");
        }
        expected = Some(revision);
        answers.push(answer.json);
    }
    if json {
        output::print_json(&Value::Array(answers));
    } else if let Some(n) = expected {
        eprintln!("the checks run now: `atr checks {} --revision {n} --wait`", release.args());
    }
    Ok(())
}

/// `atr mv`: a file or folder moved or renamed, as a new revision.
pub(crate) async fn rename(api: &Api, release: &ReleaseArgs, from: &str, to: &str, json: bool) -> Outcome {
    let expected = Some(latest_revision(api, release).await?);
    let body = MoveFile { from: from.trim_matches('/').to_owned(), to: to.trim_matches('/').to_owned() };
    let request = api
        .request_for(op::MoveReleaseFile, &release.at(op::MoveReleaseFile, &[]))
        .header(IF_MATCH, if_match(expected))
        .json(&body);
    let sent = api.send(request).await.map_err(|f| f.hint_for(exit::CONFLICT, changed_since(release, expected)))?;
    let answer: Reply<NewRevision> = Reply::read(sent).await?;
    if json {
        output::print_json(&answer.json);
    } else {
        let revision = answer.body.revision.number;
        println!("moved {} to {}: revision {revision}", body.from, body.to);
        eprintln!("the checks run now: `atr checks {} --revision {revision} --wait`", release.args());
    }
    Ok(())
}

/// `atr checks rerun`: queues the checks of a revision again (after KEYS changed, say); with
/// `force`, even the checks whose inputs did not change.
pub(crate) async fn rerun(api: &Api, release: &ReleaseArgs, revision: Option<u32>, force: bool, json: bool) -> Outcome {
    let revision = match revision {
        Some(n) => n,
        None => latest_revision(api, release).await?,
    };
    let path = release.at(op::AnalyzeRevision, &[]);
    let answer = api.op(op::AnalyzeRevision, &path, Some(&Analyze { revision, force })).await?;
    if json {
        output::print_json(&answer.json);
    } else {
        println!(
            "checks of {} revision {revision} queued: task {} ({})",
            release.name(),
            answer.body.id,
            output::name(&answer.body.status)
        );
        eprintln!("`atr checks {} --revision {revision} --wait` waits for them", release.args());
    }
    Ok(())
}

/// `atr sboms`.
pub(crate) async fn sboms(api: &Api, release: &ReleaseArgs, json: bool) -> Outcome {
    let answer = api.op(op::ListSboms, &release.at(op::ListSboms, &[]), None).await?;
    if json {
        output::print_json(&answer.json);
        return Ok(());
    }
    let listing = &answer.body;
    let Some(revision) = listing.revision else {
        eprintln!("{} has no files yet", release.name());
        return Ok(());
    };
    if listing.sboms.is_empty() {
        eprintln!("{} revision {revision} has no SBOM file (*.cdx.json, *.spdx.json)", release.name());
    }
    for sbom in &listing.sboms {
        let count = |status: CheckStatus| sbom.checks.iter().filter(|c| c.status == status).count();
        println!(
            "{} ({} bytes): {} blocker(s), {} warning(s), {} success(es)",
            sbom.file.path,
            sbom.file.size,
            count(CheckStatus::Blocker),
            count(CheckStatus::Warning),
            count(CheckStatus::Success)
        );
        for check in sbom.checks.iter().filter(|c| c.status != CheckStatus::Success) {
            println!("  {} {}: {}", output::name(&check.status), check.checker, check.message);
        }
    }
    Ok(())
}

/// `atr cve release`: the CVEs that affect a release or that it resolves.
pub(crate) async fn release_cves(api: &Api, release: &ReleaseArgs, link: Option<CveLink>, json: bool) -> Outcome {
    let links = match link {
        Some(CveLink::Affects) => vec![WireCveLink::Affects],
        Some(CveLink::Resolves) => vec![WireCveLink::Resolves],
        None => vec![WireCveLink::Affects, WireCveLink::Resolves],
    };
    let mut all = serde_json::Map::new();
    for link in links {
        let name = output::name(&link);
        let mut query = format!("?link={name}");
        if let Some(product) = &release.product {
            let _ = write!(query, "&product={}", segment(product));
        }
        let params = [("project", release.project.as_str()), ("version", release.version.as_str())];
        let path = path_of(op::ReleaseCves, &params, &query);
        let answer = api.op(op::ReleaseCves, &path, None).await?;
        if !json {
            let verb = if link == WireCveLink::Affects { "affects" } else { "resolved by" };
            if answer.body.is_empty() {
                println!("{verb:<11} -");
            }
            for record in &answer.body {
                println!("{verb:<11} {:<16} {}", record.id, record.title);
            }
        }
        all.insert(name, answer.json);
    }
    if json {
        output::print_json(&json!(all));
    }
    Ok(())
}
