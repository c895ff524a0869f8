//! The boundaries that clippy checks (ARCHITECTURE.md): each crate's `clippy.toml` carries the
//! workspace's settings and its own disallowed methods, and no lint is silenced without a reason.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The value of a top-level `key = ...` line of a clippy.toml.
fn setting<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| line.strip_prefix(key)?.trim_start().strip_prefix('=').map(str::trim))
}

/// Crates whose boundary is a list of disallowed methods, and paths each list must hold.
const BOUNDARIES: [(&str, &[&str]); 6] = [
    ("atr-core", &["std::fs::read", "std::fs::write", "std::time::SystemTime::now", "std::env::var"]),
    ("atr-api", &["std::fs::read", "std::fs::write", "std::time::SystemTime::now", "std::env::var"]),
    ("atr-py", &["std::fs::read", "std::time::SystemTime::now"]),
    ("atr-http", &["std::fs::read", "tokio::fs::read", "atr_store::files::DiskReleaseFiles::revision_path"]),
    ("atr-tasks", &["std::fs::write", "tokio::fs::write", "atr_store::files::DiskReleaseFiles::revision_path"]),
    ("atr-cli", &["atr_store::files::DiskReleaseFiles::revision_path"]),
];

#[test]
fn each_crate_lint_file_keeps_the_workspace_settings_and_its_boundary() {
    let root = workspace();
    let shared = std::fs::read_to_string(root.join("clippy.toml")).unwrap();
    let idents = setting(&shared, "doc-valid-idents").expect("the workspace's clippy.toml sets doc-valid-idents");
    for (krate, paths) in BOUNDARIES {
        let file = root.join(krate).join("clippy.toml");
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(setting(&text, "doc-valid-idents"), Some(idents), "{krate}/clippy.toml repeats the workspace's");
        for path in paths {
            let entry = format!("path = \"{path}\"");
            assert!(text.contains(&entry), "{krate}/clippy.toml disallows {path}");
        }
        for line in text.lines().filter(|l| l.contains("path = ")) {
            assert!(line.contains("reason = \""), "{krate}/clippy.toml: every entry says why: {line}");
        }
    }
}

/// Rust files under `dir`, skipping build output.
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        if path.is_dir() && name != "target" && !name.starts_with('.') {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_lint_is_allowed_without_an_expectation() {
    let mut files = Vec::new();
    rust_files(&workspace(), &mut files);
    assert!(files.len() > 50, "the sources were found: {}", files.len());
    // Spelled in two parts so that this file does not match itself.
    let allow = ["#[", "allow("].concat();
    let inner = ["#![", "allow("].concat();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim_start();
            assert!(
                !line.starts_with(&allow) && !line.starts_with(&inner),
                "{}:{}: use #[expect(lint, reason = \"...\")] instead: {line}",
                file.display(),
                number + 1
            );
        }
    }
}
