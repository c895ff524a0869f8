//! Snapshots of what `atr` prints: the help of its commands, the report of `atr check` on a small
//! release folder (human and JSON), and the start of a completion script.
//!
//! A change to a snapshot is a change users see: review the new `.snap` file and commit it with
//! the change. Run `INSTA_UPDATE=always cargo test -p atr-cli --test snapshots` to rewrite them.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};

/// The Apache License, version 2.0, as the release's LICENSE.
const APACHE_LICENSE: &str = include_str!("../../atr-tasks/assets/licenses/Apache-2.0.txt");

/// `atr` with `args`, in `cwd`, with no `ATR_` variable and no colors, so nothing from the
/// environment leaks into the output.
fn atr(cwd: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_atr"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ATR_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .current_dir(cwd)
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Snapshots `atr ARGS --help` as `help_NAME`.
fn assert_help(name: &str, args: &[&str]) {
    let cwd = tempfile::tempdir().unwrap();
    let mut args = args.to_vec();
    args.push("--help");
    let output = atr(cwd.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    insta::with_settings!({ description => format!("atr {}", args.join(" ")), omit_expression => true }, {
        insta::assert_snapshot!(format!("help_{name}"), text);
    });
    // Asking for help creates nothing, not even the data directory.
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
}

macro_rules! help {
    ($($test:ident: $name:literal [$($arg:literal),*];)*) => {
        $(
            #[test]
            fn $test() {
                assert_help($name, &[$($arg),*]);
            }
        )*
    };
}

help! {
    help_of_atr: "atr" [];
    help_of_serve: "serve" ["serve"];
    help_of_check: "check" ["check"];
    help_of_release: "release" ["release"];
    help_of_release_start: "release_start" ["release", "start"];
    help_of_upload: "upload" ["upload"];
    help_of_checks: "checks" ["checks"];
    help_of_vote: "vote" ["vote"];
    help_of_vote_cast: "vote_cast" ["vote", "cast"];
    help_of_download: "download" ["download"];
    help_of_token: "token" ["token"];
    help_of_token_create: "token_create" ["token", "create"];
    help_of_keys: "keys" ["keys"];
    help_of_completions: "completions" ["completions"];
}

/// A small source release, `demo-1.0.0`: the tarball (a root folder with the Apache LICENSE, a
/// NOTICE and a README) and its `.sha512`, but no signature.
fn release_folder() -> tempfile::TempDir {
    use sha2::Digest as _;

    let dir = tempfile::tempdir().unwrap();
    let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    let notice = "Apache Demo\nCopyright 2026 The Apache Software Foundation\n\nThis product includes software \
                  developed at\nThe Apache Software Foundation (https://www.apache.org/).\n";
    let readme = "Apache Demo 1.0.0\n\nA small release to show what `atr check` reports.\n";
    let mut folder = tar::Header::new_ustar();
    folder.set_entry_type(tar::EntryType::Directory);
    folder.set_mode(0o755);
    folder.set_mtime(1_767_225_600);
    folder.set_size(0);
    archive.append_data(&mut folder, "demo-1.0.0/", std::io::empty()).unwrap();
    for (name, text) in [("LICENSE", APACHE_LICENSE), ("NOTICE", notice), ("README", readme)] {
        let mut header = tar::Header::new_ustar();
        header.set_mode(0o644);
        header.set_mtime(1_767_225_600);
        header.set_size(text.len() as u64);
        archive.append_data(&mut header, format!("demo-1.0.0/{name}"), text.as_bytes()).unwrap();
    }
    let tarball = archive.into_inner().unwrap().finish().unwrap();
    let digest = sha2::Sha512::digest(&tarball).iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    });
    std::fs::write(dir.path().join("demo-1.0.0.tar.gz"), &tarball).unwrap();
    std::fs::write(dir.path().join("demo-1.0.0.tar.gz.sha512"), format!("{digest}  demo-1.0.0.tar.gz\n")).unwrap();
    dir
}

#[test]
fn check_report_for_humans() {
    let release = release_folder();
    let cwd = tempfile::tempdir().unwrap();
    let folder = release.path().to_str().unwrap();
    let output = atr(cwd.path(), &["check", folder, "--project", "demo"]);
    // No signature: a blocker, so the exit code says the release is not ready.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let text = stdout(&output);
    insta::with_settings!({
        description => "atr check RELEASE --project demo",
        omit_expression => true,
        filters => vec![
            (regex_escape(folder).as_str(), "[RELEASE]"),
            (r"\b[0-9a-f]{128}\b", "[SHA-512]"),
        ],
    }, {
        insta::assert_snapshot!("check_human", text);
    });
    // `atr check` needs no data directory or database.
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
}

#[test]
fn check_report_as_json() {
    let release = release_folder();
    let cwd = tempfile::tempdir().unwrap();
    let folder = release.path().to_str().unwrap();
    let output = atr(cwd.path(), &["check", folder, "--project", "demo", "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["project"], "demo");
    insta::with_settings!({
        description => "atr check RELEASE --project demo --json",
        omit_expression => true,
        filters => vec![
            (regex_escape(folder).as_str(), "[RELEASE]"),
            (r"\b[0-9a-f]{128}\b", "[SHA-512]"),
        ],
    }, {
        insta::assert_json_snapshot!("check_json", report);
    });
}

/// A release folder before signing: a tarball whose tree holds a `..` member, an absolute path
/// and a link out of the tree, with no signature and no checksum yet.
fn unsigned_release_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    let notice = "Apache Demo\nCopyright 2026 The Apache Software Foundation\n";
    let mut add = |name: &str, kind: tar::EntryType, data: &[u8], link: Option<&str>| {
        // Written into the header by hand: the tar writer itself refuses such names.
        let mut header = tar::Header::new_gnu();
        let gnu = header.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_entry_type(kind);
        header.set_mode(0o644);
        header.set_mtime(1_767_225_600);
        header.set_size(data.len() as u64);
        header.set_cksum();
        archive.append(&header, data).unwrap();
    };
    add("demo-1.0.0/LICENSE", tar::EntryType::Regular, APACHE_LICENSE.as_bytes(), None);
    add("demo-1.0.0/NOTICE", tar::EntryType::Regular, notice.as_bytes(), None);
    add("demo-1.0.0/../../.bashrc", tar::EntryType::Regular, b"echo owned\n", None);
    add("/etc/cron.d/demo", tar::EntryType::Regular, b"* * * * * root true\n", None);
    add("demo-1.0.0/passwd", tar::EntryType::Symlink, b"", Some("../../../etc/passwd"));
    let tarball = archive.into_inner().unwrap().finish().unwrap();
    std::fs::write(dir.path().join("demo-1.0.0.tar.gz"), &tarball).unwrap();
    dir
}

#[test]
fn check_report_before_signing() {
    let release = unsigned_release_folder();
    let cwd = tempfile::tempdir().unwrap();
    let folder = release.path().to_str().unwrap();
    let output = atr(cwd.path(), &["check", folder, "--project", "demo"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    // Before signing, the content is checked all the same: every unsafe member is a blocker.
    for needle in ["has no signature", "has no checksum", "\"..\" segment", "absolute path", "symbolic link to"] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    insta::with_settings!({
        description => "atr check RELEASE --project demo (an unsigned release with unsafe members)",
        omit_expression => true,
        filters => vec![(regex_escape(folder).as_str(), "[RELEASE]")],
    }, {
        insta::assert_snapshot!("check_report_before_signing", text);
    });
}

#[test]
fn completion_script_for_bash() {
    let cwd = tempfile::tempdir().unwrap();
    let output = atr(cwd.path(), &["completions", "bash"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let script = stdout(&output);
    assert!(script.contains("complete -F _atr"), "{script}");
    for command in ["serve", "check", "release", "upload", "checks", "vote", "download", "token", "keys", "completions"]
    {
        assert!(script.contains(&format!("atr,{command})")), "no completion for {command}");
    }
    let head: Vec<&str> = script.lines().take(20).collect();
    insta::with_settings!({ description => "the first lines of atr completions bash", omit_expression => true }, {
        insta::assert_snapshot!("completions_bash_head", head.join("\n"));
    });
    // Completions need no data directory or database.
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
}

#[test]
fn completion_scripts_for_zsh_and_fish() {
    let cwd = tempfile::tempdir().unwrap();
    for (shell, start) in [("zsh", "#compdef atr"), ("fish", "complete -c atr")] {
        let output = atr(cwd.path(), &["completions", shell]);
        assert!(output.status.success(), "{}", stderr(&output));
        let script = stdout(&output);
        assert!(script.contains(start), "{shell}: {script}");
        assert!(script.contains("verify-events"), "{shell}: {script}");
    }
    let output = atr(cwd.path(), &["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("possible values"), "{}", stderr(&output));
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
}

/// `text` as a regular expression matching itself.
fn regex_escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut out, c| {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}
