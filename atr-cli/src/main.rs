//! `atr`: the operator's and release manager's command line.

use std::path::PathBuf;
use std::process::ExitCode;

use atr_store::StorageConfig;
use atr_store::sql::SqlStore;
use clap::{Parser, Subcommand};

mod check;

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
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
        /// Writes the report as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Runs a task runner: claims tasks from the database and runs them until interrupted.
    Worker {
        /// Most tasks run at once (the load watch may lower it).
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// This runner's name in task leases; defaults to the host name and process id.
        #[arg(long)]
        name: Option<String>,
    },
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
    let cli = Cli::parse();
    if let Command::Check { dir, keys, project, podling, json } = &cli.command {
        return check::run(dir, keys.as_deref(), project.as_deref(), *podling, *json);
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

async fn run(cli: &Cli) -> Result<(), String> {
    std::fs::create_dir_all(&cli.data_dir)
        .map_err(|e| format!("cannot create the data directory {}: {e}", cli.data_dir.display()))?;
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
        Command::Worker { concurrency, ref name } => worker(cli, concurrency, name.clone()).await,
        Command::Check { .. } => unreachable!("handled before the runtime starts"),
    }
}

async fn worker(cli: &Cli, concurrency: usize, name: Option<String>) -> Result<(), String> {
    use std::sync::Arc;

    use atr_core::policy::VotePolicy;
    use atr_tasks::analyze::signature::SignaturePolicy;
    use atr_tasks::analyze::task::AnalyzeHandler;
    use atr_tasks::runner::{Runner, RunnerConfig, Shutdown};

    let (storage, recovery) = atr_store::Storage::open(&cli.storage()).await.map_err(|e| e.to_string())?;
    if recovery != atr_store::Recovery::default() {
        eprintln!("storage recovered at start: {recovery:?}");
    }
    let host = std::fs::read_to_string("/etc/hostname").map_or_else(|_| "worker".into(), |h| h.trim().to_owned());
    let owner = name.unwrap_or_else(|| format!("{host}-{}", std::process::id()));
    let mut config = RunnerConfig::new(owner.clone());
    config.max_concurrency = concurrency.max(1);
    config.initial_concurrency = concurrency.max(1);
    let handler = AnalyzeHandler::new(storage.clone(), VotePolicy::foundation_default(), SignaturePolicy::default());
    let runner = Runner::new(storage.sql.clone(), config).with(Arc::new(handler));
    let (shutdown, signal) = Shutdown::new();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        shutdown.trigger();
    });
    println!("worker {owner} running tasks {:?}; Ctrl-C stops it", runner.kinds());
    runner.run(signal).await;
    println!("worker {owner} stopped");
    Ok(())
}
