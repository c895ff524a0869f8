//! The release's life: start, show, checks, the vote, announce and revoke.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::api::{Api, Failure, Outcome, exit};
use super::output::{self, Paint};
use super::{ReleaseArgs, Resolution, VoteCommand, with_product};

/// `atr release start`.
pub(crate) async fn start(api: &Api, release: &ReleaseArgs, json: bool) -> Outcome {
    let path = format!("/api/projects/{}/releases", super::api::segment(&release.project));
    let body = with_product(json!({ "version": release.version }), release.product.as_deref());
    let created = api.post(&path, &body).await.map_err(|f| {
        f.hint_for(
            exit::CONFLICT,
            format!("the release exists already: `atr release show {}` shows it", release.args()),
        )
    })?;
    if json {
        output::print_json(&created);
    } else {
        println!("release {} started: a draft", release.name());
        eprintln!("next: `atr upload {} FILE...`", release.args());
    }
    Ok(())
}

/// `atr release show`.
pub(crate) async fn show(api: &Api, release: &ReleaseArgs, json: bool) -> Outcome {
    let answer = api.get(&release.path("")).await?;
    if json {
        output::print_json(&answer);
        return Ok(());
    }
    let r = &answer["release"];
    println!("{}", Paint::stdout().bold(&format!("release {}", release.name())));
    println!(
        "stage     {} (phase {}, {})",
        answer["stage"].as_str().unwrap_or("none: not public"),
        output::text(&r["phase"]),
        output::text(&r["state"])
    );
    println!("committee {}", output::text(&r["committee"]));
    println!("created   {} by {}", output::date(&r["created_at"]), output::text(&r["created_by"]));
    match r["latest_revision"].as_u64() {
        Some(n) => println!("revision  {n} (latest)"),
        None => println!("revision  none yet: upload files with `atr upload {} FILE...`", release.args()),
    }
    if let Some(packages) = answer["packages"]["packages"].as_array() {
        for p in packages {
            println!(
                "package   {} (signature {}, checksum {})",
                output::text(&p["artifact"]),
                output::text(&p["signature"]),
                output::text(&p["checksum"])
            );
        }
    }
    if let Some(orphans) = answer["packages"]["orphans"].as_array().filter(|a| !a.is_empty()) {
        let names: Vec<&str> = orphans.iter().map(output::text).collect();
        println!("other     {}", names.join(", "));
    }
    let vote = &r["vote"];
    if !vote.is_null() {
        let outcome = vote["outcome"].as_str().unwrap_or("open");
        println!(
            "vote      on revision {}, {outcome}, closes {}",
            vote["revision"].as_u64().unwrap_or(0),
            output::date(&vote["closes_at"])
        );
        if !answer["tally"].is_null() {
            print_counts(&answer["tally"]);
        }
    }
    if !r["revocation"].is_null() {
        println!(
            "revoked   {} by {}: {}",
            output::date(&r["revocation"]["at"]),
            output::text(&r["revocation"]["by"]),
            output::text(&r["revocation"]["reason"])
        );
    }
    Ok(())
}

/// The latest revision of a release, or a failure saying there is none.
async fn latest_revision(api: &Api, release: &ReleaseArgs) -> Outcome<u64> {
    let answer = api.get(&release.path("")).await?;
    answer["release"]["latest_revision"].as_u64().ok_or_else(|| {
        Failure::new(exit::CONFLICT, format!("release {} has no files yet", release.name()))
            .hint(format!("upload them first: `atr upload {} FILE...`", release.args()))
    })
}

/// How `atr checks` runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChecksOptions {
    pub revision: Option<u32>,
    pub wait: bool,
    pub timeout: u64,
}

/// Whether the checks of a revision are still queued or running, when the caller may read the
/// task queue; `None` when that cannot be told.
async fn checks_pending(api: &Api, release: &ReleaseArgs, revision: u64) -> Option<bool> {
    if !api.has_token() {
        return None;
    }
    for status in ["queued", "active"] {
        let tasks = api.get(&format!("/api/tasks?status={status}&limit=1000")).await.ok()?;
        let pending = tasks.as_array()?.iter().any(|task| {
            let key = &task["args"]["release"];
            task["kind"] == "analyze"
                && task["args"]["revision"].as_u64() == Some(revision)
                && key["project"] == release.project.as_str()
                && key["version"] == release.version.as_str()
                && key["product"].as_str() == release.product.as_deref()
        });
        if pending {
            return Some(true);
        }
    }
    Some(false)
}

/// `atr checks`.
pub(crate) async fn checks(api: &Api, release: &ReleaseArgs, options: ChecksOptions, json: bool) -> Outcome {
    let revision = match options.revision {
        Some(n) => u64::from(n),
        None => latest_revision(api, release).await?,
    };
    let path = release.path(&format!("/revisions/{revision}/checks"));
    let started = Instant::now();
    let spinner = if options.wait {
        output::spinner(&format!("waiting for the checks of {} revision {revision}", release.name()))
    } else {
        None
    };
    let (results, pending) = loop {
        let results = api.get(&path).await?;
        let count = results.as_array().map_or(0, Vec::len);
        // Without access to the queue, no result at all means the checks have not run yet.
        let pending = checks_pending(api, release, revision).await.unwrap_or(count == 0);
        if !options.wait || !pending {
            break (results, pending);
        }
        if started.elapsed() > Duration::from_secs(options.timeout) {
            if let Some(s) = &spinner {
                s.finish_and_clear();
            }
            return Err(Failure::other(format!(
                "the checks of {} revision {revision} are still running after {} seconds",
                release.name(),
                options.timeout
            ))
            .hint(format!("run `atr checks {} --revision {revision} --wait` again later", release.args())));
        }
        if let Some(s) = &spinner {
            s.set_message(format!(
                "waiting for the checks of {} revision {revision} ({count} results so far)",
                release.name()
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    if let Some(s) = &spinner {
        s.finish_and_clear();
    }
    if pending {
        eprintln!("note: checks are still running; `--wait` waits for them");
    }
    let list = results.as_array().cloned().unwrap_or_default();
    let count = |status: &str| list.iter().filter(|c| c["status"] == status).count();
    let blockers = count("blocker");
    if json {
        output::print_json(&results);
    } else {
        let paint = Paint::stdout();
        println!(
            "{} revision {revision}: {} blocker(s), {} warning(s), {} note(s), {} success(es){}",
            release.name(),
            blockers,
            count("warning"),
            count("note"),
            count("success"),
            match count("exception") {
                0 => String::new(),
                n => format!(", {n} checker error(s)"),
            }
        );
        for (status, label) in [
            ("blocker", paint.red("blocker")),
            ("exception", paint.red("error  ")),
            ("warning", paint.yellow("warning")),
            ("note", "note   ".to_owned()),
        ] {
            for c in list.iter().filter(|c| c["status"] == status) {
                let place = match (c["path"].as_str(), c["member"].as_str()) {
                    (Some(path), Some(member)) => format!("{path} ({member}): "),
                    (Some(path), None) => format!("{path}: "),
                    _ => String::new(),
                };
                println!("{label} {} {place}{}", output::text(&c["checker"]), output::text(&c["message"]));
            }
        }
        if blockers == 0 && !pending {
            println!("{}", paint.green("no blockers"));
        }
    }
    if blockers > 0 {
        return Err(Failure::other(format!("{blockers} blocker(s) in {} revision {revision}", release.name()))
            .hint("fix them and upload a new revision; the vote needs a revision without blockers"));
    }
    Ok(())
}

/// The API's name of a vote value typed on the command line.
fn vote_value(text: &str) -> Outcome<&'static str> {
    match text.trim() {
        "+1" | "1" => Ok("+1"),
        "+0" => Ok("+0"),
        "0" => Ok("0"),
        "-0" => Ok("-0"),
        "-1" => Ok("-1"),
        other => Err(Failure::usage(format!("{other:?} is not a vote")).hint("vote +1, +0, 0, -0 or -1")),
    }
}

fn print_counts(tally: &Value) {
    let counts = |c: &Value| {
        format!(
            "+1: {}, +0: {}, 0: {}, -0: {}, -1: {}",
            c["plus_one"].as_u64().unwrap_or(0),
            c["plus_zero"].as_u64().unwrap_or(0),
            c["zero"].as_u64().unwrap_or(0),
            c["minus_zero"].as_u64().unwrap_or(0),
            c["minus_one"].as_u64().unwrap_or(0)
        )
    };
    println!("binding     {}", counts(&tally["binding"]));
    println!("non-binding {}", counts(&tally["non_binding"]));
}

/// `atr vote ...`.
pub(crate) async fn vote(api: &Api, command: &VoteCommand, json: bool) -> Outcome {
    match command {
        VoteCommand::Start { release, revision } => {
            let revision = match revision {
                Some(n) => u64::from(*n),
                None => latest_revision(api, release).await?,
            };
            let answer = api.post(&release.path("/vote"), &json!({ "revision": revision })).await.map_err(|f| {
                f.hint_for(
                    exit::CONFLICT,
                    format!(
                        "look at the checks (`atr checks {} --revision {revision}`) and the release",
                        release.args()
                    ),
                )
            })?;
            if json {
                output::print_json(&answer);
            } else {
                println!(
                    "vote started on {} revision {revision}; it closes {}",
                    release.name(),
                    output::date(&answer["vote"]["closes_at"])
                );
                eprintln!(
                    "voters run `atr vote cast {} +1`; `atr vote tally {}` counts",
                    release.args(),
                    release.args()
                );
            }
        }
        VoteCommand::Cast { release, value, comment, user } => {
            let value = vote_value(value)?;
            let body = json!({ "value": value, "comment": comment });
            let ballot = match user {
                Some(user) => {
                    let session = api.sign_in(user, &super::admin::password()?).await?;
                    let ballot = session.post(&release.path("/ballots"), &body).await;
                    session.sign_out().await;
                    ballot?
                }
                None => api.post(&release.path("/ballots"), &body).await.map_err(|f| {
                    f.hint_for(
                        exit::REFUSED,
                        "tokens cannot vote: vote as yourself with `--user USER` and ATR_PASSWORD",
                    )
                })?,
            };
            if json {
                output::print_json(&ballot);
            } else {
                let voter = ballot["voter"]["user"].as_str().unwrap_or("you");
                println!("{value} cast by {voter} on {}", release.name());
            }
        }
        VoteCommand::Tally { release } => {
            let tally = api.get(&release.path("/tally")).await?;
            if json {
                output::print_json(&tally);
                return Ok(());
            }
            let passes = tally["passes"].as_bool() == Some(true);
            let verdict =
                if passes { Paint::stdout().green("passes") } else { Paint::stdout().yellow("does not pass (yet)") };
            println!("vote on {}: {verdict}", release.name());
            print_counts(&tally);
            for v in tally["votes"].as_array().into_iter().flatten() {
                let voter = v["voter"]["user"].as_str().or_else(|| v["voter"]["name"].as_str()).unwrap_or("-");
                let binding = if v["binding"].as_bool() == Some(true) { "binding" } else { "" };
                println!("  {voter:<16} {:<3} {binding}", output::text(&v["value"]));
            }
        }
        VoteCommand::Resolve { release, outcome } => {
            let outcome = match outcome {
                Resolution::Passed => "passed",
                Resolution::Failed => "failed",
                Resolution::Cancelled => "cancelled",
            };
            let answer = api.post(&release.path("/resolve"), &json!({ "outcome": outcome })).await?;
            if json {
                output::print_json(&answer);
            } else {
                println!(
                    "vote on {} resolved: {outcome}; the release is now in phase {}",
                    release.name(),
                    output::text(&answer["phase"])
                );
                if outcome == "passed" {
                    eprintln!("next: `atr announce {}`", release.args());
                }
            }
        }
    }
    Ok(())
}

/// `atr announce`.
pub(crate) async fn announce(api: &Api, release: &ReleaseArgs, confirm: bool, json: bool) -> Outcome {
    let answer = api.post(&release.path("/announce"), &json!({ "confirmed": confirm })).await?;
    if json {
        output::print_json(&answer);
    } else {
        let coordinates = match &release.product {
            Some(product) => format!("{}/{product}/{}", release.project, release.version),
            None => format!("{}/{}", release.project, release.version),
        };
        println!("{} announced: {}", release.name(), api.url(&format!("/current/{coordinates}/")));
    }
    Ok(())
}

/// `atr revoke`.
pub(crate) async fn revoke(api: &Api, release: &ReleaseArgs, reason: &str, json: bool) -> Outcome {
    let request = api.request(Method::DELETE, &release.path("")).json(&json!({ "reason": reason }));
    let answer = super::api::read_json(api.send(request).await?).await?;
    if json {
        output::print_json(&answer);
    } else {
        println!("{} revoked: {reason}", release.name());
    }
    Ok(())
}
