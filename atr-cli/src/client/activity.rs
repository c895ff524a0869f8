//! The audit log's events, search, and a visitor's consent.

use std::fmt::Write as _;

use atr_api::Operation as _;
use atr_api::endpoints as op;
use atr_api::{Actor, Event, GiveConsent, SearchHit, SearchKind};
use clap::Subcommand;
use serde_json::Value;

use super::api::{Api, Failure, Outcome, exit, path_of, segment};
use super::output;

#[derive(Debug, Subcommand)]
pub(crate) enum ConsentCommand {
    /// Gives (or renews) consent to keep your name and email, to vote as a visitor.
    Give {
        /// Your name, as shown with your ballots.
        #[arg(long, required = true)]
        name: String,
        /// Your email address.
        #[arg(long, required = true)]
        email: String,
    },
    /// Withdraws consent: your name and email are erased; your ballots stay as anonymous tally
    /// entries.
    Withdraw,
}

/// What `atr events` asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventsFilter<'a> {
    pub project: Option<&'a str>,
    pub product: Option<&'a str>,
    pub release: Option<&'a str>,
    pub before: Option<u64>,
    pub limit: u32,
}

fn actor(actor: &Actor) -> String {
    match actor {
        Actor::User(id) => id.clone(),
        Actor::Token { owner, token } => format!("{owner} (token {token})"),
        Actor::System => "system".to_owned(),
    }
}

/// What an event records besides its type, as `field=value`.
fn event_fields(event: &Event) -> String {
    let value = serde_json::to_value(&event.event.kind).unwrap_or_default();
    let Some(fields) = value.as_object() else { return String::new() };
    fields
        .iter()
        .filter(|(field, v)| *field != "type" && !v.is_null())
        .map(|(field, v)| match v {
            Value::String(s) => format!("{field}={s}"),
            other => format!("{field}={other}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn event_line(event: &Event) -> String {
    let entry = &event.event;
    let kind = serde_json::to_value(&entry.kind)
        .ok()
        .and_then(|v| v["type"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "-".to_owned());
    let about = match (&entry.release, &entry.project) {
        (Some(r), _) => match &r.product {
            Some(product) => format!("{}/{product} {}", r.project, r.version),
            None => format!("{} {}", r.project, r.version),
        },
        (None, Some(project)) => project.clone(),
        (None, None) => "-".to_owned(),
    };
    format!(
        "{:>6}  {}  {:<20} {:<18} {kind} {}",
        event.id,
        output::date(entry.at),
        about,
        actor(&entry.actor),
        event_fields(event)
    )
}

/// `atr events`: newest first.
pub(crate) async fn events(api: &Api, filter: &EventsFilter<'_>, json: bool) -> Outcome {
    if filter.release.is_some() && filter.project.is_none() {
        return Err(
            Failure::usage("--release needs --project").hint("such as `atr events --project httpd --release 2.6.0`")
        );
    }
    let mut query = format!("?limit={}", filter.limit);
    for (name, value) in [("project", filter.project), ("product", filter.product), ("version", filter.release)] {
        if let Some(value) = value {
            let _ = write!(query, "&{name}={}", segment(value));
        }
    }
    if let Some(before) = filter.before {
        let _ = write!(query, "&before={before}");
    }
    let answer = api.op(op::ListEvents, &path_of(op::ListEvents, &[], &query), None).await.map_err(|f| {
        if filter.project.is_some() {
            f.hint_for(
                exit::REFUSED,
                "a project's history is public: check the token (`atr whoami`), or run without one",
            )
        } else {
            f.hint_for(
                exit::REFUSED,
                "the whole log is for foundation members and admins: name a project (--project) or a release",
            )
        }
    })?;
    if json {
        output::print_json(&answer.json);
        return Ok(());
    }
    for event in &answer.body {
        println!("{}", event_line(event));
    }
    if answer.body.is_empty() {
        eprintln!("no events");
    } else if answer.body.len() == filter.limit as usize
        && let Some(last) = answer.body.last()
    {
        eprintln!("older events: add `--before {}`", last.id);
    }
    Ok(())
}

fn hit_line(hit: &SearchHit) -> String {
    let name = match hit.kind {
        SearchKind::Project => output::text(hit.project.as_deref()).to_owned(),
        SearchKind::Release => hit.release.as_ref().map_or_else(
            || "-".to_owned(),
            |r| match &r.product {
                Some(product) => format!("{}/{product} {}", r.project, r.version),
                None => format!("{} {}", r.project, r.version),
            },
        ),
        SearchKind::Key => output::text(hit.fingerprint.as_deref()).to_owned(),
        SearchKind::Cve => output::text(hit.cve.as_deref()).to_owned(),
    };
    format!("{:<8} {name:<42} {}", output::name(&hit.kind), hit.label)
}

/// `atr search`.
pub(crate) async fn search(api: &Api, words: &[String], limit: Option<u32>, json: bool) -> Outcome {
    let text = words.join(" ");
    let limit = limit.map(|l| format!("&limit={l}")).unwrap_or_default();
    let path = path_of(op::Search, &[], &format!("?q={}{limit}", segment(&text)));
    let answer = api.op(op::Search, &path, None).await?;
    if json {
        output::print_json(&answer.json);
        return Ok(());
    }
    for hit in &answer.body {
        println!("{}", hit_line(hit));
    }
    if answer.body.is_empty() {
        eprintln!("nothing found for {text:?}");
    }
    Ok(())
}

/// `atr consent ...`.
pub(crate) async fn consent(api: &Api, command: &ConsentCommand, json: bool) -> Outcome {
    match command {
        ConsentCommand::Give { name, email } => {
            let body = GiveConsent { name: name.clone(), email: email.clone() };
            let answer = api.op(op::GiveVisitorConsent, op::GiveVisitorConsent::ENDPOINT.path, Some(&body)).await?;
            if json {
                output::print_json(&answer.json);
            } else {
                let c = &answer.body;
                println!("consent given by {} as {} <{}> on {}", c.user, c.name, c.email, output::date(c.given_at));
            }
        }
        ConsentCommand::Withdraw => {
            api.op(op::RevokeVisitorConsent, op::RevokeVisitorConsent::ENDPOINT.path, None).await.map_err(|f| {
                f.hint_for(exit::NOT_FOUND, "there was no consent to withdraw: `atr consent give` gives it")
            })?;
            println!("consent withdrawn: your name and email were erased");
        }
    }
    Ok(())
}
