//! Tokens, signing keys, the task queue and CVE records.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use atr_api::Operation;
use atr_api::endpoints as op;
use atr_api::{
    CveFields, CveLink as WireCveLink, CveRecord, KeyImportReport, NewCveLink, NewToken as WireNewToken, ReleaseKey,
    Runner, Severity, SigningKey, StatusCounts, Task,
};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use super::api::{Api, Failure, Outcome, Reply, exit, path_of, segment};
use super::output;
use super::{CveCommand, CveLink, CveSeverity, KeysCommand, TasksCommand, TokenCommand};

/// What `atr token create` asks for.
#[derive(Debug)]
pub(crate) struct NewToken<'a> {
    pub user: &'a str,
    pub projects: &'a [String],
    pub actions: &'a [String],
    pub expires: &'a str,
    pub name: &'a str,
}

/// Days from `30d` or `30`.
fn days(text: &str) -> Outcome<u32> {
    let digits = text.trim().strip_suffix('d').unwrap_or(text.trim());
    digits
        .parse::<u32>()
        .ok()
        .filter(|d| (1..=366).contains(d))
        .ok_or_else(|| Failure::usage(format!("--expires {text}: say a number of days from 1 to 366, such as 30d")))
}

/// The password of a command that signs in (`atr token create`, `atr vote cast`, `atr admin`):
/// `ATR_PASSWORD`, else the next line of stdin.
pub(crate) fn password() -> Outcome<String> {
    secret("ATR_PASSWORD", "password")
}

/// A secret from the environment variable `var`, else the next line of stdin; on a terminal it
/// is asked for by a prompt that does not show what is typed.
pub(crate) fn secret(var: &str, what: &str) -> Outcome<String> {
    if let Ok(value) = std::env::var(var)
        && !value.is_empty()
    {
        return Ok(value);
    }
    let stdin = std::io::stdin();
    let line = if stdin.is_terminal() {
        // On a terminal the secret is typed without showing it.
        rpassword::prompt_password(format!("{what}: "))
            .map_err(|e| Failure::other(format!("cannot read the {what}: {e}")))?
    } else {
        let mut line = String::new();
        stdin.lock().read_line(&mut line).map_err(|e| Failure::other(format!("cannot read stdin: {e}")))?;
        line
    };
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    if line.is_empty() {
        return Err(Failure::usage(format!("no {what} given")).hint(format!("set {var}, or pipe the {what} to stdin")));
    }
    Ok(line)
}

/// `atr token create`: signs in with a session (tokens cannot create tokens), creates the token,
/// signs out, and prints the token once.
pub(crate) async fn create_token(api: &Api, request: &NewToken<'_>, json: bool) -> Outcome {
    let expires_in_days = days(request.expires)?;
    let password = password()?;
    let session = api.sign_in(request.user, &password).await?;
    let body = WireNewToken {
        name: request.name.to_owned(),
        projects: request.projects.to_vec(),
        activities: request.actions.to_vec(),
        expires_in_days,
    };
    let created = session.op(op::CreateToken, op::CreateToken::ENDPOINT.path, Some(&body)).await;
    // Sign out whatever happened: the session is not needed any more.
    session.sign_out().await;
    let created = created?;
    if json {
        output::print_json(&created.json);
        return Ok(());
    }
    let created = &created.body;
    println!("{}", created.token);
    let activities: Vec<String> = created.activities.iter().map(output::name).collect();
    eprintln!(
        "token {} of {} for projects {}, allowing {}, expires {}",
        created.id,
        created.owner,
        output::list(&created.projects),
        output::list(&activities),
        output::date(created.expires_at)
    );
    eprintln!("it is shown this once: keep it, or store it with `atr login --server {} < FILE`", api.server());
    Ok(())
}

/// `atr token list|revoke`.
pub(crate) async fn token(api: &Api, command: &TokenCommand, json: bool) -> Outcome {
    match command {
        TokenCommand::Create { .. } => Err(Failure::usage("token create signs in by itself")),
        TokenCommand::List => {
            let answer = api.op(op::ListTokens, op::ListTokens::ENDPOINT.path, None).await?;
            if json {
                output::print_json(&answer.json);
                return Ok(());
            }
            for t in &answer.body.tokens {
                let activities: Vec<String> = t.activities.iter().map(output::name).collect();
                println!(
                    "{}  {:<8} {:<20} projects {} allows {} expires {}",
                    t.id,
                    output::name(&t.status),
                    t.name,
                    output::list(&t.projects),
                    output::list(&activities),
                    output::date(t.expires_at)
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            let id = id.trim().strip_prefix("atr_").map_or(id.trim(), |rest| rest.split('_').next().unwrap_or(rest));
            api.op(op::RevokeToken, &path_of(op::RevokeToken, &[("id", id)], ""), None).await?;
            println!("token {id} revoked");
            Ok(())
        }
    }
}

fn read_file(path: &std::path::Path) -> Outcome<Vec<u8>> {
    std::fs::read(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
}

/// The path parameters of a committee's key routes.
fn of_committee(committee: &str) -> [(&'static str, &str); 1] {
    [("key", committee)]
}

fn key_line(key: &SigningKey) -> String {
    format!(
        "{}  {} {}  {}",
        key.fingerprint,
        key.algorithm,
        key.bits.map_or_else(String::new, |b| b.to_string()),
        output::list(&key.user_ids)
    )
}

/// `atr keys ...`.
#[expect(clippy::too_many_lines, reason = "one arm per subcommand, each short")]
pub(crate) async fn keys(api: &Api, command: &KeysCommand, json: bool) -> Outcome {
    let answer = match command {
        KeysCommand::List { committee } => {
            let path = path_of(op::CommitteeKeys, &of_committee(committee), "");
            let answer = api.op(op::CommitteeKeys, &path, None).await?;
            if !json {
                for key in &answer.body {
                    println!("{}", key_line(key));
                }
            }
            answer.json
        }
        KeysCommand::Add { committee, file } => {
            let request = api
                .request_for(op::AddKey, &path_of(op::AddKey, &of_committee(committee), ""))
                .header(CONTENT_TYPE, "application/pgp-keys")
                .body(read_file(file)?);
            let answer: Reply<SigningKey> = Reply::read(api.send(request).await?).await?;
            if !json {
                let what = if answer.status == StatusCode::CREATED { "added" } else { "already known; linked" };
                println!("key {} {what} to {committee}", answer.body.fingerprint);
            }
            answer.json
        }
        KeysCommand::Import { committee, keys } => {
            let request = api
                .request_for(op::ImportKeys, &path_of(op::ImportKeys, &of_committee(committee), ""))
                .header(CONTENT_TYPE, "text/plain")
                .body(read_file(keys)?);
            let answer: Reply<KeyImportReport> = Reply::read(api.send(request).await?).await?;
            if !json {
                let report = &answer.body;
                println!(
                    "{committee}: {} key(s) added, {} updated, {} rejected",
                    report.added.len(),
                    report.updated.len(),
                    report.rejected.len()
                );
                for r in &report.rejected {
                    println!("rejected {}: {}", output::text(r.fingerprint.as_deref()), r.reason);
                }
            }
            answer.json
        }
        KeysCommand::Export { committee } => {
            let request = api.request_for(op::GetKeysFile, &path_of(op::GetKeysFile, &of_committee(committee), ""));
            let text = api
                .send(request)
                .await?
                .bytes()
                .await
                .map_err(|e| Failure::other(format!("the answer was cut off: {e}")))?;
            let mut out = std::io::stdout();
            out.write_all(&text)
                .and_then(|()| out.flush())
                .map_err(|e| Failure::other(format!("cannot write stdout: {e}")))?;
            return Ok(());
        }
        KeysCommand::Delete { fingerprint } => {
            let path = path_of(op::DeleteKey, &[("fingerprint", fingerprint)], "");
            api.op(op::DeleteKey, &path, None).await.map_err(|f| {
                f.hint_for(
                    exit::CONFLICT,
                    format!("releases used the key: `atr keys releases {fingerprint}` lists them"),
                )
            })?;
            println!("key {fingerprint} deleted");
            return Ok(());
        }
        KeysCommand::Show { fingerprint } => {
            let path = path_of(op::GetKey, &[("fingerprint", fingerprint)], "");
            let answer = api.op(op::GetKey, &path, None).await?;
            if !json {
                let key = &answer.body;
                println!("{}", key_line(key));
                println!("key id     {}", key.key_id);
                println!("owner      {}", output::text(key.owner.as_deref()));
                println!("created    {}", output::date(key.created_at));
                if let Some(expires) = key.expires_at {
                    println!("expires    {}", output::date(expires));
                }
                if key.revoked {
                    println!("revoked    yes");
                }
                println!("committees {}", output::list(&key.committees));
                if let Some(armored) = &key.armored {
                    println!("{}", armored.trim_end());
                }
            }
            answer.json
        }
        KeysCommand::Link { committee, fingerprint } => {
            let path = path_of(op::LinkKey, &[("key", committee), ("fingerprint", fingerprint)], "");
            let answer = api.op(op::LinkKey, &path, None).await.map_err(|f| {
                f.hint_for(exit::NOT_FOUND, "a key is linked once it is known: `atr keys add COMMITTEE FILE` adds it")
            })?;
            if !json {
                println!("key {} linked to {committee}", answer.body.fingerprint);
            }
            answer.json
        }
        KeysCommand::User { user } => {
            let answer = api.op(op::UserKeys, &path_of(op::UserKeys, &[("id", user)], ""), None).await?;
            if !json {
                for key in &answer.body {
                    println!("{}", key_line(key));
                }
                if answer.body.is_empty() {
                    eprintln!("{user} owns no signing key known here");
                }
            }
            answer.json
        }
        KeysCommand::Releases { fingerprint } => {
            let path = path_of(op::ReleasesSigned, &[("fingerprint", fingerprint)], "");
            let answer = api.op(op::ReleasesSigned, &path, None).await?;
            if !json {
                for r in &answer.body {
                    println!("{}", release_name(r));
                }
            }
            answer.json
        }
    };
    if json {
        output::print_json(&answer);
    }
    Ok(())
}

fn task_line(task: &Task) -> String {
    let about = task
        .revision_args()
        .map(|args| format!(" {} {} revision {}", args.release.project, args.release.version, args.revision))
        .unwrap_or_default();
    let error = task.error.as_deref().map(|e| format!(" error: {e}")).unwrap_or_default();
    format!(
        "{:>6} {:<10} {:<9} attempts {}/{}{about}{error}",
        task.id,
        task.kind,
        output::name(&task.status),
        task.attempts,
        task.max_attempts
    )
}

/// A task runner in a line: its id, name, host and process, what it handles, whether it is there
/// and its last heartbeat.
fn runner_line(runner: &Runner) -> String {
    let seen = atr_core::types::Timestamp::from_unix(runner.last_seen_ms.div_euclid(1000));
    let state = match runner.stopped_at_ms {
        Some(_) => "stopped",
        None if runner.live => "live",
        None => "not seen lately",
    };
    format!(
        "runner {} ({} on {}, pid {}): {}, concurrency {}, {state}, last heartbeat {seen}",
        runner.id,
        runner.name,
        runner.host,
        runner.pid,
        output::list(&runner.kinds),
        runner.concurrency
    )
}

/// `atr tasks ...`.
pub(crate) async fn tasks(api: &Api, command: &TasksCommand, json: bool) -> Outcome {
    let (answer, lines): (serde_json::Value, Vec<String>) = match command {
        TasksCommand::List { status, limit } => {
            let path = path_of(op::ListTasks, &[], &format!("?status={}&limit={limit}", segment(status)));
            let answer = api.op(op::ListTasks, &path, None).await?;
            let lines = answer.body.iter().map(task_line).collect();
            (answer.json, lines)
        }
        TasksCommand::Show { id } => {
            let answer = api.op(op::GetTask, &path_of(op::GetTask, &[("id", &id.to_string())], ""), None).await?;
            let mut lines = vec![task_line(&answer.body)];
            if let Some(result) = &answer.body.result {
                lines.push(format!("result {result}"));
            }
            (answer.json, lines)
        }
        TasksCommand::Cancel { id } => {
            let path = path_of(op::CancelTask, &[("id", &id.to_string())], "");
            let answer = api
                .op(op::CancelTask, &path, None)
                .await
                .map_err(|f| f.hint_for(exit::CONFLICT, format!("`atr tasks show {id}` shows the task")))?;
            let line = format!("task {id} cancelled: {}", task_line(&answer.body).trim_start());
            (answer.json, vec![line])
        }
        TasksCommand::Retry { id } => {
            let path = path_of(op::RetryTask, &[("id", &id.to_string())], "");
            let answer = api
                .op(op::RetryTask, &path, None)
                .await
                .map_err(|f| f.hint_for(exit::CONFLICT, format!("`atr tasks show {id}` shows the task")))?;
            let line = format!("task {id} queued again: {}", task_line(&answer.body).trim_start());
            (answer.json, vec![line])
        }
        TasksCommand::Status => {
            let answer = api.op(op::GetQueueStatus, op::GetQueueStatus::ENDPOINT.path, None).await?;
            let row = |name: &str, c: &StatusCounts| {
                format!(
                    "{name:<10} queued {} active {} completed {} failed {} cancelled {}",
                    c.queued, c.active, c.completed, c.failed, c.cancelled
                )
            };
            let mut lines: Vec<String> = answer.body.kinds.iter().map(|(kind, counts)| row(kind, counts)).collect();
            lines.push(row("total", &answer.body.total));
            if answer.body.runners.is_empty() {
                lines.push("no task runner has ever run against this database".to_owned());
            }
            lines.extend(answer.body.runners.iter().map(runner_line));
            lines.extend(answer.body.waiting.iter().map(|w| format!("{:<10} {}", w.kind, w.message)));
            (answer.json, lines)
        }
    };
    if json {
        output::print_json(&answer);
    } else {
        for line in lines {
            println!("{line}");
        }
    }
    Ok(())
}

/// `atr cve ...`.
pub(crate) async fn cve(api: &Api, command: &CveCommand, json: bool) -> Outcome {
    match command {
        CveCommand::Release { release, link } => return super::files::release_cves(api, release, *link, json).await,
        CveCommand::Add { project, id, title, description, severity } => {
            let body = CveFields {
                title: title.clone(),
                description: description.clone().unwrap_or_default(),
                severity: severity.map(severity_of),
                cvss: None,
                references: Vec::new(),
                published_at: None,
            };
            let path = path_of(op::RecordCve, &[("project", project), ("id", id)], "");
            let answer = api.op(op::RecordCve, &path, Some(&body)).await?;
            if json {
                output::print_json(&answer.json);
            } else {
                let what = if answer.status == StatusCode::CREATED { "recorded" } else { "updated" };
                println!("{} {what} for {project}: {}", answer.body.id, cve_summary(&answer.body));
            }
        }
        CveCommand::List { after, limit } => {
            let after = after.as_deref().map(|a| format!("&after={}", segment(a))).unwrap_or_default();
            let answer =
                api.op(op::ListCves, &path_of(op::ListCves, &[], &format!("?limit={limit}{after}")), None).await?;
            if json {
                output::print_json(&answer.json);
            } else {
                for record in &answer.body {
                    println!("{:<16} {}", record.id, cve_summary(record));
                }
                if answer.body.is_empty() {
                    eprintln!("no CVE records");
                }
            }
        }
        CveCommand::Show { id } => {
            let answer = api.op(op::GetCve, &path_of(op::GetCve, &[("id", id)], ""), None).await?;
            if json {
                output::print_json(&answer.json);
            } else {
                println!("{}", answer.body.id);
                // Every other field, by name, as the record writes it.
                let fields = serde_json::to_value(&answer.body).unwrap_or_default();
                for (field, value) in fields.as_object().into_iter().flatten() {
                    if field != "id" && !value.is_null() {
                        println!("  {field}: {value}");
                    }
                }
            }
        }
        CveCommand::Link { release, id, link } => {
            let link = match link {
                CveLink::Affects => WireCveLink::Affects,
                CveLink::Resolves => WireCveLink::Resolves,
            };
            let body = NewCveLink { id: id.clone(), link };
            let answer = api.op(op::LinkCve, &release.at(op::LinkCve, &[]), Some(&body)).await?;
            if json {
                output::print_json(&answer.json);
            } else {
                println!(
                    "{id} linked to {}: it {}",
                    release.name(),
                    if link == WireCveLink::Affects { "affects it" } else { "is resolved by it" }
                );
            }
        }
    }
    Ok(())
}

fn severity_of(severity: CveSeverity) -> Severity {
    match severity {
        CveSeverity::Low => Severity::Low,
        CveSeverity::Moderate => Severity::Moderate,
        CveSeverity::Important => Severity::Important,
        CveSeverity::Critical => Severity::Critical,
    }
}

/// `project[/product] version` of a release key.
fn release_name(key: &ReleaseKey) -> String {
    let product = key.product.as_deref().map(|p| format!("/{p}")).unwrap_or_default();
    format!("{}{product} {}", key.project, key.version)
}

/// The title, severity and links of a CVE record, on one line.
fn cve_summary(record: &CveRecord) -> String {
    let mut parts = vec![record.title.clone()];
    if let Some(severity) = &record.severity {
        parts[0] = format!("{} [{}]", parts[0], output::name(severity));
    }
    for (releases, label) in [(&record.affects, "affects"), (&record.resolved_by, "resolved by")] {
        let releases: Vec<String> = releases.iter().map(release_name).collect();
        if !releases.is_empty() {
            parts.push(format!("{label} {}", releases.join(", ")));
        }
    }
    parts.join("; ")
}
