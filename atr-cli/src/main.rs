#![doc = include_str!("../README.md")]

use std::path::PathBuf;
use std::process::ExitCode;

use atr_store::StorageConfig;
use atr_store::sql::SqlStore;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod check;
mod client;
mod config;
mod demo;

/// ATR, the trusted-release platform.
#[derive(Debug, Parser)]
#[command(name = "atr", version, about)]
struct Cli {
    /// Where ATR keeps its data: the SQLite database (by default) and the release files.
    #[arg(long, env = "ATR_DATA_DIR", default_value = "atr-data", global = true)]
    data_dir: PathBuf,
    /// The metadata database: `sqlite://...` or `postgres://...`. Defaults to `atr.db` in the
    /// data directory.
    #[arg(long, env = "ATR_DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    /// A TOML settings file (`data_dir`, `database_url`, `listen`, `max_upload_bytes`, `admin`,
    /// `signer_domain`, `automated_signers`);
    /// flags and `ATR_` variables win over it.
    #[arg(long, env = "ATR_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// The service a client command talks to, such as `https://atr.example.org`.
    #[arg(long, env = "ATR_SERVER", global = true)]
    server: Option<String>,
    /// The access token of a client command (`atr_...`).
    #[arg(long, env = "ATR_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    /// Writes the answers of read commands as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Committees {
    /// Creates or replaces the committees of a JSON document (the format of
    /// `POST /api/admin/committees/import`).
    Import {
        /// The JSON file.
        file: PathBuf,
    },
    /// Lists the committees and their people.
    List,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Client(client::ClientCommand),
    /// Applies the pending database migrations, creating the database if needed.
    Migrate,
    /// Checks the audit log's hash chain and reports the first event that was changed or deleted.
    VerifyEvents,
    /// Runs the Analyze checks on a local folder of release files, before uploading: no server
    /// or database needed. Exits with 1 when a check finds a blocker.
    Check {
        /// The folder holding the release's files.
        dir: PathBuf,
        /// The committee's KEYS file, to verify the signatures.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// The project's name, shown in the report.
        #[arg(long)]
        project: Option<String>,
        /// The project is an Incubator podling (names say "incubating", DISCLAIMER needed).
        #[arg(long)]
        podling: bool,
        /// The foundation's mail domain, such as `apache.org`: checks that the key of every good
        /// signature has a user id in it (a warning otherwise). Locally only the domain is known:
        /// whether that user id is a committer of the project is checked by the service's
        /// Analyze task, not here.
        #[arg(long, value_name = "DOMAIN")]
        signer_domain: Option<String>,
        /// An address whose key signs releases automatically, accepted by the signer-identity
        /// rule (repeatable); `{committee}` in it stands for the `--project`.
        #[arg(long = "automated-signer", value_name = "ADDRESS", requires = "signer_domain")]
        automated_signers: Vec<String>,
    },
    /// Runs the platform: the HTTP service and, unless `--no-worker`, a task runner in the same
    /// process. Creates the data directory and the SQLite database on first start.
    Serve {
        /// Where the HTTP service listens.
        #[arg(long, env = "ATR_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Runs the web side only; run `atr worker` elsewhere.
        #[arg(long)]
        no_worker: bool,
        /// Largest upload accepted, in bytes.
        #[arg(long, env = "ATR_MAX_UPLOAD_BYTES", default_value_t = 4 << 30)]
        max_upload_bytes: u64,
        /// Loads a small demo foundation first (committees, people in every role, keys, releases
        /// in every stage) into an empty database.
        #[arg(long)]
        demo: bool,
        /// An admin account to create at start if it is missing; its password comes from
        /// `ATR_ADMIN_PASSWORD` (never from the command line, where others could read it).
        #[arg(long, env = "ATR_ADMIN_USER")]
        admin: Option<String>,
        /// The URL people reach the service at; when it is `https://...` (behind a TLS proxy),
        /// session cookies are marked `Secure`.
        #[arg(long, env = "ATR_PUBLIC_URL")]
        public_url: Option<String>,
        /// Seconds a client may take to send a request head, also the idle time after which a
        /// kept-alive connection is closed.
        #[arg(long, env = "ATR_HEADER_TIMEOUT_SECS", default_value_t = 30)]
        header_timeout_secs: u64,
        /// Seconds an upload may go without a byte before it is dropped.
        #[arg(long, env = "ATR_BODY_STALL_SECS", default_value_t = 60)]
        body_stall_secs: u64,
        /// Most connections open at once; more wait in the listen queue.
        #[arg(long, env = "ATR_MAX_CONNECTIONS", default_value_t = 1024)]
        max_connections: usize,
        /// How the log is written to stderr: `human` lines, or one JSON object a line. What is
        /// logged is set by `ATR_LOG` (such as `info` or `atr_http=debug`; default `info`).
        #[arg(long, env = "ATR_LOG_FORMAT", default_value = "human")]
        log_format: LogFormat,
        /// A network allowed to read `/metrics`, in CIDR notation (`10.0.0.0/8`, `fd00::/8`) or a
        /// single address; repeatable (the variable takes a comma-separated list). Others get
        /// 403. Default: loopback only (`127.0.0.0/8` and `::1`).
        #[arg(long = "metrics-allow", value_name = "CIDR", env = "ATR_METRICS_ALLOW", value_delimiter = ',')]
        metrics_allow: Vec<String>,
        #[command(flatten)]
        checks: CheckSettings,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Manages committees and their people (PMC members, committers, release managers).
    #[command(subcommand)]
    Committees(Committees),
    /// Creates a local account; its password comes from `ATR_ACCOUNT_PASSWORD`.
    Account {
        /// The person's user id.
        user: String,
        /// Makes the person an admin.
        #[arg(long)]
        admin: bool,
        /// Marks the person as a member of the foundation.
        #[arg(long)]
        asf_member: bool,
    },
    /// Runs a task runner: claims tasks from the database and runs them until interrupted.
    Worker {
        /// Most tasks run at once (the load watch may lower it).
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// This runner's name in task leases; defaults to the host name and process id.
        #[arg(long)]
        name: Option<String>,
        /// How long a claimed task stays this runner's without a heartbeat, in seconds (the
        /// heartbeat renews it every quarter of that): how soon another runner takes over the
        /// tasks of one that died.
        #[arg(
            long,
            env = "ATR_WORKER_LEASE_SECS",
            default_value_t = 60,
            value_parser = clap::value_parser!(u64).range(2..=3600)
        )]
        lease_secs: u64,
        /// Serves `/healthz`, `/readyz` and `/metrics` (this runner's series, the queue and the
        /// database pool) at this address, such as `127.0.0.1:9464`; by default none.
        #[arg(long, env = "ATR_WORKER_METRICS_LISTEN", value_name = "ADDR")]
        metrics_listen: Option<String>,
        /// A network allowed to read `/metrics` of `--metrics-listen`, as for `atr serve`
        /// (repeatable; default loopback only).
        #[arg(long = "metrics-allow", value_name = "CIDR", env = "ATR_METRICS_ALLOW", value_delimiter = ',')]
        metrics_allow: Vec<String>,
        /// How the log is written to stderr: `human` lines, or one JSON object a line (`ATR_LOG`
        /// sets what is logged; default `info`).
        #[arg(long, env = "ATR_LOG_FORMAT", default_value = "human")]
        log_format: LogFormat,
        #[command(flatten)]
        checks: CheckSettings,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Writes the shell completion script of `atr` to stdout, such as
    /// `atr completions bash > ~/.local/share/bash-completion/completions/atr`.
    Completions {
        /// The shell the script is for.
        shell: clap_complete::Shell,
    },
}

/// The signer-identity rule of the Analyze checks that `serve` and `worker` run.
#[derive(Debug, Clone, clap::Args)]
struct SignerArgs {
    /// The foundation's mail domain, such as `apache.org`: turns on the signer-identity rule. The
    /// key of every good signature should then have a user id `<uid@DOMAIN>` of a committer, PMC
    /// member or release manager of the project's committee (or an `--automated-signer`
    /// address); a good signature from another key of KEYS is a warning. Off when unset.
    #[arg(long, env = "ATR_SIGNER_DOMAIN", value_name = "DOMAIN")]
    signer_domain: Option<String>,
    /// The address of a key that signs releases automatically, accepted by the rule; `{committee}`
    /// in it stands for the committee's key (`{committee}-release@apache.org`). Repeatable (the
    /// variable takes a comma-separated list).
    #[arg(
        long = "automated-signer",
        env = "ATR_AUTOMATED_SIGNERS",
        value_name = "ADDRESS",
        value_delimiter = ',',
        requires = "signer_domain"
    )]
    automated_signers: Vec<String>,
}

/// The signer-identity rule of a domain and automated-signing addresses, if a domain is given.
fn signer_rule(domain: Option<&str>, automated: &[String]) -> Result<Option<atr_core::model::SignerRule>, String> {
    domain
        .map(|d| atr_core::model::SignerRule::parse(d, automated).map_err(|e| format!("--signer-domain: {e}")))
        .transpose()
}

impl Cli {
    fn storage(&self) -> StorageConfig {
        StorageConfig { database_url: self.database_url.clone(), ..StorageConfig::new(&self.data_dir) }
    }

    fn database_url(&self) -> String {
        self.storage().database_url()
    }
}

fn main() -> ExitCode {
    let cli = match config::matches(Cli::command()).and_then(|m| Cli::from_arg_matches(&m).map_err(|e| e.to_string())) {
        Ok(cli) => cli,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    if let Command::Check { dir, keys, project, podling, signer_domain, automated_signers } = &cli.command {
        let rule = match signer_rule(signer_domain.as_deref(), automated_signers) {
            Ok(rule) => rule,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
        };
        return check::run(dir, keys.as_deref(), project.as_deref(), *podling, rule, cli.json);
    }
    if let Command::Completions { shell } = cli.command {
        return completions(shell);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Writes the completion script for `shell` to stdout; it needs no data directory or database.
fn completions(shell: clap_complete::Shell) -> ExitCode {
    use std::io::Write as _;

    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "atr", &mut script);
    match std::io::stdout().lock().write_all(&script) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped early, such as `head`, is not an error.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot write the completion script: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: &Cli) -> Result<(), String> {
    // Client commands talk to a service; only the operator's commands keep data here, and only
    // `serve`, `migrate` and `worker` may create the data directory.
    if matches!(cli.command, Command::Serve { .. } | Command::Migrate | Command::Worker { .. }) {
        std::fs::create_dir_all(&cli.data_dir)
            .map_err(|e| format!("cannot create the data directory {}: {e}", cli.data_dir.display()))?;
    } else if !matches!(cli.command, Command::Client(_)) && cli.database_url.is_none() && !cli.data_dir.is_dir() {
        return Err(format!(
            "the data directory {} does not exist: choose the service's one with --data-dir DIR (or \
             ATR_DATA_DIR), or create a new one with `atr migrate`",
            cli.data_dir.display()
        ));
    }
    match cli.command {
        Command::Migrate => {
            let store = SqlStore::connect(&cli.database_url()).await.map_err(|e| e.to_string())?;
            let before = store.applied_migrations().await.map_err(|e| e.to_string())?;
            store.migrate().await.map_err(|e| e.to_string())?;
            let after = store.applied_migrations().await.map_err(|e| e.to_string())?;
            println!("database migrated: {} migration(s) applied now, {after} in all", after - before);
            Ok(())
        }
        Command::VerifyEvents => {
            let store = SqlStore::open(&cli.database_url()).await.map_err(|e| e.to_string())?;
            let report = store.verify_events().await.map_err(|e| format!("the audit log was tampered with: {e}"))?;
            println!("audit log intact: {} event(s), head {}", report.events, report.head);
            Ok(())
        }
        Command::Worker {
            concurrency,
            ref name,
            lease_secs,
            log_format,
            ref metrics_listen,
            ref metrics_allow,
            ref checks,
            ref signer,
        } => {
            start_log(log_format);
            let metrics = match metrics_listen {
                Some(listen) => Some((listen.clone(), metrics_allow_of(metrics_allow)?)),
                None => None,
            };
            let rule = signer_rule(signer.signer_domain.as_deref(), &signer.automated_signers)?;
            let lease = std::time::Duration::from_secs(lease_secs);
            worker(cli, (concurrency, lease), name.clone(), metrics, checks.source_fetch(), rule).await
        }
        Command::Serve {
            ref listen,
            no_worker,
            max_upload_bytes,
            demo,
            ref admin,
            ref public_url,
            header_timeout_secs,
            body_stall_secs,
            max_connections,
            log_format,
            ref metrics_allow,
            ref checks,
            ref signer,
        } => {
            start_log(log_format);
            let metrics_allow = metrics_allow_of(metrics_allow)?;
            let limits = Limits {
                signer_rule: signer_rule(signer.signer_domain.as_deref(), &signer.automated_signers)?,
                secure_cookies: public_url.as_deref().is_some_and(|u| u.starts_with("https://")),
                header_timeout: std::time::Duration::from_secs(header_timeout_secs.max(1)),
                body_stall: std::time::Duration::from_secs(body_stall_secs.max(1)),
                max_connections,
                metrics_allow,
                source_fetch: checks.source_fetch(),
            };
            serve(cli, listen, no_worker, max_upload_bytes, demo, admin.as_deref(), &limits).await
        }
        Command::Committees(ref action) => committees(cli, action).await,
        Command::Client(ref command) => {
            let context = client::Context { server: cli.server.clone(), token: cli.token.clone(), json: cli.json };
            client::run(&context, command).await
        }
        Command::Account { ref user, admin, asf_member } => account(cli, user, admin, asf_member).await,
        Command::Check { .. } | Command::Completions { .. } => unreachable!("handled before the runtime starts"),
    }
}

/// The networks of `--metrics-allow`: loopback only when none is given.
fn metrics_allow_of(items: &[String]) -> Result<atr_http::MetricsAllow, String> {
    if items.is_empty() {
        Ok(atr_http::MetricsAllow::default())
    } else {
        atr_http::MetricsAllow::parse(items).map_err(|e| format!("--metrics-allow: {e}"))
    }
}

/// The shape of the service's log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    // Lines for people.
    Human,
    // One JSON object a line, for log collectors.
    Json,
}

/// Installs the log subscriber of `serve` and `worker`: stderr, filtered by `ATR_LOG`.
fn start_log(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ATR_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    if let Err(error) = installed {
        eprintln!("the log could not be set up: {error}");
    }
}

/// How `atr serve` treats its clients.
#[derive(Debug)]
struct Limits {
    secure_cookies: bool,
    header_timeout: std::time::Duration,
    body_stall: std::time::Duration,
    max_connections: usize,
    metrics_allow: atr_http::MetricsAllow,
    signer_rule: Option<atr_core::model::SignerRule>,
    source_fetch: atr_tasks::analyze::source::SourceFetch,
}

/// How the task runner's checks reach outside: the git fetch of a release's source.
#[derive(Debug, Clone, clap::Args)]
struct CheckSettings {
    /// A URL scheme git may fetch a release's source repository over, to compare its source
    /// archive with the commit it names (repeatable; the variable takes a comma-separated list).
    /// `file` lets the runner read repositories on its own machine, such as a mirror.
    #[arg(
        long = "git-protocol",
        value_name = "SCHEME",
        env = "ATR_GIT_PROTOCOLS",
        value_delimiter = ',',
        default_value = "https"
    )]
    git_protocols: Vec<String>,
}

impl CheckSettings {
    fn source_fetch(&self) -> atr_tasks::analyze::source::SourceFetch {
        atr_tasks::analyze::source::SourceFetch {
            protocols: self.git_protocols.iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect(),
            ..Default::default()
        }
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, what service managers and container runtimes send.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                return;
            }
            Err(error) => eprintln!("SIGTERM cannot be watched ({error}); only Ctrl-C stops the service"),
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn serve(
    cli: &Cli,
    listen: &str,
    no_worker: bool,
    max_upload_bytes: u64,
    demo: bool,
    admin: Option<&str>,
    limits: &Limits,
) -> Result<(), String> {
    use std::sync::Arc;

    use atr_core::policy::VotePolicy;
    use atr_http::{AppState, HttpConfig};
    use atr_tasks::analyze::signature::SignaturePolicy;
    use atr_tasks::analyze::task::AnalyzeHandler;
    use atr_tasks::runner::{Runner, RunnerConfig, Shutdown};

    let mut storage_config = cli.storage();
    storage_config.max_file_size = max_upload_bytes;
    let (storage, recovery) = atr_store::Storage::open(&storage_config).await.map_err(|e| e.to_string())?;
    report_recovery(&recovery);
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let config = HttpConfig {
        max_upload_bytes,
        secure_cookies: limits.secure_cookies,
        body_stall_timeout: limits.body_stall,
        metrics_allow: limits.metrics_allow.clone(),
        ..HttpConfig::default()
    };
    let state = AppState::new(storage.clone(), config);
    let sign_in = match admin {
        Some(user) => {
            let user = atr_core::types::UserId::parse(user).map_err(|e| format!("--admin: {e}"))?;
            let password = std::env::var("ATR_ADMIN_PASSWORD")
                .map_err(|_| "--admin needs the admin's password in ATR_ADMIN_PASSWORD".to_owned())?;
            let created = atr_http::auth::ensure_admin(&state, &user, &password).await.map_err(|e| e.to_string())?;
            let how = if created { "created with" } else { "already has" };
            format!("sign in as {user} (account {how} the password in ATR_ADMIN_PASSWORD): POST /api/session")
        }
        None => "no admin account was asked for: start with --admin USER and ATR_ADMIN_PASSWORD to create one".into(),
    };
    let demo_note = if demo {
        let people = demo::load(&state).await.map_err(|e| format!("loading the demo: {e}"))?;
        Some(format!(
            "demo loaded: accounts {} (password {}); root is an admin",
            people.join(", "),
            demo::DEMO_PASSWORD
        ))
    } else {
        None
    };
    let (shutdown, signal) = Shutdown::new();
    let runner = if no_worker {
        None
    } else {
        let handler =
            AnalyzeHandler::new(storage.clone(), VotePolicy::foundation_default(), SignaturePolicy::default())
                .with_source_fetch(limits.source_fetch.clone())
                .with_signer_rule(limits.signer_rule.clone());
        let runner = Arc::new(
            Runner::new(storage.sql.clone(), RunnerConfig::new(format!("serve-{}", std::process::id())))
                .with_kind(handler),
        );
        state.register_metrics(|registry| runner.register_metrics(registry));
        let running = runner.clone();
        let signal = signal.clone();
        Some(tokio::spawn(async move { running.run(signal).await }))
    };
    println!(
        "ATR listening on http://{address} (data in {}, database {})",
        cli.data_dir.display(),
        if cli.database_url.is_some() { "from --database-url" } else { "SQLite in the data directory" }
    );
    println!("API description: http://{address}/api/openapi.json");
    println!(
        "health: http://{address}/healthz, readiness: http://{address}/readyz, metrics: http://{address}/metrics (for {})",
        limits.metrics_allow.networks().join(", ")
    );
    println!("{sign_in}");
    if let Some(note) = demo_note {
        println!("{note}");
    }
    if runner.is_some() {
        println!("a task runner runs in this process (--no-worker to run it elsewhere with `atr worker`)");
    }
    let mut stop = signal.clone();
    tokio::spawn(async move {
        stop_requested().await;
        println!("stopping: no new connections; finishing the requests and tasks in flight");
        shutdown.trigger();
    });
    let serving = atr_http::ServeConfig {
        header_read_timeout: limits.header_timeout,
        max_connections: limits.max_connections,
        ..atr_http::ServeConfig::default()
    };
    atr_http::serve(listener, atr_http::router(state), serving, async move {
        let _ = stop.wait_for(|stopped| *stopped).await;
    })
    .await
    .map_err(|e| format!("the HTTP service stopped: {e}"))?;
    if let Some(runner) = runner {
        let _ = runner.await;
    }
    println!("ATR stopped");
    Ok(())
}

/// Tells on stderr, in sentences, what the start-up reconciliation of storage found and did.
fn report_recovery(recovery: &atr_store::Recovery) {
    for sentence in recovery.sentences() {
        eprintln!("storage at start: {sentence}");
    }
}

async fn committees(cli: &Cli, action: &Committees) -> Result<(), String> {
    use atr_core::ports::{CommitteeRepository, PageRequest};

    let store = SqlStore::open(&cli.database_url()).await.map_err(|e| e.to_string())?;
    match action {
        Committees::Import { file } => {
            use std::io::Read;
            let mut text = String::new();
            std::fs::File::open(file)
                .and_then(|f| f.take(16 * 1024 * 1024).read_to_string(&mut text))
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let document: atr_http::auth::CommitteeImport = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not a committee document: {e}", file.display()))?;
            let report = atr_core::services::import_committees(&store, &store, document.into_committees())
                .await
                .map_err(|e| e.to_string())?;
            let report = serde_json::to_string(&atr_http::auth::import_report(&report)).map_err(|e| e.to_string())?;
            println!("{report}");
        }
        Committees::List => {
            let mut after = None;
            loop {
                let page = CommitteeRepository::list(&store, PageRequest { after: after.clone(), limit: 500 })
                    .await
                    .map_err(|e| e.to_string())?;
                let Some(last) = page.last() else { break };
                after = Some(last.key.clone());
                for c in &page {
                    let names = |set: &std::collections::BTreeSet<atr_core::types::UserId>| {
                        set.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
                    };
                    println!(
                        "{}\t{}\tpmc={}\tcommitters={}\trelease_managers={}",
                        c.key,
                        c.name,
                        names(&c.pmc_members),
                        names(&c.committers),
                        names(&c.release_managers)
                    );
                }
            }
        }
    }
    Ok(())
}

async fn account(cli: &Cli, user: &str, admin: bool, asf_member: bool) -> Result<(), String> {
    let id = atr_core::types::UserId::parse(user).map_err(|e| format!("user: {e}"))?;
    let password = std::env::var("ATR_ACCOUNT_PASSWORD")
        .map_err(|_| "the account's password goes in ATR_ACCOUNT_PASSWORD (never on the command line)".to_owned())?;
    if password.chars().count() < atr_http::auth::MIN_PASSWORD_LEN {
        return Err(format!("the password needs at least {} characters", atr_http::auth::MIN_PASSWORD_LEN));
    }
    let store = SqlStore::open(&cli.database_url()).await.map_err(|e| e.to_string())?;
    store.create_account(&id, &atr_http::auth::hash_password(&password)).await.map_err(|e| e.to_string())?;
    let person = atr_core::model::Person { id: id.clone(), asf_member, admin, consent: None };
    store.put_person(&person).await.map_err(|e| e.to_string())?;
    println!("account {id} created{}", if admin { " (admin)" } else { "" });
    Ok(())
}

async fn worker(
    cli: &Cli,
    (concurrency, lease): (usize, std::time::Duration),
    name: Option<String>,
    metrics: Option<(String, atr_http::MetricsAllow)>,
    source_fetch: atr_tasks::analyze::source::SourceFetch,
    signer_rule: Option<atr_core::model::SignerRule>,
) -> Result<(), String> {
    use atr_core::policy::VotePolicy;
    use atr_tasks::analyze::signature::SignaturePolicy;
    use atr_tasks::analyze::task::AnalyzeHandler;
    use atr_tasks::runner::{Runner, RunnerConfig, Shutdown};

    let (storage, recovery) = atr_store::Storage::open(&cli.storage()).await.map_err(|e| e.to_string())?;
    report_recovery(&recovery);
    let host = std::fs::read_to_string("/etc/hostname").map_or_else(|_| "worker".into(), |h| h.trim().to_owned());
    let owner = name.unwrap_or_else(|| format!("{host}-{}", std::process::id()));
    let mut config = RunnerConfig::new(owner.clone());
    config.max_concurrency = concurrency.max(1);
    config.initial_concurrency = concurrency.max(1);
    config.lease = lease;
    config.heartbeat = lease / 4;
    let handler = AnalyzeHandler::new(storage.clone(), VotePolicy::foundation_default(), SignaturePolicy::default())
        .with_source_fetch(source_fetch)
        .with_signer_rule(signer_rule);
    let runner = Runner::new(storage.sql.clone(), config).with_kind(handler);
    let (shutdown, signal) = Shutdown::new();
    tokio::spawn(async move {
        stop_requested().await;
        shutdown.trigger();
    });
    let endpoint = match metrics {
        Some((listen, allow)) => {
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .map_err(|e| format!("--metrics-listen: cannot listen on {listen}: {e}"))?;
            let address = listener.local_addr().map_err(|e| e.to_string())?;
            let networks = allow.networks().join(", ");
            let config = atr_http::HttpConfig { metrics_allow: allow, ..atr_http::HttpConfig::default() };
            let state = atr_http::AppState::new(storage.clone(), config);
            state.register_metrics(|registry| runner.register_metrics(registry));
            println!(
                "health: http://{address}/healthz, readiness: http://{address}/readyz, metrics: http://{address}/metrics (for {networks})"
            );
            let mut stop = signal.clone();
            Some(tokio::spawn(atr_http::serve(
                listener,
                atr_http::operations_router(state),
                atr_http::ServeConfig::default(),
                async move {
                    let _ = stop.wait_for(|stopped| *stopped).await;
                },
            )))
        }
        None => None,
    };
    println!("worker {owner} running tasks {:?}; Ctrl-C or SIGTERM stops it", runner.kinds());
    runner.run(signal).await;
    if let Some(endpoint) = endpoint {
        match endpoint.await {
            Ok(Err(error)) => eprintln!("the metrics endpoint stopped: {error}"),
            Err(error) => eprintln!("the metrics endpoint stopped: {error}"),
            Ok(Ok(())) => {}
        }
    }
    println!("worker {owner} stopped");
    Ok(())
}
