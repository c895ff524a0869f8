//! The client side of `atr`: the commands a release manager, a CI job or an admin runs against a
//! running service, over its JSON API.
//!
//! Where the service is and who calls come from `--server`/`ATR_SERVER` and
//! `--token`/`ATR_TOKEN` first, then from the credentials `atr login` stored. A stored token is
//! only sent to the server it was stored for.
//!
//! Answers go to stdout (the service's JSON with `--json`), progress and errors to stderr.
//! A failure prints an `error:` line and a `hint:` line saying what to do next, and ends the
//! process with its exit code (see [`api::exit`]): 1 failed checks or another error, 2 a wrong
//! command line or value, 3 not signed in or refused, 4 not found, 5 a conflict with the
//! release's state. Failures with code 1 are handed back to `main`, which prints them and exits
//! with 1; the others are printed here and end the process at once.

mod activity;
mod admin;
mod api;
mod credentials;
mod files;
mod ignore;
mod manage;
mod output;
mod project;
mod release;
mod status;
mod transfer;

use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;

use atr_api::Operation;
use atr_api::endpoints as op;
use clap::{Args, Subcommand, ValueEnum};

use self::activity::ConsentCommand;
use self::api::{Api, Failure, Outcome, exit, path_of, segment};
use self::files::ListedStage;
use self::ignore::IgnoreCommand;
use self::project::{CommitteeCommand, PolicyCommand, ProductCommand, ProjectCommand};

/// What every client command needs: where the service is and who is calling.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub server: Option<String>,
    pub token: Option<String>,
    pub json: bool,
}

/// A release named on the command line.
#[derive(Debug, Clone, Args)]
pub(crate) struct ReleaseArgs {
    /// The project, such as `httpd`.
    pub project: String,
    /// The release's version, such as `2.6.0`.
    pub version: String,
    /// The project's sub-product the release is of; omit it for the main product.
    #[arg(long)]
    pub product: Option<String>,
}

impl ReleaseArgs {
    /// The path of a release's `operation` (such as [`GetTally`](atr_api::endpoints::GetTally)),
    /// with the parameters besides the release's in `more`, and the product.
    pub(crate) fn at<O: Operation>(&self, operation: O, more: &[(&str, &str)]) -> String {
        let query = self.product.as_deref().map(|p| format!("?product={}", segment(p))).unwrap_or_default();
        let mut params = vec![("project", self.project.as_str()), ("version", self.version.as_str())];
        params.extend_from_slice(more);
        path_of(operation, &params, &query)
    }

    /// `httpd 2.6.0`, or `httpd/mod-tools 1.0.0`.
    pub(crate) fn name(&self) -> String {
        match &self.product {
            Some(product) => format!("{}/{product} {}", self.project, self.version),
            None => format!("{} {}", self.project, self.version),
        }
    }

    /// The arguments of the same release on a command line.
    pub(crate) fn args(&self) -> String {
        match &self.product {
            Some(product) => format!("{} {} --product {product}", self.project, self.version),
            None => format!("{} {}", self.project, self.version),
        }
    }
}

/// The client commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// Stores the service's address and a token for the next commands. The token comes from
    /// `ATR_TOKEN` (or `--token`), else from the first line of stdin; it is checked with the
    /// service and never printed. With `--user`, signs in as that person instead, for their own
    /// rights (a PMC member's, an admin's), and stores the short-lived session.
    Login {
        /// Signs in as this account, with the password from a prompt that does not show it (on a
        /// terminal), else from `ATR_PASSWORD` or the first line of stdin.
        #[arg(long)]
        user: Option<String>,
    },
    /// Ends the stored session on the service, and forgets the stored address, token or session.
    Logout,
    /// Says who the token belongs to and what it allows.
    Whoami,
    /// Says whether the service can serve: its database answers, its migrations are applied and
    /// its release storage takes a write (`GET /readyz`). Exits with 1 when it cannot.
    Status,
    /// Starts and shows releases.
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Uploads files to a draft release, each as a new revision, streamed from disk.
    Upload {
        #[command(flatten)]
        release: ReleaseArgs,
        /// The files to upload.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The folder of the release to put the files in (by default its top).
        #[arg(long)]
        to: Option<String>,
    },
    /// Shows the check results of a revision: blockers, warnings, notes. Exits with 1 when there
    /// are blockers, and with 6, saying why, when the checks have not completed (still running,
    /// waiting for a task runner, or failed). `atr checks rerun` queues the checks of a revision
    /// again.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Checks {
        #[command(subcommand)]
        action: Option<ChecksCommand>,
        /// The project, such as `httpd`.
        #[arg(required = true)]
        project: Option<String>,
        /// The release's version, such as `2.6.0`.
        #[arg(required = true)]
        version: Option<String>,
        /// The project's sub-product the release is of; omit it for the main product.
        #[arg(long)]
        product: Option<String>,
        /// The revision (by default the latest).
        #[arg(long)]
        revision: Option<u32>,
        /// Waits for the checks still running; stops early when no task runner is there to run
        /// them, or they failed.
        #[arg(long)]
        wait: bool,
        /// Longest wait, in seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
    /// Deletes files of a draft: each deletion is a new revision, checked again.
    Rm {
        #[command(flatten)]
        release: ReleaseArgs,
        /// The files' paths in the release.
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Moves or renames a file or folder of a draft: a new revision, checked again.
    Mv {
        #[command(flatten)]
        release: ReleaseArgs,
        /// The file's or folder's path.
        from: String,
        /// Its new path.
        to: String,
    },
    /// Lists the SBOM files of a release's latest revision with their validation results.
    Sboms {
        #[command(flatten)]
        release: ReleaseArgs,
    },
    /// Starts, casts, counts and resolves the vote on a release.
    #[command(subcommand)]
    Vote(VoteCommand),
    /// Announces a release whose vote passed: it becomes current.
    Announce {
        #[command(flatten)]
        release: ReleaseArgs,
        /// Confirms the pause the project's policy may ask for before announcing.
        #[arg(long)]
        confirm: bool,
    },
    /// Revokes a release: it stays downloadable under `/revoked`, marked with the reason.
    Revoke {
        #[command(flatten)]
        release: ReleaseArgs,
        /// Why, shown with every download of the release.
        #[arg(long, required = true)]
        reason: String,
    },
    /// Downloads a file by its coordinates (`current/httpd/2.4.66/httpd-2.4.66.tar.gz`, or with
    /// `latest` for the version), verifying the SHA-512 the service promises.
    Download {
        /// `STAGE/PROJECT/[PRODUCT/]VERSION/PATH`, or a full address of the service.
        coordinates: String,
        /// Where to write the file (`-` for stdout); by default its name, in the current folder.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Creates, lists and revokes access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Lists, shows, creates and changes projects (their descriptive metadata).
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Adds and changes the products of a project.
    #[command(subcommand)]
    Product(ProductCommand),
    /// Shows and changes a project's vote policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Lists, adds and deletes a project's check ignores: results reviewed as false positives.
    #[command(subcommand)]
    Ignore(IgnoreCommand),
    /// Lists and shows committees and their people, as the service knows them.
    #[command(subcommand)]
    Committee(CommitteeCommand),
    /// Lists the audit log's events, newest first: a project's or a release's, or (foundation
    /// members and admins) all of them.
    Events {
        /// The project.
        #[arg(long)]
        project: Option<String>,
        /// The project's sub-product.
        #[arg(long, requires = "project")]
        product: Option<String>,
        /// A release of the project, by version.
        #[arg(long, value_name = "VERSION", requires = "project")]
        release: Option<String>,
        /// Events older than this event id (for the next page).
        #[arg(long)]
        before: Option<u64>,
        /// Most events listed.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Searches projects, releases, signing keys and CVE records.
    Search {
        /// The words to look for.
        #[arg(required = true)]
        text: Vec<String>,
        /// Most hits of each kind.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Gives or withdraws consent to keep your name and email, to vote as a visitor.
    #[command(subcommand)]
    Consent(ConsentCommand),
    /// Manages a committee's signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Looks at and steers the task queue.
    #[command(subcommand)]
    Tasks(TasksCommand),
    /// Records, lists and shows CVE records and links them to releases.
    #[command(subcommand)]
    Cve(CveCommand),
    /// What only admins do: create accounts, set committees' people, import committees, verify
    /// the audit log. Tokens never carry admin rights: these sign in with `--user`.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ReleaseCommand {
    /// Starts a draft release.
    Start {
        /// The project, such as `httpd`.
        project: String,
        /// The new version, such as `2.6.0`.
        version: String,
        /// The project's sub-product the release is of; omit it for the main product.
        #[arg(long)]
        product: Option<String>,
    },
    /// Shows a release: its stage, latest revision, packages and vote.
    Show {
        #[command(flatten)]
        release: ReleaseArgs,
    },
    /// Lists the releases of a project in a stage, newest version first (by default the drafts
    /// and previews).
    List {
        /// The project, such as `httpd`.
        project: String,
        /// The stage.
        #[arg(long, value_enum, default_value = "draft")]
        stage: ListedStage,
        /// The project's sub-product; omit it for the main product.
        #[arg(long)]
        product: Option<String>,
        /// Starts after this version (for the next page).
        #[arg(long)]
        after: Option<String>,
        /// Most releases listed.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Lists the files of a revision with their sizes and digests.
    Files {
        #[command(flatten)]
        release: ReleaseArgs,
        /// The revision (by default the latest).
        #[arg(long)]
        revision: Option<u32>,
    },
    /// Lists the revisions of a release.
    Revisions {
        #[command(flatten)]
        release: ReleaseArgs,
    },
    /// Deletes a draft with its revisions, files and check results, so that its version can be
    /// started again; its history stays. A release that reached a vote is revoked instead.
    DeleteDraft {
        #[command(flatten)]
        release: ReleaseArgs,
    },
    /// Sets the git repository and commit the source archive was made from; the checks of the
    /// latest revision run again and compare the archive with that commit (files that differ block
    /// the release, files git does not have are warnings unless the policy's generated globs name
    /// them). Only before the vote.
    Source {
        #[command(flatten)]
        release: ReleaseArgs,
        /// The repository's address, such as `https://github.com/apache/httpd.git`.
        #[arg(long, required_unless_present = "clear")]
        repository: Option<String>,
        /// The full commit id (40 or 64 hexadecimal digits).
        #[arg(long, required_unless_present = "clear")]
        commit: Option<String>,
        /// The tag naming the commit, for people.
        #[arg(long)]
        tag: Option<String>,
        /// Clears the source instead; the checks run again without the comparison.
        #[arg(long, conflicts_with_all = ["repository", "commit", "tag"])]
        clear: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ChecksCommand {
    /// Queues the checks of a revision again, such as after the committee's KEYS changed.
    ///
    /// The results of an earlier run of this revision or its parent with the same inputs (the
    /// files' digests, the keys, the policy's settings, each checker's version) are reused;
    /// `--force` runs every check again.
    Rerun {
        #[command(flatten)]
        release: ReleaseArgs,
        /// The revision (by default the latest).
        #[arg(long)]
        revision: Option<u32>,
        /// Run every check again, reusing nothing (admins only).
        #[arg(long)]
        force: bool,
    },
}

/// The outcome of a vote, as `atr vote resolve` records it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Resolution {
    Passed,
    Failed,
    Cancelled,
}

#[derive(Debug, Subcommand)]
pub(crate) enum VoteCommand {
    /// Starts the vote on a revision.
    Start {
        #[command(flatten)]
        release: ReleaseArgs,
        /// The revision voted on: exactly these files (by default the latest).
        #[arg(long)]
        revision: Option<u32>,
    },
    /// Casts or changes your ballot. Tokens cannot vote, so this signs in with `--user`.
    Cast {
        #[command(flatten)]
        release: ReleaseArgs,
        /// `+1`, `+0`, `0`, `-0` or `-1`.
        #[arg(allow_hyphen_values = true)]
        value: String,
        /// A comment kept with the ballot.
        #[arg(long)]
        comment: Option<String>,
        /// Votes as this account, signing in with the password in `ATR_PASSWORD` (else the first
        /// line of stdin): tokens cannot vote.
        #[arg(long)]
        user: Option<String>,
    },
    /// Counts the ballots.
    Tally {
        #[command(flatten)]
        release: ReleaseArgs,
    },
    /// Ends the vote.
    Resolve {
        #[command(flatten)]
        release: ReleaseArgs,
        /// How the vote ended.
        #[arg(value_enum)]
        outcome: Resolution,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Creates a token: signs in as `--user` with the password in `ATR_PASSWORD` (else the first
    /// line of stdin), then prints the new token once on stdout.
    Create {
        /// The account to sign in with.
        #[arg(long, required = true)]
        user: String,
        /// A project the token may act on (repeat for more).
        #[arg(long = "project", required = true)]
        projects: Vec<String>,
        /// An action the token allows (repeat for more).
        #[arg(long = "action", required = true, help = token_actions_help())]
        actions: Vec<String>,
        /// How long the token lives: days, such as `30d` or `30`.
        #[arg(long, default_value = "30d")]
        expires: String,
        /// A label to recognise the token by.
        #[arg(long, default_value = "atr")]
        name: String,
    },
    /// Lists the tokens of the token's owner, without their secrets.
    List,
    /// Revokes a token by its id.
    Revoke {
        /// The token's id (the part after `atr_`, as `atr token list` shows it).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Lists the signing keys linked to a committee.
    List {
        /// The committee, such as `httpd`.
        committee: String,
    },
    /// Adds one ASCII-armored public key to a committee.
    Add {
        /// The committee, such as `httpd`.
        committee: String,
        /// The key file.
        file: PathBuf,
    },
    /// Imports a KEYS file into a committee.
    Import {
        /// The committee, such as `httpd`.
        committee: String,
        /// The KEYS file.
        keys: PathBuf,
    },
    /// Writes a committee's KEYS file to stdout.
    Export {
        /// The committee, such as `httpd`.
        committee: String,
    },
    /// Deletes a key that no release used.
    Delete {
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// Lists the releases a key signed.
    Releases {
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// Shows a signing key, with its armored form.
    Show {
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// Links a known key to a committee.
    Link {
        /// The committee, such as `httpd`.
        committee: String,
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// Lists the signing keys a person owns.
    User {
        /// The person's user id.
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TasksCommand {
    /// Lists the tasks in a status.
    List {
        /// `queued`, `active`, `completed`, `failed` or `cancelled`.
        #[arg(long, default_value = "queued")]
        status: String,
        /// Most tasks listed.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Shows one task.
    Show {
        /// The task's id.
        id: u64,
    },
    /// Cancels a queued or running task.
    Cancel {
        /// The task's id.
        id: u64,
    },
    /// Queues a failed or cancelled task again.
    Retry {
        /// The task's id.
        id: u64,
    },
    /// Counts the tasks by kind and status, and lists the task runners with their last
    /// heartbeat.
    Status,
}

/// How a CVE relates to a release.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CveLink {
    Affects,
    Resolves,
}

/// The severity of a CVE record.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CveSeverity {
    Low,
    Moderate,
    Important,
    Critical,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CveCommand {
    /// Records a CVE on behalf of a project, or replaces the title, description and severity of
    /// a recorded one (its links to releases are kept). Needs `manage_metadata` on the project.
    Add {
        /// The project, such as `httpd`.
        project: String,
        /// The CVE id, such as `CVE-2026-1234`.
        id: String,
        /// A one-line summary.
        #[arg(long, required = true)]
        title: String,
        /// A longer description.
        #[arg(long)]
        description: Option<String>,
        /// How severe it is.
        #[arg(long, value_enum)]
        severity: Option<CveSeverity>,
    },
    /// Lists the recorded CVEs, ordered by id.
    List {
        /// Starts after this CVE id (for the next page).
        #[arg(long)]
        after: Option<String>,
        /// Most records listed.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Shows a CVE record with the releases it affects and those that resolve it.
    Show {
        /// The CVE id, such as `CVE-2026-1234`.
        id: String,
    },
    /// Links a recorded CVE to a release.
    Link {
        #[command(flatten)]
        release: ReleaseArgs,
        /// The CVE id.
        id: String,
        /// Whether the release is affected by the CVE or resolves it.
        #[arg(value_enum)]
        link: CveLink,
    },
    /// Lists the CVEs that affect a release and those it resolves.
    Release {
        #[command(flatten)]
        release: ReleaseArgs,
        /// Only the CVEs that affect it, or only those it resolves.
        #[arg(long, value_enum)]
        link: Option<CveLink>,
    },
}

/// How an admin command signs in: tokens never carry admin rights.
#[derive(Debug, Clone, Args)]
pub(crate) struct AdminSignIn {
    /// The admin account to sign in with, with the password in `ATR_PASSWORD` (else a line of
    /// stdin).
    #[arg(long = "user", value_name = "ADMIN", required = true)]
    pub sign_in_as: String,
}

/// A role in a committee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CommitteeRole {
    /// A member of the project management committee (binding votes).
    Pmc,
    /// A committer.
    Committer,
    /// A release manager.
    ReleaseManager,
}

/// A person and a role in a committee, as `atr admin user grant|revoke` name them.
#[derive(Debug, Clone, Args)]
pub(crate) struct RoleChange {
    /// The person's user id.
    #[arg(value_name = "USER")]
    pub person: String,
    /// The committee, such as `httpd`.
    #[arg(long, required = true)]
    pub committee: String,
    /// The role.
    #[arg(long, value_enum, required = true)]
    pub role: CommitteeRole,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Creates local accounts and grants or revokes roles in committees.
    #[command(subcommand)]
    User(AdminUserCommand),
    /// Imports committees and their people from a JSON document.
    #[command(subcommand)]
    Committees(AdminCommitteesCommand),
    /// Checks the audit log.
    #[command(subcommand)]
    Audit(AdminAuditCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminUserCommand {
    /// Creates a local account. Its password comes from `ATR_NEW_PASSWORD`, else the first line
    /// of stdin (then the admin's password, when not in `ATR_PASSWORD`, is the second line).
    Create {
        /// The new account's user id.
        #[arg(value_name = "USER")]
        person: String,
        /// Makes the person an admin.
        #[arg(long)]
        admin: bool,
        /// Marks the person as a member of the foundation.
        #[arg(long)]
        asf_member: bool,
        #[command(flatten)]
        sign_in: AdminSignIn,
    },
    /// Gives a person a role in a committee.
    Grant {
        #[command(flatten)]
        change: RoleChange,
        #[command(flatten)]
        sign_in: AdminSignIn,
    },
    /// Takes a role in a committee away from a person.
    Revoke {
        #[command(flatten)]
        change: RoleChange,
        #[command(flatten)]
        sign_in: AdminSignIn,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommitteesCommand {
    /// Creates or replaces the committees of a JSON document (`{"committees": [...]}`); the
    /// committees it does not list are left alone.
    Import {
        /// The JSON document.
        file: PathBuf,
        #[command(flatten)]
        sign_in: AdminSignIn,
    },
    /// Creates a committee or replaces its people (all three lists at once).
    Set {
        /// The committee's key, such as `httpd`.
        committee: String,
        /// Its name, such as `Apache HTTP Server` (needed for a new committee).
        #[arg(long)]
        name: Option<String>,
        /// Whether it is an Incubator podling: `true` or `false`.
        #[arg(long)]
        podling: Option<bool>,
        /// The PMC members (repeat, or separate with commas).
        #[arg(long = "pmc", value_delimiter = ',')]
        pmc: Vec<String>,
        /// The committers (repeat, or separate with commas).
        #[arg(long = "committer", value_delimiter = ',')]
        committers: Vec<String>,
        /// The release managers (repeat, or separate with commas).
        #[arg(long = "release-manager", value_delimiter = ',')]
        release_managers: Vec<String>,
        #[command(flatten)]
        sign_in: AdminSignIn,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminAuditCommand {
    /// Recomputes the audit log's hash chain. Exits with 1, naming the first event that does not
    /// verify, when an event was changed or deleted.
    Verify {
        #[command(flatten)]
        sign_in: AdminSignIn,
    },
}

/// Runs a client command. A failure is printed here with its `error:` and `hint:` lines and
/// ends the process with its exit code; failures with code 1 are handed back to `main` instead,
/// which prints them and exits with 1.
pub(crate) async fn run(context: &Context, command: &ClientCommand) -> Result<(), String> {
    let Err(failure) = dispatch(context, command).await else {
        return Ok(());
    };
    if failure.code == exit::FAILED {
        return Err(match &failure.hint {
            Some(hint) => format!("{}\nhint: {hint}", failure.message),
            None => failure.message,
        });
    }
    output::report(&failure);
    std::process::exit(failure.code)
}

async fn dispatch(context: &Context, command: &ClientCommand) -> Outcome {
    let json = context.json;
    match command {
        ClientCommand::Login { user: Some(user) } => login_as(context, user).await,
        ClientCommand::Login { user: None } => login(context).await,
        ClientCommand::Logout => logout().await,
        ClientCommand::Whoami => whoami(&connect(context)?, json).await,
        ClientCommand::Status => status::status(&connect_anonymous(context)?, json).await,
        ClientCommand::Release(ReleaseCommand::Start { project, version, product }) => {
            let release = ReleaseArgs { project: project.clone(), version: version.clone(), product: product.clone() };
            release::start(&connect(context)?, &release, json).await
        }
        ClientCommand::Release(ReleaseCommand::Show { release }) => {
            release::show(&connect(context)?, release, json).await
        }
        ClientCommand::Release(ReleaseCommand::List { project, stage, product, after, limit }) => {
            let listing = files::ReleaseListing {
                project,
                stage: *stage,
                product: product.as_deref(),
                after: after.as_deref(),
                limit: *limit,
            };
            files::list(&connect(context)?, &listing, json).await
        }
        ClientCommand::Release(ReleaseCommand::Files { release, revision }) => {
            files::files(&connect(context)?, release, *revision, json).await
        }
        ClientCommand::Release(ReleaseCommand::Revisions { release }) => {
            files::revisions(&connect(context)?, release, json).await
        }
        ClientCommand::Release(ReleaseCommand::DeleteDraft { release }) => {
            files::delete_draft(&connect(context)?, release, json).await
        }
        ClientCommand::Release(ReleaseCommand::Source { release, repository, commit, tag, clear }) => {
            let origin = match (repository, commit) {
                (Some(repository), Some(commit)) if !*clear => Some(atr_api::SourceOrigin {
                    repository: repository.clone(),
                    commit: commit.clone(),
                    tag: tag.clone(),
                }),
                _ => None,
            };
            files::set_source(&connect(context)?, release, origin, json).await
        }
        ClientCommand::Upload { release, files, to } => {
            transfer::upload(&connect(context)?, release, files, to.as_deref(), json).await
        }
        ClientCommand::Rm { release, paths } => files::remove(&connect(context)?, release, paths, json).await,
        ClientCommand::Mv { release, from, to } => files::rename(&connect(context)?, release, from, to, json).await,
        ClientCommand::Sboms { release } => files::sboms(&connect(context)?, release, json).await,
        ClientCommand::Checks { action: Some(ChecksCommand::Rerun { release, revision, force }), .. } => {
            files::rerun(&connect(context)?, release, *revision, *force, json).await
        }
        ClientCommand::Checks { action: None, project, version, product, revision, wait, timeout } => {
            let (Some(project), Some(version)) = (project, version) else {
                return Err(Failure::usage("name the release: `atr checks PROJECT VERSION`"));
            };
            let release = ReleaseArgs { project: project.clone(), version: version.clone(), product: product.clone() };
            let options = release::ChecksOptions { revision: *revision, wait: *wait, timeout: *timeout };
            release::checks(&connect(context)?, &release, options, json).await
        }
        ClientCommand::Vote(vote) => release::vote(&connect(context)?, vote, json).await,
        ClientCommand::Announce { release, confirm } => {
            release::announce(&connect(context)?, release, *confirm, json).await
        }
        ClientCommand::Revoke { release, reason } => release::revoke(&connect(context)?, release, reason, json).await,
        ClientCommand::Download { coordinates, output } => {
            transfer::download(&connect(context)?, coordinates, output.as_deref(), json).await
        }
        ClientCommand::Token(TokenCommand::Create { user, projects, actions, expires, name }) => {
            let request = admin::NewToken { user, projects, actions, expires, name };
            admin::create_token(&connect_anonymous(context)?, &request, json).await
        }
        ClientCommand::Token(token) => admin::token(&connect(context)?, token, json).await,
        ClientCommand::Project(command) => project::project(&connect(context)?, command, json).await,
        ClientCommand::Product(command) => project::product(&connect(context)?, command, json).await,
        ClientCommand::Policy(command) => project::policy(&connect(context)?, command, json).await,
        ClientCommand::Ignore(command) => ignore::ignore(&connect(context)?, command, json).await,
        ClientCommand::Committee(command) => project::committee(&connect(context)?, command, json).await,
        ClientCommand::Events { project, product, release, before, limit } => {
            let filter = activity::EventsFilter {
                project: project.as_deref(),
                product: product.as_deref(),
                release: release.as_deref(),
                before: *before,
                limit: *limit,
            };
            activity::events(&connect(context)?, &filter, json).await
        }
        ClientCommand::Search { text, limit } => activity::search(&connect(context)?, text, *limit, json).await,
        ClientCommand::Consent(command) => activity::consent(&connect(context)?, command, json).await,
        ClientCommand::Keys(keys) => admin::keys(&connect(context)?, keys, json).await,
        ClientCommand::Tasks(tasks) => admin::tasks(&connect(context)?, tasks, json).await,
        ClientCommand::Cve(cve) => admin::cve(&connect(context)?, cve, json).await,
        ClientCommand::Admin(command) => manage::admin(&connect_anonymous(context)?, command, json).await,
    }
}

/// The actions a token may carry, for `atr token create --help`: those of a release manager that
/// need no session, as the service decides them.
fn token_actions_help() -> String {
    let actions: Vec<&str> = atr_core::auth::Activity::ALL
        .into_iter()
        .filter(|a| a.allowed_for_tokens() && !a.implied_for_tokens())
        .map(atr_core::auth::Activity::as_str)
        .collect();
    format!(
        "An action the token allows: {} (repeat for more). Voting, managing others' keys and admin \
         work need your own sign-in: `atr login --user USER`",
        actions.join(", ")
    )
}

/// The service and credential of a command: flags and environment first, then the stored
/// sign-in, a session or a token (only sent to the server it was stored for).
fn connect(context: &Context) -> Outcome<Api> {
    let stored = credentials::load()?;
    let server = server_of(context, stored.as_ref())?;
    if let Some(token) = &context.token {
        return Api::new(&server, Some(token.clone()));
    }
    let stored = stored.filter(|s| same_server(&s.server, &server));
    let api = Api::new(&server, stored.as_ref().and_then(|s| s.token.clone()))?;
    Ok(match stored.and_then(|s| s.session.map(|cookie| (cookie, s.user))) {
        Some((cookie, user)) => api.with_session(cookie, user),
        None => api,
    })
}

/// The service of a command that signs in by itself: no token is sent.
fn connect_anonymous(context: &Context) -> Outcome<Api> {
    let stored = credentials::load()?;
    Api::new(&server_of(context, stored.as_ref())?, None)
}

fn server_of(context: &Context, stored: Option<&credentials::Stored>) -> Outcome<String> {
    context.server.clone().or_else(|| stored.map(|s| s.server.clone())).ok_or_else(|| {
        Failure::usage("no service to talk to")
            .hint("pass --server https://atr.example.org, set ATR_SERVER, or run `atr login --server URL`")
    })
}

fn same_server(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}

/// Ends a stored session on its service, if one is stored; a failure only leaves it to expire.
async fn end_stored_session(stored: Option<&credentials::Stored>) {
    if let Some(stored) = stored
        && let Some(cookie) = &stored.session
        && let Ok(api) = Api::new(&stored.server, None)
    {
        api.with_session(cookie.clone(), stored.user.clone()).sign_out().await;
    }
}

/// `atr login`: checks the token with `GET /api/me`, then stores it (replacing a stored session,
/// which is ended).
async fn login(context: &Context) -> Outcome {
    let stored = credentials::load()?;
    let server = server_of(context, stored.as_ref())?;
    let token = if let Some(token) = &context.token {
        token.trim().to_owned()
    } else {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprintln!("paste the token (atr_...), then press Enter:");
        }
        let mut line = String::new();
        stdin.lock().read_line(&mut line).map_err(|e| Failure::other(format!("cannot read stdin: {e}")))?;
        line.trim().to_owned()
    };
    if token.is_empty() {
        return Err(Failure::usage("no token given").hint(
            "pipe it in (`atr login --server URL < token-file`) or set ATR_TOKEN; `atr token create` makes one; \
             `atr login --user USER` signs in with a password instead",
        ));
    }
    let api = Api::new(&server, Some(token.clone()))?;
    let me = api.op(op::WhoAmI, op::WhoAmI::ENDPOINT.path, None).await?;
    end_stored_session(stored.as_ref()).await;
    let path = credentials::save(&credentials::Stored::token(api.server(), token))?;
    if context.json {
        output::print_json(&me.json);
    } else {
        println!("signed in to {} as {}", api.server(), me.body.person.id);
        eprintln!("the token is stored in {} (readable by you only)", path.display());
    }
    Ok(())
}

/// `atr login --user`: signs in with a password and stores the session (replacing a stored
/// token), so that later commands act with the person's own rights until it expires.
async fn login_as(context: &Context, user: &str) -> Outcome {
    if context.token.is_some() {
        return Err(Failure::usage("--user signs in with a password; a token was given too")
            .hint("unset ATR_TOKEN (or drop --token), or run `atr login` without --user to store the token"));
    }
    let stored = credentials::load()?;
    let server = server_of(context, stored.as_ref())?;
    let api = Api::new(&server, None)?;
    let password = admin::password()?;
    let (session, signed_in) = api.open_session(user, &password).await?;
    end_stored_session(stored.as_ref()).await;
    let cookie = session.session_cookie().unwrap_or_default().to_owned();
    let record = credentials::Stored::session(api.server(), cookie, &signed_in.person.id, signed_in.expires_at);
    let path = match credentials::save(&record) {
        Ok(path) => path,
        Err(failure) => {
            session.sign_out().await;
            return Err(failure);
        }
    };
    if context.json {
        output::print_json(&serde_json::to_value(&signed_in).unwrap_or_default());
    } else {
        println!(
            "signed in to {} as {} until {}: commands act with {}'s own rights",
            api.server(),
            signed_in.person.id,
            output::date(signed_in.expires_at),
            signed_in.person.id
        );
        eprintln!("the session is stored in {} (readable by you only); `atr logout` ends it", path.display());
    }
    Ok(())
}

/// `atr logout`: ends a stored session on the service, then deletes what is stored.
async fn logout() -> Outcome {
    let stored = credentials::load()?;
    end_stored_session(stored.as_ref()).await;
    let forgot = credentials::forget()?;
    let said = match stored {
        Some(s) if s.session.is_some() => format!("signed out of {}: the session was ended and deleted", s.server),
        Some(_) => "signed out: the stored token was deleted (it stays valid until it expires or is revoked: \
                    `atr token revoke ID`)"
            .to_owned(),
        None if forgot => "signed out: the stored credentials were deleted".to_owned(),
        None => "no stored token or session".to_owned(),
    };
    eprintln!("{said}");
    Ok(())
}

/// `atr whoami`.
async fn whoami(api: &Api, json: bool) -> Outcome {
    if !api.has_token() {
        return Err(Failure::new(exit::REFUSED, "not signed in").hint(
            "run `atr login --server URL` with a token, or `atr login --user USER` (or pass --token / set ATR_TOKEN)",
        ));
    }
    let me = api.op(op::WhoAmI, op::WhoAmI::ENDPOINT.path, None).await?;
    if json {
        output::print_json(&me.json);
        return Ok(());
    }
    let person = &me.body.person;
    let admin = if person.admin { " (admin)" } else { "" };
    println!("{}{admin} on {}", person.id, api.server());
    match &me.body.token {
        Some(token) => {
            println!("token {} for projects {}", token.id, output::list(&token.projects));
            let activities: Vec<String> = token.activities.iter().map(output::name).collect();
            println!("allows {}", output::list(&activities));
            println!("expires {}", output::date(token.expires_at));
        }
        None => println!("signed in with a session: your own rights"),
    }
    Ok(())
}
