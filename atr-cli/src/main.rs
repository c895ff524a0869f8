//! `atr`: the operator's and release manager's command line.

use std::path::PathBuf;
use std::process::ExitCode;

use atr_store::StorageConfig;
use atr_store::sql::SqlStore;
use clap::{Parser, Subcommand};

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
    }
}
