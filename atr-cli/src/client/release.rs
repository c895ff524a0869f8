//! The release's life: start, show, checks, the vote, announce and revoke.

use std::time::{Duration, Instant};

use atr_api::endpoints as op;
use atr_api::{
    Announce, CastBallot, CheckStatus, ChecksState, ChecksStatus, NewRelease, ResolveVote, Revoke, StartVote, Tally,
    Verdict, VoteCounts, VoteOutcome, VoteValue, Voter,
};

use super::api::{Api, Failure, Outcome, exit, path_of};
use super::output::{self, Paint};
use super::{ReleaseArgs, Resolution, VoteCommand};

/// `atr release start`.
pub(crate) async fn start(api: &Api, release: &ReleaseArgs, json: bool) -> Outcome {
    let path = path_of(op::StartRelease, &[("project", &release.project)], "");
    let body = NewRelease { version: release.version.clone(), product: release.product.clone() };
    let created = api.op(op::StartRelease, &path, Some(&body)).await.map_err(|f| {
        f.hint_for(
            exit::CONFLICT,
            format!("the release exists already: `atr release show {}` shows it", release.args()),
        )
    })?;
    if json {
        output::print_json(&created.json);
    } else {
        println!("release {} started: a draft", release.name());
        eprintln!("next: `atr upload {} FILE...`", release.args());
    }
    Ok(())
}

/// `atr release show`.
pub(crate) async fn show(api: &Api, release: &ReleaseArgs, json: bool) -> Outcome {
    let answer = api.op(op::GetRelease, &release.at(op::GetRelease, &[]), None).await?;
    if json {
        output::print_json(&answer.json);
        return Ok(());
    }
    let details = &answer.body;
    let r = &details.release;
    println!("{}", Paint::stdout().bold(&format!("release {}", release.name())));
    println!(
        "stage     {} (phase {}, {})",
        details.stage.as_ref().map_or_else(|| "none: not public".to_owned(), output::name),
        output::name(&r.phase),
        output::name(&r.state)
    );
    println!("committee {}", r.committee);
    println!("created   {} by {}", output::date(r.created_at), r.created_by);
    match r.latest_revision {
        Some(n) => println!("revision  {n} (latest)"),
        None => println!("revision  none yet: upload files with `atr upload {} FILE...`", release.args()),
    }
    if let Some(listing) = &details.packages {
        for p in &listing.packages {
            println!(
                "package   {} (signature {}, checksum {})",
                p.artifact,
                output::text(p.signature.as_deref()),
                output::text(p.checksum.as_deref())
            );
        }
        if !listing.orphans.is_empty() {
            println!("other     {}", listing.orphans.join(", "));
        }
    }
    if let Some(vote) = &r.vote {
        let outcome = vote.outcome.as_ref().map_or_else(|| "open".to_owned(), output::name);
        println!("vote      on revision {}, {outcome}, closes {}", vote.revision, output::date(vote.closes_at));
        if let Some(tally) = &details.tally {
            print_counts(tally);
        }
    }
    if let Some(revocation) = &r.revocation {
        println!("revoked   {} by {}: {}", output::date(revocation.at), revocation.by, revocation.reason);
    }
    Ok(())
}

/// The latest revision of a release, or a failure saying there is none.
async fn latest_revision(api: &Api, release: &ReleaseArgs) -> Outcome<u32> {
    let answer = api.op(op::GetRelease, &release.at(op::GetRelease, &[]), None).await?;
    answer.body.release.latest_revision.ok_or_else(|| {
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

/// Why the checks of a revision are not complete, as the service said it, with what to do.
fn incomplete(release: &ReleaseArgs, status: &ChecksStatus) -> Failure {
    let revision = status.revision;
    let failure = Failure::new(
        exit::CHECKS_INCOMPLETE,
        format!("the checks of {} revision {revision} have not completed: {}", release.name(), status.message),
    );
    match status.state {
        ChecksState::WaitingForRunner => failure.hint(
            "a task runner runs the checks: start `atr worker` (or `atr serve` without `--no-worker`) on the \
             service's database and data directory, or ask the platform's operators",
        ),
        ChecksState::Failed | ChecksState::Cancelled => failure.hint(match status.task {
            Some(task) => format!(
                "`atr tasks retry {task}` runs them again, or `atr checks rerun {} --revision {revision}`",
                release.args()
            ),
            None => format!("`atr checks rerun {} --revision {revision}` runs them again", release.args()),
        }),
        ChecksState::NotQueued => {
            failure.hint(format!("`atr checks rerun {} --revision {revision}` queues them", release.args()))
        }
        ChecksState::Running | ChecksState::Queued | ChecksState::Completed => {
            failure.hint(format!("`atr checks {} --revision {revision} --wait` waits for them", release.args()))
        }
    }
}

/// `atr checks`.
pub(crate) async fn checks(api: &Api, release: &ReleaseArgs, options: ChecksOptions, json: bool) -> Outcome {
    let revision = match options.revision {
        Some(n) => n,
        None => latest_revision(api, release).await?,
    };
    let number = revision.to_string();
    let path = release.at(op::ListChecks, &[("number", &number)]);
    let status_path = release.at(op::GetChecksStatus, &[("number", &number)]);
    let started = Instant::now();
    let spinner = if options.wait {
        output::spinner(&format!("waiting for the checks of {} revision {revision}", release.name()))
    } else {
        None
    };
    let status = loop {
        let status = api.op(op::GetChecksStatus, &status_path, None).await?.body;
        // Waiting ends when they completed, and also as soon as they cannot complete by themselves
        // (no task runner is there, or their task ended without completing).
        if !options.wait || !status.moving {
            break status;
        }
        if started.elapsed() > Duration::from_secs(options.timeout) {
            if let Some(s) = &spinner {
                s.finish_and_clear();
            }
            return Err(Failure::new(
                exit::CHECKS_INCOMPLETE,
                format!(
                    "the checks of {} revision {revision} are still {} after {} seconds: {}",
                    release.name(),
                    if status.state == ChecksState::Running { "running" } else { "queued" },
                    options.timeout,
                    status.message
                ),
            )
            .hint(format!("run `atr checks {} --revision {revision} --wait` again later", release.args())));
        }
        if let Some(s) = &spinner {
            s.set_message(format!(
                "waiting for the checks of {} revision {revision}: {}",
                release.name(),
                status.message
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    if let Some(s) = &spinner {
        s.finish_and_clear();
    }
    let results = api.op(op::ListChecks, &path, None).await?;
    let list = &results.body;
    // A result an ignore of the project silences does not count against a vote.
    let blockers = list.iter().filter(|c| c.ignored_by.is_none() && c.status == CheckStatus::Blocker).count();
    if json {
        output::print_json(&results.json);
    } else {
        print_checks(release, revision, list, &status);
    }
    if !status.completed {
        return Err(incomplete(release, &status));
    }
    if blockers > 0 {
        return Err(Failure::other(format!("{blockers} blocker(s) in {} revision {revision}", release.name()))
            .hint("fix them and upload a new revision; the vote needs a revision without blockers"));
    }
    Ok(())
}

/// The checks of a revision for people: the counts (ignored results apart), each result that is
/// not a success, the ignored ones with the ignore that silences them, and the status line.
fn print_checks(release: &ReleaseArgs, revision: u32, list: &[atr_api::CheckResult], status: &ChecksStatus) {
    let count = |status: CheckStatus| list.iter().filter(|c| c.ignored_by.is_none() && c.status == status).count();
    let ignored = list.iter().filter(|c| c.ignored_by.is_some()).count();
    let blockers = count(CheckStatus::Blocker);
    let paint = Paint::stdout();
    println!(
        "{} revision {revision}: {} blocker(s), {} warning(s), {} note(s), {} success(es){}{}",
        release.name(),
        blockers,
        count(CheckStatus::Warning),
        count(CheckStatus::Note),
        count(CheckStatus::Success),
        match count(CheckStatus::Exception) {
            0 => String::new(),
            n => format!(", {n} checker error(s)"),
        },
        match ignored {
            0 => String::new(),
            n => format!("; {n} ignored"),
        }
    );
    let place = |c: &atr_api::CheckResult| match (&c.path, &c.member) {
        (Some(path), Some(member)) => format!("{path} ({member}): "),
        (Some(path), None) => format!("{path}: "),
        _ => String::new(),
    };
    for (status, label) in [
        (CheckStatus::Blocker, paint.red("blocker")),
        (CheckStatus::Exception, paint.red("error  ")),
        (CheckStatus::Warning, paint.yellow("warning")),
        (CheckStatus::Note, "note   ".to_owned()),
    ] {
        for c in list.iter().filter(|c| c.ignored_by.is_none() && c.status == status) {
            println!("{label} {} {}{}", c.checker, place(c), c.message);
        }
    }
    for c in list.iter().filter(|c| c.ignored_by.is_some()) {
        let id = c.ignored_by.unwrap_or_default();
        println!("ignored {} (ignore {id}) {} {}{}", output::name(&c.status), c.checker, place(c), c.message);
    }
    if status.completed {
        println!("{}", status.message);
        if blockers == 0 {
            println!("{}", paint.green("no blockers"));
        }
    }
}

/// The API's name of a vote value typed on the command line.
fn vote_value(text: &str) -> Outcome<VoteValue> {
    match text.trim() {
        "+1" | "1" => Ok(VoteValue::PlusOne),
        "+0" => Ok(VoteValue::PlusZero),
        "0" => Ok(VoteValue::Zero),
        "-0" => Ok(VoteValue::MinusZero),
        "-1" => Ok(VoteValue::MinusOne),
        other => Err(Failure::usage(format!("{other:?} is not a vote")).hint("vote +1, +0, 0, -0 or -1")),
    }
}

fn print_counts(tally: &Tally) {
    let counts = |c: &VoteCounts| {
        format!("+1: {}, +0: {}, 0: {}, -0: {}, -1: {}", c.plus_one, c.plus_zero, c.zero, c.minus_zero, c.minus_one)
    };
    println!("binding     {}", counts(&tally.binding));
    println!("non-binding {}", counts(&tally.non_binding));
}

/// The verdict, the counts and each counted ballot.
fn print_tally(release: &ReleaseArgs, tally: &Tally) {
    let closes = atr_core::types::Timestamp::from_unix(tally.closes_at);
    let verdict = match tally.verdict {
        Verdict::Passes => Paint::stdout().green("passes"),
        Verdict::WouldPassIfClosedNow => {
            Paint::stdout().yellow(&format!("would pass if closed now; open until {closes}"))
        }
        Verdict::DoesNotPass => Paint::stdout().yellow("does not pass (yet)"),
    };
    println!("vote on {}: {verdict}", release.name());
    print_counts(tally);
    for v in &tally.votes {
        let voter = match &v.voter {
            Voter::User(id) => id.as_str(),
            Voter::Email(_) | Voter::Anonymous(_) => "-",
        };
        let binding = if v.binding { "binding" } else { "" };
        println!("  {voter:<16} {:<3} {binding}", v.value.as_str());
    }
}

/// `atr vote ...`.
pub(crate) async fn vote(api: &Api, command: &VoteCommand, json: bool) -> Outcome {
    match command {
        VoteCommand::Start { release, revision } => {
            let revision = match revision {
                Some(n) => *n,
                None => latest_revision(api, release).await?,
            };
            let path = release.at(op::StartReleaseVote, &[]);
            let answer = api.op(op::StartReleaseVote, &path, Some(&StartVote { revision })).await.map_err(|f| {
                f.hint_for(
                    exit::CONFLICT,
                    format!(
                        "look at the checks (`atr checks {} --revision {revision}`) and the release",
                        release.args()
                    ),
                )
            })?;
            if json {
                output::print_json(&answer.json);
            } else {
                let closes = answer.body.vote.as_ref().map_or_else(|| "-".to_owned(), |v| output::date(v.closes_at));
                println!("vote started on {} revision {revision}; it closes {closes}", release.name());
                eprintln!(
                    "voters vote as themselves: `ATR_PASSWORD=... atr vote cast {} +1 --user USER` (or without \
                     --user after `atr login --user USER`); `atr vote tally {}` counts",
                    release.args(),
                    release.args()
                );
            }
        }
        VoteCommand::Cast { release, value, comment, user } => {
            let value = vote_value(value)?;
            let body = CastBallot { value, comment: comment.clone() };
            let path = release.at(op::CastReleaseBallot, &[]);
            let ballot = match user {
                Some(user) => {
                    let session = api.sign_in(user, &super::admin::password()?).await?;
                    let ballot = session.op(op::CastReleaseBallot, &path, Some(&body)).await;
                    session.sign_out().await;
                    ballot?
                }
                None => api.op(op::CastReleaseBallot, &path, Some(&body)).await.map_err(|f| {
                    f.hint_for(
                        exit::REFUSED,
                        "tokens cannot vote: vote as yourself with `--user USER` and ATR_PASSWORD",
                    )
                })?,
            };
            if json {
                output::print_json(&ballot.json);
            } else {
                let voter = match &ballot.body.voter {
                    Voter::User(id) => id.as_str(),
                    Voter::Email(_) | Voter::Anonymous(_) => "you",
                };
                println!("{} cast by {voter} on {}", value.as_str(), release.name());
            }
        }
        VoteCommand::Tally { release } => {
            let answer = api.op(op::GetTally, &release.at(op::GetTally, &[]), None).await?;
            if json {
                output::print_json(&answer.json);
                return Ok(());
            }
            print_tally(release, &answer.body);
        }
        VoteCommand::Resolve { release, outcome } => {
            let outcome = match outcome {
                Resolution::Passed => VoteOutcome::Passed,
                Resolution::Failed => VoteOutcome::Failed,
                Resolution::Cancelled => VoteOutcome::Cancelled,
            };
            let path = release.at(op::ResolveReleaseVote, &[]);
            let answer = api.op(op::ResolveReleaseVote, &path, Some(&ResolveVote { outcome })).await?;
            if json {
                output::print_json(&answer.json);
            } else {
                println!(
                    "vote on {} resolved: {}; the release is now in phase {}",
                    release.name(),
                    output::name(&outcome),
                    output::name(&answer.body.phase)
                );
                if outcome == VoteOutcome::Passed {
                    eprintln!("next: `atr announce {}`", release.args());
                }
            }
        }
    }
    Ok(())
}

/// `atr announce`.
pub(crate) async fn announce(api: &Api, release: &ReleaseArgs, confirm: bool, json: bool) -> Outcome {
    let path = release.at(op::AnnounceRelease, &[]);
    let answer = api.op(op::AnnounceRelease, &path, Some(&Announce { confirmed: confirm })).await?;
    if json {
        output::print_json(&answer.json);
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
    let path = release.at(op::RevokeRelease, &[]);
    let answer = api.op(op::RevokeRelease, &path, Some(&Revoke { reason: reason.to_owned() })).await?;
    if json {
        output::print_json(&answer.json);
    } else {
        println!("{} revoked: {reason}", release.name());
    }
    Ok(())
}
