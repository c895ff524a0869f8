//! The optional settings file: `--config FILE` (or `ATR_CONFIG`), TOML.
//!
//! ```toml
//! data_dir = "/var/lib/atr"
//! database_url = "postgres://atr@db/atr"
//! listen = "0.0.0.0:8080"
//! max_upload_bytes = 4294967296
//! admin = "root"
//! signer_domain = "apache.org"
//! automated_signers = ["{committee}-release@apache.org"]
//! ```
//!
//! `signer_domain` and `automated_signers` are the signer-identity rule of `serve` and `worker`.
//!
//! Every key is optional. A flag wins over its `ATR_` environment variable, which wins over the
//! file, which wins over the built-in default: the file's values become the arguments' defaults.

use std::path::Path;

use clap::{ArgMatches, Command};
use serde::Deserialize;

/// Largest settings file read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    data_dir: Option<String>,
    database_url: Option<String>,
    listen: Option<String>,
    max_upload_bytes: Option<u64>,
    admin: Option<String>,
    signer_domain: Option<String>,
    automated_signers: Option<Vec<String>>,
}

/// The settings file named on the command line or in `ATR_CONFIG`, if any.
fn config_path(args: &[String]) -> Option<String> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--config" {
            return iter.next().cloned();
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(path.to_owned());
        }
    }
    std::env::var("ATR_CONFIG").ok()
}

fn read(path: &Path) -> Result<Settings, String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CONFIG_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| format!("cannot read the settings file {}: {e}", path.display()))?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(format!("the settings file {} is larger than {MAX_CONFIG_BYTES} bytes", path.display()));
    }
    toml::from_str(&text).map_err(|e| format!("the settings file {} is invalid: {e}", path.display()))
}

/// Parses the command line with the settings file's values as defaults.
pub(crate) fn matches(command: Command) -> Result<ArgMatches, String> {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = config_path(&args) else {
        return Ok(command.get_matches());
    };
    let settings = read(Path::new(&path))?;
    let mut command = command;
    if let Some(v) = settings.data_dir {
        command = command.mut_arg("data_dir", |a| a.default_value(v));
    }
    if let Some(v) = settings.database_url {
        command = command.mut_arg("database_url", |a| a.default_value(v));
    }
    let serve_defaults = |sub: Command| {
        let mut sub = sub;
        if let Some(v) = &settings.listen {
            sub = sub.mut_arg("listen", |a| a.default_value(v.clone()));
        }
        if let Some(v) = settings.max_upload_bytes {
            sub = sub.mut_arg("max_upload_bytes", |a| a.default_value(v.to_string()));
        }
        if let Some(v) = &settings.admin {
            sub = sub.mut_arg("admin", |a| a.default_value(v.clone()));
        }
        sub
    };
    command = command.mut_subcommand("serve", serve_defaults);
    // The signer-identity rule is the Analyze task's, which both `serve` and `worker` run.
    let signer_defaults = |sub: Command| {
        let mut sub = sub;
        if let Some(v) = &settings.signer_domain {
            sub = sub.mut_arg("signer_domain", |a| a.default_value(v.clone()));
        }
        if let Some(v) = &settings.automated_signers {
            sub = sub.mut_arg("automated_signers", |a| a.default_values(v.clone()));
        }
        sub
    };
    command = command.mut_subcommand("serve", signer_defaults).mut_subcommand("worker", signer_defaults);
    Ok(command.get_matches())
}
