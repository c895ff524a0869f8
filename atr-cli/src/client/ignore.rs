//! A project's check ignores: results reviewed and found to be false positives, which stop
//! counting against a vote. Adding and deleting need `manage_policy` on the project.

use atr_api::endpoints as op;
use atr_api::{CheckIgnore, CheckStatus, NewIgnore};
use clap::{Subcommand, ValueEnum};

use super::api::{Api, Outcome, exit, path_of};
use super::output;

/// The statuses an ignore may select (a success is never ignored).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum IgnoredStatus {
    Blocker,
    Warning,
    Note,
    Exception,
}

impl From<IgnoredStatus> for CheckStatus {
    fn from(status: IgnoredStatus) -> Self {
        match status {
            IgnoredStatus::Blocker => CheckStatus::Blocker,
            IgnoredStatus::Warning => CheckStatus::Warning,
            IgnoredStatus::Note => CheckStatus::Note,
            IgnoredStatus::Exception => CheckStatus::Exception,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum IgnoreCommand {
    /// Lists a project's check ignores, oldest first, with their ids.
    List {
        /// The project, such as `httpd`.
        project: String,
    },
    /// Adds a check ignore: the results that match every selector given stop counting against a
    /// vote (`atr checks` shows them apart). Globs match `*` (any run, `/` included) and `?`;
    /// give at least one selector.
    Add {
        /// The project, such as `httpd`.
        project: String,
        /// Why these results are false positives (kept with the ignore, shown with the results).
        #[arg(long, required = true)]
        reason: String,
        /// The checker's name, such as `license-headers`.
        #[arg(long, value_name = "GLOB")]
        checker: Option<String>,
        /// The path of the file checked, such as `*-src.tar.gz`.
        #[arg(long, value_name = "GLOB")]
        path: Option<String>,
        /// The member of an archive, such as `*/test/*`.
        #[arg(long, value_name = "GLOB")]
        member: Option<String>,
        /// The result's message.
        #[arg(long, value_name = "GLOB")]
        message: Option<String>,
        /// The release's version, such as `2.4.*`.
        #[arg(long, value_name = "GLOB")]
        version: Option<String>,
        /// Only results of this revision.
        #[arg(long, value_name = "N")]
        revision: Option<u32>,
        /// Only results of this status.
        #[arg(long, value_enum)]
        status: Option<IgnoredStatus>,
    },
    /// Deletes a check ignore by its id (`atr ignore list` shows the ids).
    Delete {
        /// The project, such as `httpd`.
        project: String,
        /// The ignore's id.
        id: u64,
    },
}

/// `checker=license_* member=*/test/*`: the selectors an ignore gives.
pub(crate) fn selectors(ignore: &CheckIgnore) -> String {
    let globs = [
        ("version", &ignore.version_glob),
        ("checker", &ignore.checker_glob),
        ("path", &ignore.path_glob),
        ("member", &ignore.member_glob),
        ("message", &ignore.message_glob),
    ];
    let mut parts: Vec<String> =
        globs.iter().filter_map(|(name, glob)| glob.as_ref().map(|g| format!("{name}={g:?}"))).collect();
    if let Some(revision) = ignore.revision {
        parts.push(format!("revision={revision}"));
    }
    if let Some(status) = &ignore.status {
        parts.push(format!("status={}", output::name(status)));
    }
    parts.join(" ")
}

/// `atr ignore ...`.
pub(crate) async fn ignore(api: &Api, command: &IgnoreCommand, json: bool) -> Outcome {
    const NEEDS: &str = "adding and deleting check ignores needs `manage_policy` on the project";
    match command {
        IgnoreCommand::List { project } => {
            let path = path_of(op::ListIgnores, &[("project", project)], "");
            let answer = api.op(op::ListIgnores, &path, None).await?;
            if json {
                output::print_json(&answer.json);
                return Ok(());
            }
            for ignore in &answer.body {
                println!("{:>6}  {}  ({})", ignore.id, selectors(ignore), ignore.reason);
            }
            if answer.body.is_empty() {
                eprintln!("{project} has no check ignores; `atr ignore add {project} --reason ...` adds one");
            }
        }
        IgnoreCommand::Add { project, reason, checker, path, member, message, version, revision, status } => {
            let request = NewIgnore {
                version_glob: version.clone(),
                revision: *revision,
                checker_glob: checker.clone(),
                path_glob: path.clone(),
                member_glob: member.clone(),
                status: status.map(Into::into),
                message_glob: message.clone(),
                reason: reason.clone(),
            };
            let at = path_of(op::AddIgnore, &[("project", project)], "");
            let answer =
                api.op(op::AddIgnore, &at, Some(&request)).await.map_err(|f| f.hint_for(exit::REFUSED, NEEDS))?;
            if json {
                output::print_json(&answer.json);
            } else {
                println!("ignore {} added to {project}: {}", answer.body.id, selectors(&answer.body));
                eprintln!("`atr checks` leaves the results it matches out of the counts a vote needs");
            }
        }
        IgnoreCommand::Delete { project, id } => {
            let number = id.to_string();
            let at = path_of(op::DeleteIgnore, &[("project", project), ("id", &number)], "");
            let answer = api.op(op::DeleteIgnore, &at, None).await.map_err(|f| {
                f.hint_for(exit::REFUSED, NEEDS)
                    .hint_for(exit::NOT_FOUND, format!("`atr ignore list {project}` shows the ignores and their ids"))
            })?;
            if json {
                output::print_json(&answer.json);
            } else {
                println!("ignore {id} deleted from {project}: {}", selectors(&answer.body));
            }
        }
    }
    Ok(())
}
