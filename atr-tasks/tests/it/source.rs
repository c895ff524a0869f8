//! Source against git: source archives compared with a commit of a real git repository that the
//! test makes, fetched by the `git` command over the `file` protocol.

use std::path::{Path, PathBuf};
use std::process::Command;

use atr_core::model::{CheckStatus, SourceOrigin};
use atr_core::policy::default_generated_globs;
use atr_core::types::ReleasePath;
use atr_tasks::analyze::Finding;
use atr_tasks::analyze::archive::ArchiveLimits;
use atr_tasks::analyze::source::{CHECKER, SourceFetch, compare_with_git, source_archives};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Release Manager", "-c", "user.email=rm@example.org", "-c", "init.defaultBranch=main"])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A repository with three files and an `export-ignore`d one; returns it and its commit.
fn repository(dir: &Path) -> (PathBuf, String) {
    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("README"), "Read me.\n").unwrap();
    std::fs::write(repo.join("LICENSE"), "Apache License 2.0\n").unwrap();
    std::fs::write(repo.join("src/main.c"), "int main(void) { return 0; }\n").unwrap();
    std::fs::write(repo.join(".gitattributes"), ".ci export-ignore\n.gitattributes export-ignore\n").unwrap();
    std::fs::create_dir_all(repo.join(".ci")).unwrap();
    std::fs::write(repo.join(".ci/run"), "true\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "The first release"]);
    let commit = git(&repo, &["rev-parse", "HEAD"]);
    // A later commit: the comparison must use the one named, not the branch's head.
    std::fs::write(repo.join("README"), "Read me, changed after the release.\n").unwrap();
    git(&repo, &["commit", "-q", "-am", "After the release"]);
    (repo, commit)
}

/// A `.tar.gz` of `files` under the root folder `p-1.0/`.
fn tarball(dir: &Path, name: &str, files: &[(&str, &str)]) -> (ReleasePath, PathBuf) {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, format!("p-1.0/{path}"), text.as_bytes()).unwrap();
    }
    let bytes = builder.into_inner().unwrap().finish().unwrap();
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    (ReleasePath::parse(name).unwrap(), file)
}

const SAME: [(&str, &str); 3] =
    [("README", "Read me.\n"), ("LICENSE", "Apache License 2.0\n"), ("src/main.c", "int main(void) { return 0; }\n")];

fn local() -> SourceFetch {
    SourceFetch { protocols: vec!["file".into()], ..SourceFetch::default() }
}

fn origin(repo: &Path, commit: &str) -> SourceOrigin {
    SourceOrigin::new(&format!("file://{}", repo.display()), commit, Some("v1.0")).unwrap()
}

fn run(origin: &SourceOrigin, archives: &[(ReleasePath, PathBuf)]) -> Vec<Finding> {
    compare_with_git(origin, archives, &default_generated_globs(), &local(), &ArchiveLimits::default())
}

fn only(findings: &[Finding], status: CheckStatus) -> Vec<&str> {
    findings.iter().filter(|f| f.status == status).map(|f| f.message.as_str()).collect()
}

#[test]
fn an_archive_of_the_commit_matches_it() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, commit) = repository(dir.path());
    let archive = tarball(dir.path(), "p-1.0-src.tar.gz", &SAME);
    let findings = run(&origin(&repo, &commit), &[archive]);
    assert!(findings.iter().all(|f| f.checker == CHECKER), "{findings:?}");
    let success = only(&findings, CheckStatus::Success);
    assert_eq!(
        success,
        [format!("The 3 file(s) of p-1.0-src.tar.gz match commit {commit} of file://{}.", repo.display())]
    );
    // The export-ignore'd files are not expected in the archive.
    assert!(only(&findings, CheckStatus::Note).is_empty(), "{findings:?}");
}

#[test]
fn a_changed_file_blocks_an_extra_file_warns_and_a_generated_file_is_noted() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, commit) = repository(dir.path());
    let files = [
        ("README", "Read me, changed after the release.\n"),
        ("LICENSE", "Apache License 2.0\n"),
        ("src/main.c", "int main(void) { return 0; }\n"),
        ("src/backdoor.c", "void hidden(void) {}\n"),
        ("configure", "#!/bin/sh\n"),
    ];
    let archive = tarball(dir.path(), "p-1.0.tar.gz", &files);
    let findings = run(&origin(&repo, &commit), &[archive]);
    let blockers = only(&findings, CheckStatus::Blocker);
    assert_eq!(blockers.len(), 1, "{findings:?}");
    assert!(
        blockers[0].starts_with(&format!("1 file(s) of p-1.0.tar.gz differ from commit {commit}: README.")),
        "{blockers:?}"
    );
    let warnings = only(&findings, CheckStatus::Warning);
    assert_eq!(warnings.len(), 1, "{findings:?}");
    assert!(warnings[0].contains("are not in commit") && warnings[0].contains(": src/backdoor.c."), "{warnings:?}");
    assert!(!warnings[0].contains("configure"), "a generated file the policy names is not a warning: {warnings:?}");
    let notes = only(&findings, CheckStatus::Note);
    assert!(notes.iter().any(|n| n.contains("generated file(s)") && n.contains("configure")), "{notes:?}");
    assert!(only(&findings, CheckStatus::Success).is_empty(), "{findings:?}");
}

#[test]
fn a_file_missing_from_the_archive_is_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, commit) = repository(dir.path());
    let archive = tarball(dir.path(), "p-1.0.tar.gz", &SAME[..2]);
    let findings = run(&origin(&repo, &commit), &[archive]);
    let notes = only(&findings, CheckStatus::Note);
    assert_eq!(notes, [format!("1 file(s) of commit {commit} are not in p-1.0.tar.gz: src/main.c.")]);
    assert_eq!(only(&findings, CheckStatus::Success).len(), 1, "{findings:?}");
}

#[test]
fn a_protocol_the_operator_did_not_allow_is_not_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, commit) = repository(dir.path());
    let archive = tarball(dir.path(), "p-1.0.tar.gz", &SAME);
    let findings =
        compare_with_git(&origin(&repo, &commit), &[archive], &[], &SourceFetch::default(), &ArchiveLimits::default());
    let exceptions = only(&findings, CheckStatus::Exception);
    assert_eq!(exceptions.len(), 1, "{findings:?}");
    assert!(
        exceptions[0].contains("uses file, which this service does not fetch from (allowed: https)"),
        "{exceptions:?}"
    );
}

#[test]
fn a_commit_the_repository_does_not_have_is_an_exception_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, _) = repository(dir.path());
    let archive = tarball(dir.path(), "p-1.0.tar.gz", &SAME);
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let findings = run(&origin(&repo, missing), &[archive]);
    let exceptions = only(&findings, CheckStatus::Exception);
    assert_eq!(exceptions.len(), 1, "{findings:?}");
    assert!(exceptions[0].starts_with(&format!("Commit {missing} of file://")), "{exceptions:?}");
    assert!(exceptions[0].contains("git fetch failed"), "{exceptions:?}");
}

#[test]
fn a_fetch_larger_than_the_operator_allows_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, commit) = repository(dir.path());
    let archive = tarball(dir.path(), "p-1.0.tar.gz", &SAME);
    let small = SourceFetch { max_fetch_bytes: 16, ..local() };
    let findings = compare_with_git(&origin(&repo, &commit), &[archive], &[], &small, &ArchiveLimits::default());
    let exceptions = only(&findings, CheckStatus::Exception);
    assert_eq!(exceptions.len(), 1, "{findings:?}");
    assert!(
        exceptions[0].contains("git fetch was stopped: it brought")
            && exceptions[0].contains("more than the 16 allowed"),
        "{exceptions:?}"
    );
}

#[test]
fn the_source_archives_are_those_the_policy_names_else_every_non_binary_archive() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["p-1.0-src.tar.gz", "p-1.0-bin.tar.gz", "p-1.0.zip", "p-1.0-src.tar.gz.asc", "NOTES.txt"] {
        std::fs::write(dir.path().join(name), b"x").unwrap();
    }
    let names =
        |archives: Vec<(ReleasePath, PathBuf)>| archives.into_iter().map(|(p, _)| p.to_string()).collect::<Vec<_>>();
    let src = vec!["*-src.*".to_owned()];
    assert_eq!(names(source_archives(dir.path(), &src, &[])), ["p-1.0-src.tar.gz"]);
    let none = vec!["*-source.*".to_owned()];
    let binary = vec!["*-bin.*".to_owned()];
    assert_eq!(names(source_archives(dir.path(), &none, &binary)), ["p-1.0-src.tar.gz", "p-1.0.zip"]);
}

#[test]
fn a_release_without_a_source_archive_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, commit) = repository(dir.path());
    let findings = run(&origin(&repo, &commit), &[]);
    assert_eq!(only(&findings, CheckStatus::Warning).len(), 1, "{findings:?}");
    assert!(findings[0].message.contains("has no source archive"), "{findings:?}");
}
