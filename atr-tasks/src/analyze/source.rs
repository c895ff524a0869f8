//! Source against git: a release's source archive compared with the commit it says it was made
//! from.
//!
//! The commit is fetched alone (`git fetch --depth 1`) into a fresh bare repository, turned into
//! an archive by `git archive` (which honours the repository's `export-ignore` attributes, as a
//! release made with it does), and both archives are read into trees by the bounded walker of the
//! archive checks. A file of the source archive that git does not have is a warning, unless the
//! policy's `generated_globs` name it (`configure`, `PKG-INFO`, ...); a file whose content differs is a
//! blocker; a file of git missing from the archive is a note.
//!
//! git runs with no user or system configuration, no terminal prompt, only the protocols the
//! operator allows (`https` by default), and a time limit.
#![expect(
    clippy::disallowed_methods,
    reason = "reads the release's source archive from the revision folder it is handed, like folder.rs"
)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use atr_core::model::check::glob_match;
use atr_core::model::{CheckStatus, SourceOrigin};
use atr_core::types::ReleasePath;

use super::archive::{ArchiveKind, ArchiveLimits, ArchiveTree, archive_tree};
use super::{Finding, text};

/// The checker's name.
pub const CHECKER: &str = "source-git";

/// How git is run for the comparison: the operator's choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFetch {
    /// The `git` program.
    pub git: PathBuf,
    /// The URL schemes git may fetch over (git's `GIT_ALLOW_PROTOCOL`): `https` by default;
    /// `file` lets a test or a mirror on the same machine be used.
    pub protocols: Vec<String>,
    /// The longest the fetch and the archive may take together.
    pub timeout: Duration,
    /// Most bytes `git fetch` may bring (the pack of one commit's tree).
    pub max_fetch_bytes: u64,
}

impl Default for SourceFetch {
    fn default() -> Self {
        Self {
            git: PathBuf::from("git"),
            protocols: vec!["https".into()],
            timeout: Duration::from_mins(5),
            max_fetch_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// Compares each of `archives` (paths in the release, with their files) with the commit of
/// `origin`. `generated` are the globs of files that may be in an archive but not in git.
pub fn compare_with_git(
    origin: &SourceOrigin,
    archives: &[(ReleasePath, PathBuf)],
    generated: &[String],
    fetch: &SourceFetch,
    limits: &ArchiveLimits,
) -> Vec<Finding> {
    let Some((first, _)) = archives.first() else {
        let message = format!(
            "The release names commit {} of {} as its source, but has no source archive to compare with it.",
            origin.commit, origin.repository
        );
        return vec![Finding::general(CHECKER, CheckStatus::Warning, message)];
    };
    if !fetch.protocols.iter().any(|p| p == origin.repository.scheme()) {
        let message = format!(
            "The source repository {} uses {}, which this service does not fetch from (allowed: {}); the source archive was not compared with commit {}.",
            origin.repository,
            origin.repository.scheme(),
            fetch.protocols.join(", "),
            origin.commit
        );
        return vec![Finding::new(CHECKER, first, CheckStatus::Exception, message)];
    }
    let git_tree = match tree_of_commit(origin, fetch, limits) {
        Ok(tree) => tree,
        Err(why) => {
            let message = format!(
                "Commit {} of {} could not be read, so the source archive was not compared with it: {why}",
                origin.commit, origin.repository
            );
            return vec![Finding::new(CHECKER, first, CheckStatus::Exception, message)];
        }
    };
    let mut findings = Vec::new();
    for (path, file) in archives {
        let Some(kind) = ArchiveKind::of(path.file_name()) else { continue };
        let tree = std::fs::File::open(file)
            .map_err(|e| format!("it could not be opened: {e}"))
            .and_then(|f| archive_tree(kind, std::io::BufReader::new(f), limits));
        match tree {
            Ok(tree) => findings.extend(compare(path, &tree, &git_tree, origin, generated)),
            Err(why) => findings.push(Finding::new(
                CHECKER,
                path,
                CheckStatus::Exception,
                format!("{path} was not compared with commit {}: {why}.", origin.commit),
            )),
        }
    }
    findings
}

/// Most files looked at when picking the source archives of a revision folder.
const MAX_LISTED: usize = 10_000;

/// The source archives of a revision's folder: its archives that the policy's `source_globs`
/// name, or, when it names none of them, every archive its `binary_globs` do not name.
pub fn source_archives(folder: &Path, source_globs: &[String], binary_globs: &[String]) -> Vec<(ReleasePath, PathBuf)> {
    let mut archives = Vec::new();
    let mut stack = vec![(folder.to_owned(), String::new())];
    let mut seen = 0;
    while let Some((dir, prefix)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_LISTED {
                break;
            }
            let Some(name) = entry.file_name().to_str().map(|n| format!("{prefix}{n}")) else { continue };
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push((entry.path(), format!("{name}/"))),
                Ok(t) if t.is_file() => {
                    let Ok(path) = ReleasePath::parse(&name) else { continue };
                    let binary = binary_globs.iter().any(|g| glob_match(g, path.as_str()));
                    if ArchiveKind::of(path.file_name()).is_some() && !binary {
                        archives.push((path, entry.path()));
                    }
                }
                _ => {}
            }
        }
    }
    archives.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let named: Vec<_> =
        archives.iter().filter(|(p, _)| source_globs.iter().any(|g| glob_match(g, p.file_name()))).cloned().collect();
    if named.is_empty() { archives } else { named }
}

/// The findings of one archive against the commit's tree.
fn compare(
    path: &ReleasePath,
    archive: &ArchiveTree,
    git: &ArchiveTree,
    origin: &SourceOrigin,
    generated: &[String],
) -> Vec<Finding> {
    let commit = &origin.commit;
    let mut extra = Vec::new();
    let mut allowed = Vec::new();
    let mut changed = Vec::new();
    for (name, entry) in &archive.entries {
        match git.entries.get(name) {
            None if generated.iter().any(|g| glob_match(g, name)) => allowed.push(name),
            None => extra.push(name),
            Some(theirs) if theirs != entry => changed.push(name),
            Some(_) => {}
        }
    }
    let missing: Vec<&String> = git.entries.keys().filter(|name| !archive.entries.contains_key(*name)).collect();
    let finding = |status, message: String| Finding::new(CHECKER, path, status, message);
    let mut findings = Vec::new();
    if !changed.is_empty() {
        findings.push(finding(
            CheckStatus::Blocker,
            format!(
                "{} file(s) of {path} differ from commit {commit}: {}. The source archive must hold the committed content.",
                changed.len(),
                text::list(&changed)
            ),
        ));
    }
    if !extra.is_empty() {
        findings.push(finding(
            CheckStatus::Warning,
            format!(
                "{} file(s) of {path} are not in commit {commit}: {}. If they are generated, name them in the policy's generated_globs; otherwise remove them.",
                extra.len(),
                text::list(&extra)
            ),
        ));
    }
    if !allowed.is_empty() {
        findings.push(finding(
            CheckStatus::Note,
            format!(
                "{} generated file(s) of {path} are not in git, as the policy allows: {}.",
                allowed.len(),
                text::list(&allowed)
            ),
        ));
    }
    if !missing.is_empty() {
        findings.push(finding(
            CheckStatus::Note,
            format!("{} file(s) of commit {commit} are not in {path}: {}.", missing.len(), text::list(&missing)),
        ));
    }
    if changed.is_empty() && extra.is_empty() {
        let same = archive.entries.len() - allowed.len();
        findings.push(finding(
            CheckStatus::Success,
            format!("The {same} file(s) of {path} match commit {commit} of {}.", origin.repository),
        ));
    }
    findings
}

/// A command with git's environment pinned down.
fn git(fetch: &SourceFetch, repository: &Path) -> Command {
    let mut command = Command::new(&fetch.git);
    command
        .arg("--git-dir")
        .arg(repository)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", repository)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env("SSH_ASKPASS", "true")
        .env("GIT_ALLOW_PROTOCOL", fetch.protocols.join(":"))
        .stdin(Stdio::null());
    command
}

/// Waits for a child until `deadline`, killing it then or when `watch` finds a reason to stop it;
/// its standard error, cut short and escaped, on failure.
fn finish(
    mut child: Child,
    deadline: Instant,
    what: &str,
    watch: Option<&dyn Fn() -> Option<String>>,
) -> Result<(), String> {
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr {
            let _ = stderr.take(4096).read_to_string(&mut text);
        }
        text
    });
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                let stderr = reader.join().unwrap_or_default();
                return Err(format!("{what} failed ({status}): {}", text::detail(&stderr)));
            }
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{what} took longer than the time allowed"));
            }
            Ok(None) => {
                if let Some(why) = watch.and_then(|w| w()) {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("{what} was stopped: {why}"));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(format!("{what} could not be waited for: {e}")),
        }
    }
}

/// Fetches the commit alone and reads the tree `git archive` makes of it.
fn tree_of_commit(origin: &SourceOrigin, fetch: &SourceFetch, limits: &ArchiveLimits) -> Result<ArchiveTree, String> {
    let deadline = Instant::now() + fetch.timeout;
    let scratch = tempfile::tempdir().map_err(|e| format!("no temporary folder: {e}"))?;
    let repository = scratch.path().join("repository.git");
    let format = if origin.commit.as_str().len() == 64 { "sha256" } else { "sha1" };
    let init = Command::new(&fetch.git)
        .args(["init", "--quiet", "--bare", &format!("--object-format={format}")])
        .arg(&repository)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("git could not be run: {e}"))?;
    finish(init, deadline, "git init", None)?;
    let fetched = git(fetch, &repository)
        .args(["fetch", "--quiet", "--depth=1", "--no-tags"])
        .arg("--")
        .arg(origin.repository.as_str())
        .arg(origin.commit.as_str())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("git could not be run: {e}"))?;
    let objects = repository.join("objects");
    let too_big = || {
        let bytes = folder_size(&objects);
        (bytes > fetch.max_fetch_bytes)
            .then(|| format!("it brought {bytes} bytes, more than the {} allowed", fetch.max_fetch_bytes))
    };
    finish(fetched, deadline, "git fetch", Some(&too_big))?;
    // A fetch quicker than the watch's first look is held to the same bound.
    if let Some(why) = too_big() {
        return Err(format!("git fetch was stopped: {why}"));
    }
    let mut archive = git(fetch, &repository)
        .args(["archive", "--format=tar.gz"])
        .arg(origin.commit.as_str())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("git could not be run: {e}"))?;
    let stdout = archive.stdout.take().ok_or("git archive gave no output")?;
    let tree = archive_tree(ArchiveKind::TarGz, std::io::BufReader::new(stdout), limits);
    if let Err(why) = tree {
        let _ = archive.kill();
        let _ = archive.wait();
        return Err(format!("git archive's output could not be read: {why}"));
    }
    finish(archive, deadline, "git archive", None)?;
    tree
}

/// Bytes of the files under a folder (one level of subfolders, as git's `objects` has).
fn folder_size(folder: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![folder.to_owned()];
    let mut visited = 0;
    while let Some(dir) = stack.pop() {
        visited += 1;
        if visited > 10_000 {
            break;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(entry.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
