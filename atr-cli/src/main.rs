//! `atr`: the operator's and release manager's command line.

use clap::Parser;

/// ATR, the trusted-release platform.
///
/// Subcommands (serve, worker, migrate, check and the client commands) arrive with the parts
/// they drive; this build has none yet.
#[derive(Debug, Parser)]
#[command(name = "atr", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
    eprintln!("error: this build of atr has no subcommands yet; see `atr --help`");
    std::process::exit(2);
}
