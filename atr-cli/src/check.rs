//! `atr check`: the pre-flight check of a local release folder.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use atr_core::model::CheckStatus;
use atr_tasks::analyze::folder::{AnalyzeOptions, analyze_folder};

/// Largest KEYS file read.
const MAX_KEYS: u64 = 16 * 1024 * 1024;

fn label(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Blocker => "BLOCKER",
        CheckStatus::Warning => "warning",
        CheckStatus::Note => "note",
        CheckStatus::Success => "ok",
        CheckStatus::Exception => "ERROR",
    }
}

pub(crate) fn run(
    dir: &Path,
    keys: Option<&Path>,
    project: Option<&str>,
    podling: bool,
    signer_rule: Option<atr_core::model::SignerRule>,
    json: bool,
) -> ExitCode {
    if !dir.is_dir() {
        eprintln!("error: {} is not a folder", dir.display());
        return ExitCode::from(2);
    }
    let keys = match keys.map(|k| {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::fs::File::open(k).and_then(|f| f.take(MAX_KEYS + 1).read_to_end(&mut bytes)).map(|_| bytes)
    }) {
        Some(Ok(bytes)) if bytes.len() as u64 > MAX_KEYS => {
            eprintln!("error: the KEYS file is larger than {MAX_KEYS} bytes");
            return ExitCode::from(2);
        }
        Some(Ok(bytes)) => Some(bytes),
        Some(Err(error)) => {
            eprintln!("error: cannot read the KEYS file: {error}");
            return ExitCode::from(2);
        }
        None => None,
    };
    // Without a server the committee's people are unknown: the signer-identity rule checks the domain only.
    let signers = signer_rule.map(|rule| atr_tasks::analyze::signer::SignerCheck {
        rule,
        committee: project.map(str::to_owned),
        people: None,
    });
    let mut options = AnalyzeOptions { podling, keys, signers, ..AnalyzeOptions::default() };
    options.archive.podling = podling;
    let report = analyze_folder(dir, &options);
    let blockers = report.count(CheckStatus::Blocker) + report.count(CheckStatus::Exception);
    if json {
        let value = serde_json::json!({
            "project": project,
            "files": report.files,
            "blockers": blockers,
            "warnings": report.count(CheckStatus::Warning),
            "signers": report.good_signers.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "findings": report.findings,
        });
        println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
    } else {
        let name = project.map_or_else(String::new, |p| format!(" of {p}"));
        println!("Checked {} file(s){name} in {}", report.files, dir.display());
        let mut by_file: BTreeMap<String, Vec<&atr_tasks::analyze::Finding>> = BTreeMap::new();
        for finding in &report.findings {
            let file = finding.path.as_ref().map_or_else(|| "(the folder)".to_owned(), ToString::to_string);
            by_file.entry(file).or_default().push(finding);
        }
        for (file, findings) in by_file {
            println!("\n{file}");
            for f in findings {
                // A member's whole name is in `--json`; a line shows its start and end.
                let member = f
                    .member
                    .as_ref()
                    .map_or_else(String::new, |m| format!(" [{}]", atr_tasks::analyze::text::shorten(m, 120)));
                println!("  {:<7} {}{member}: {}", label(f.status), f.checker, f.message);
            }
        }
        let skipped =
            report.key_notes.iter().filter(|n| n.outcome == atr_tasks::analyze::signature::KeyOutcome::Skipped).count();
        if !report.key_notes.is_empty() {
            let read = report.key_notes.len() - skipped;
            if skipped == 0 {
                println!("\nKEYS: {read} key(s) read");
            } else {
                println!("\nKEYS: {read} key(s) read, {skipped} skipped:");
                for group in atr_tasks::analyze::signature::summarize_skipped(&report.key_notes) {
                    println!("  {group}");
                }
            }
        }
        println!(
            "\n{} blocker(s), {} warning(s); {}",
            blockers,
            report.count(CheckStatus::Warning),
            if blockers == 0 { "ready to upload" } else { "fix the blockers before uploading" }
        );
    }
    if blockers == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
