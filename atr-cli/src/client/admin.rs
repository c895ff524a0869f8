//! Tokens, signing keys, the task queue and CVE records.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::api::{Api, Failure, Outcome, exit, read_json, segment};
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

/// A secret from the environment variable `var`, else the next line of stdin (prompting on a
/// terminal for `what`).
pub(crate) fn secret(var: &str, what: &str) -> Outcome<String> {
    if let Ok(value) = std::env::var(var)
        && !value.is_empty()
    {
        return Ok(value);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("{what} (it shows as you type; prefer {var}):");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|e| Failure::other(format!("cannot read stdin: {e}")))?;
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
    let body = json!({
        "name": request.name,
        "projects": request.projects,
        "activities": request.actions,
        "expires_in_days": expires_in_days,
    });
    let created = session.post("/api/tokens", &body).await;
    // Sign out whatever happened: the session is not needed any more.
    session.sign_out().await;
    let created = created?;
    if json {
        output::print_json(&created);
        return Ok(());
    }
    let token = created["token"].as_str().ok_or_else(|| Failure::other("the service answered no token"))?;
    println!("{token}");
    eprintln!(
        "token {} of {} for projects {}, allowing {}, expires {}",
        output::text(&created["id"]),
        output::text(&created["owner"]),
        output::list(&created["projects"]),
        output::list(&created["activities"]),
        output::date(&created["expires_at"])
    );
    eprintln!("it is shown this once: keep it, or store it with `atr login --server {} < FILE`", api.server());
    Ok(())
}

/// `atr token list|revoke`.
pub(crate) async fn token(api: &Api, command: &TokenCommand, json: bool) -> Outcome {
    match command {
        TokenCommand::Create { .. } => Err(Failure::usage("token create signs in by itself")),
        TokenCommand::List => {
            let answer = api.get("/api/tokens").await?;
            if json {
                output::print_json(&answer);
                return Ok(());
            }
            for t in answer["tokens"].as_array().into_iter().flatten() {
                println!(
                    "{}  {:<8} {:<20} projects {} allows {} expires {}",
                    output::text(&t["id"]),
                    output::text(&t["status"]),
                    output::text(&t["name"]),
                    output::list(&t["projects"]),
                    output::list(&t["activities"]),
                    output::date(&t["expires_at"])
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            let id = id.trim().strip_prefix("atr_").map_or(id.trim(), |rest| rest.split('_').next().unwrap_or(rest));
            api.send(api.request(Method::DELETE, &format!("/api/tokens/{}", segment(id)))).await?;
            println!("token {id} revoked");
            Ok(())
        }
    }
}

fn read_file(path: &std::path::Path) -> Outcome<Vec<u8>> {
    std::fs::read(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
}

fn key_line(key: &Value) -> String {
    format!(
        "{}  {} {}  {}",
        output::text(&key["fingerprint"]),
        output::text(&key["algorithm"]),
        key["bits"].as_u64().map_or_else(String::new, |b| b.to_string()),
        output::list(&key["user_ids"])
    )
}

/// `atr keys ...`.
pub(crate) async fn keys(api: &Api, command: &KeysCommand, json: bool) -> Outcome {
    let answer = match command {
        KeysCommand::List { committee } => {
            let answer = api.get(&format!("/api/committees/{}/keys", segment(committee))).await?;
            if !json {
                for key in answer.as_array().into_iter().flatten() {
                    println!("{}", key_line(key));
                }
            }
            answer
        }
        KeysCommand::Add { committee, file } => {
            let request = api
                .request(Method::POST, &format!("/api/committees/{}/keys", segment(committee)))
                .header(CONTENT_TYPE, "application/pgp-keys")
                .body(read_file(file)?);
            let response = api.send(request).await?;
            let created = response.status() == StatusCode::CREATED;
            let answer = read_json(response).await?;
            if !json {
                let what = if created { "added" } else { "already known; linked" };
                println!("key {} {what} to {committee}", output::text(&answer["fingerprint"]));
            }
            answer
        }
        KeysCommand::Import { committee, keys } => {
            let request = api
                .request(Method::POST, &format!("/api/committees/{}/keys/import", segment(committee)))
                .header(CONTENT_TYPE, "text/plain")
                .body(read_file(keys)?);
            let answer = read_json(api.send(request).await?).await?;
            if !json {
                let count = |field: &str| answer[field].as_array().map_or(0, Vec::len);
                println!(
                    "{committee}: {} key(s) added, {} updated, {} rejected",
                    count("added"),
                    count("updated"),
                    count("rejected")
                );
                for r in answer["rejected"].as_array().into_iter().flatten() {
                    println!("rejected {}: {}", output::text(&r["fingerprint"]), output::text(&r["reason"]));
                }
            }
            answer
        }
        KeysCommand::Export { committee } => {
            let request = api.request(Method::GET, &format!("/api/committees/{}/KEYS", segment(committee)));
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
            let request = api.request(Method::DELETE, &format!("/api/keys/{}", segment(fingerprint)));
            api.send(request).await.map_err(|f| {
                f.hint_for(
                    exit::CONFLICT,
                    format!("releases used the key: `atr keys releases {fingerprint}` lists them"),
                )
            })?;
            println!("key {fingerprint} deleted");
            return Ok(());
        }
        KeysCommand::Releases { fingerprint } => {
            let answer = api.get(&format!("/api/keys/{}/releases", segment(fingerprint))).await?;
            if !json {
                for r in answer.as_array().into_iter().flatten() {
                    let product = r["product"].as_str().map(|p| format!("/{p}")).unwrap_or_default();
                    println!("{}{product} {}", output::text(&r["project"]), output::text(&r["version"]));
                }
            }
            answer
        }
    };
    if json {
        output::print_json(&answer);
    }
    Ok(())
}

fn task_line(task: &Value) -> String {
    let release = &task["args"]["release"];
    let about = if release.is_null() {
        String::new()
    } else {
        format!(
            " {} {} revision {}",
            output::text(&release["project"]),
            output::text(&release["version"]),
            task["args"]["revision"].as_u64().unwrap_or(0)
        )
    };
    let error = task["error"].as_str().map(|e| format!(" error: {e}")).unwrap_or_default();
    format!(
        "{:>6} {:<10} {:<9} attempts {}/{}{about}{error}",
        task["id"].as_i64().unwrap_or(0),
        output::text(&task["kind"]),
        output::text(&task["status"]),
        task["attempts"].as_u64().unwrap_or(0),
        task["max_attempts"].as_u64().unwrap_or(0)
    )
}

/// `atr tasks ...`.
pub(crate) async fn tasks(api: &Api, command: &TasksCommand, json: bool) -> Outcome {
    let (answer, lines): (Value, Vec<String>) = match command {
        TasksCommand::List { status, limit } => {
            let answer = api.get(&format!("/api/tasks?status={}&limit={limit}", segment(status))).await?;
            let lines = answer.as_array().into_iter().flatten().map(task_line).collect();
            (answer, lines)
        }
        TasksCommand::Show { id } => {
            let answer = api.get(&format!("/api/tasks/{id}")).await?;
            let mut lines = vec![task_line(&answer)];
            if !answer["result"].is_null() {
                lines.push(format!("result {}", answer["result"]));
            }
            (answer, lines)
        }
        TasksCommand::Cancel { id } => {
            let answer = api.post(&format!("/api/tasks/{id}/cancel"), &json!({})).await?;
            let line = format!("task {id} cancelled: {}", task_line(&answer).trim_start());
            (answer, vec![line])
        }
        TasksCommand::Retry { id } => {
            let answer = api.post(&format!("/api/tasks/{id}/retry"), &json!({})).await?;
            let line = format!("task {id} queued again: {}", task_line(&answer).trim_start());
            (answer, vec![line])
        }
        TasksCommand::Status => {
            let answer = api.get("/api/tasks/status").await?;
            let mut lines = Vec::new();
            let row = |name: &str, c: &Value| {
                format!(
                    "{name:<10} queued {} active {} completed {} failed {} cancelled {}",
                    c["queued"].as_u64().unwrap_or(0),
                    c["active"].as_u64().unwrap_or(0),
                    c["completed"].as_u64().unwrap_or(0),
                    c["failed"].as_u64().unwrap_or(0),
                    c["cancelled"].as_u64().unwrap_or(0)
                )
            };
            if let Some(kinds) = answer["kinds"].as_object() {
                lines.extend(kinds.iter().map(|(kind, counts)| row(kind, counts)));
            }
            lines.push(row("total", &answer["total"]));
            (answer, lines)
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
        CveCommand::Add { project, id, title, description, severity } => {
            let mut body = json!({ "title": title });
            if let Some(description) = description {
                body["description"] = json!(description);
            }
            if let Some(severity) = severity {
                body["severity"] = json!(severity_name(*severity));
            }
            let path = format!("/api/projects/{}/cves/{}", segment(project), segment(id));
            let response = api.send(api.request(Method::PUT, &path).json(&body)).await?;
            let created = response.status() == StatusCode::CREATED;
            let answer = read_json(response).await?;
            if json {
                output::print_json(&answer);
            } else {
                let what = if created { "recorded" } else { "updated" };
                println!("{} {what} for {project}: {}", output::text(&answer["id"]), cve_summary(&answer));
            }
        }
        CveCommand::List { after, limit } => {
            let after = after.as_deref().map(|a| format!("&after={}", segment(a))).unwrap_or_default();
            let answer = api.get(&format!("/api/cves?limit={limit}{after}")).await?;
            if json {
                output::print_json(&answer);
            } else {
                let records = answer.as_array().map(Vec::as_slice).unwrap_or_default();
                for record in records {
                    println!("{:<16} {}", output::text(&record["id"]), cve_summary(record));
                }
                if records.is_empty() {
                    eprintln!("no CVE records");
                }
            }
        }
        CveCommand::Show { id } => {
            let answer = api.get(&format!("/api/cves/{}", segment(id))).await?;
            if json {
                output::print_json(&answer);
            } else {
                println!("{}", output::text(&answer["id"]));
                for (field, value) in answer.as_object().into_iter().flatten() {
                    if field != "id" && !value.is_null() {
                        println!("  {field}: {value}");
                    }
                }
            }
        }
        CveCommand::Link { release, id, link } => {
            let link = match link {
                CveLink::Affects => "affects",
                CveLink::Resolves => "resolves",
            };
            let answer = api.post(&release.path("/cves"), &json!({ "id": id, "link": link })).await?;
            if json {
                output::print_json(&answer);
            } else {
                println!(
                    "{id} linked to {}: it {}",
                    release.name(),
                    if link == "affects" { "affects it" } else { "is resolved by it" }
                );
            }
        }
    }
    Ok(())
}

fn severity_name(severity: CveSeverity) -> &'static str {
    match severity {
        CveSeverity::Low => "low",
        CveSeverity::Moderate => "moderate",
        CveSeverity::Important => "important",
        CveSeverity::Critical => "critical",
    }
}

/// `project[/product] version` of a release key.
fn release_name(key: &Value) -> String {
    let product = key["product"].as_str().map(|p| format!("/{p}")).unwrap_or_default();
    format!("{}{product} {}", output::text(&key["project"]), output::text(&key["version"]))
}

/// The title, severity and links of a CVE record, on one line.
fn cve_summary(record: &Value) -> String {
    let mut parts = vec![output::text(&record["title"]).to_owned()];
    if let Some(severity) = record["severity"].as_str() {
        parts[0] = format!("{} [{severity}]", parts[0]);
    }
    for (field, label) in [("affects", "affects"), ("resolved_by", "resolved by")] {
        let releases: Vec<String> = record[field].as_array().into_iter().flatten().map(release_name).collect();
        if !releases.is_empty() {
            parts.push(format!("{label} {}", releases.join(", ")));
        }
    }
    parts.join("; ")
}
