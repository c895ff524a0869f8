//! The Analyze task end to end: a real httpd release uploaded into release storage, its
//! committee's keys in the database, the task queued through the domain's port and run by a
//! runner, and the results read back. On SQLite and, when configured, PostgreSQL.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use atr_core::model::{
    Analyze, CheckStatus, Committee, EventKind, Metadata, Phase, Project, Release, ReleaseKey, Revision,
    RevisionNumber, TaskDescriptor, TaskStatus,
};
use atr_core::policy::{PolicyOverrides, VotePolicy};
use atr_core::ports::{
    ByteStream, CommitteeRepository, EventFilter, EventRepository, FileChange, KeyRepository, PageRequest,
    ProjectRepository, ReleaseFiles, ReleaseRepository, RevisionRepository, TaskRepository,
};
use atr_core::types::{CommitteeKey, Fingerprint, ProjectKey, ReleasePath, Timestamp, UserId, Version};
use atr_store::testing::databases;
use atr_store::{Storage, StorageConfig};
use atr_tasks::analyze::signature::{KeyRing, SignaturePolicy};
use atr_tasks::analyze::task::AnalyzeHandler;
use atr_tasks::runner::{Runner, RunnerConfig, Shutdown};
use sha2::{Digest, Sha512};

const T0: Timestamp = Timestamp::from_unix(1_780_000_000);
const SIGNER: &str = "65B2D44FE74BD5E3DE3AC3F082781DE46D5954FA";

fn fixture() -> PathBuf {
    let dir = std::env::var_os("ATR_HTTPD_FIXTURE").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fixtures/httpd-2.4.68"),
        PathBuf::from,
    );
    assert!(
        dir.join("httpd-2.4.68.tar.gz").is_file(),
        "the httpd release is missing in {}: run scripts/fetch-httpd-release.sh {0}",
        dir.display()
    );
    dir
}

fn key() -> ReleaseKey {
    ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse("2.4.68").unwrap())
}

fn rev(n: u32) -> RevisionNumber {
    RevisionNumber::new(n).unwrap()
}

fn path(p: &str) -> ReleasePath {
    ReleasePath::parse(p).unwrap()
}

fn content(bytes: Vec<u8>) -> ByteStream {
    let reader = std::io::Cursor::new(bytes);
    Box::pin(tokio_util::io::ReaderStream::new(reader))
}

async fn seed(storage: &Storage) {
    let sql = &storage.sql;
    let committee = Committee::new(CommitteeKey::parse("httpd").unwrap(), "Apache HTTP Server");
    CommitteeRepository::put(sql, &committee).await.unwrap();
    let project = Project {
        key: ProjectKey::parse("httpd").unwrap(),
        committee: committee.key.clone(),
        metadata: Metadata::default(),
        policy: PolicyOverrides::default(),
        products: Vec::new(),
    };
    ProjectRepository::create(sql, &project).await.unwrap();
    ReleaseRepository::create(sql, &Release::new_draft(key(), committee.key.clone(), UserId::parse("rm").unwrap(), T0))
        .await
        .unwrap();
    // The committee's keys, imported from its real KEYS file.
    let keys = std::fs::read(fixture().join("KEYS")).unwrap();
    let (ring, _) = KeyRing::parse(&keys, &SignaturePolicy::default());
    for mut signing_key in ring.signing_keys(T0) {
        signing_key.committees = BTreeSet::from([committee.key.clone()]);
        KeyRepository::upsert(sql, &signing_key).await.unwrap();
    }
}

/// Uploads the tarball (with `flip` applied), its real signature and a fresh `.sha512` of the
/// real bytes as revision `number`, and records it.
async fn upload(storage: &Storage, number: u32, flip: bool) {
    let dir = fixture();
    let real = std::fs::read(dir.join("httpd-2.4.68.tar.gz")).unwrap();
    let digest = Sha512::digest(&real).iter().fold(String::new(), |mut hex, b| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
        hex
    });
    let mut tarball = real;
    if flip {
        tarball[5_000_000] ^= 1;
    }
    let changes = vec![
        FileChange::Put { path: path("httpd-2.4.68.tar.gz"), content: content(tarball) },
        FileChange::Put {
            path: path("httpd-2.4.68.tar.gz.asc"),
            content: content(std::fs::read(dir.join("httpd-2.4.68.tar.gz.asc")).unwrap()),
        },
        FileChange::Put {
            path: path("httpd-2.4.68.tar.gz.sha512"),
            content: content(format!("{digest}  httpd-2.4.68.tar.gz\n").into_bytes()),
        },
    ];
    let parent = (number > 1).then(|| rev(number - 1));
    let files = storage.files.create_revision(&key(), parent, rev(number), changes).await.unwrap();
    let revision = Revision {
        release: key(),
        number: rev(number),
        parent,
        phase: Phase::Draft,
        created_at: T0,
        created_by: UserId::parse("rm").unwrap(),
        description: None,
        files,
    };
    RevisionRepository::record(&storage.sql, &revision).await.unwrap();
}

/// Queues Analyze of `number` through the port and runs a runner until it is done.
async fn analyze(storage: &Storage, number: u32) -> Vec<atr_core::model::CheckResult> {
    let handler = AnalyzeHandler::new(storage.clone(), VotePolicy::foundation_default(), SignaturePolicy::default());
    run_analyze(storage, &key(), rev(number), handler).await
}

/// Queues Analyze of revision `number` of `release` through the port, runs `handler` in a runner
/// until the task completed (failing the test if it failed or took over two minutes), and answers
/// the revision's stored results.
pub(crate) async fn run_analyze(
    storage: &Storage,
    release: &ReleaseKey,
    number: RevisionNumber,
    handler: AnalyzeHandler,
) -> Vec<atr_core::model::CheckResult> {
    run_task(storage, &Analyze::of(release.clone(), number), handler).await
}

/// [`run_analyze`] of any Analyze task, forced or not.
async fn run_task(storage: &Storage, analyze: &Analyze, handler: AnalyzeHandler) -> Vec<atr_core::model::CheckResult> {
    let (release, number) = (&analyze.release, analyze.revision);
    let descriptor = TaskDescriptor::of(analyze).unwrap();
    let task = TaskRepository::enqueue(&storage.sql, &descriptor).await.unwrap();
    assert_eq!(TaskRepository::pending(&storage.sql, release, number).await.unwrap(), 1);
    let config =
        RunnerConfig { poll_interval: Duration::from_millis(20), adaptive: false, ..RunnerConfig::new("test") };
    let runner = Arc::new(Runner::new(storage.sql.clone(), config).with_kind(handler));
    let (shutdown, signal) = Shutdown::new();
    let running = runner.clone();
    let handle = tokio::spawn(async move { running.run(signal).await });
    let id = i64::try_from(task.id).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_mins(2);
    loop {
        let t = storage.sql.task(id).await.unwrap().unwrap();
        if t.status == TaskStatus::Completed {
            break;
        }
        assert!(t.status != TaskStatus::Failed, "Analyze failed: {:?}", t.error);
        assert!(std::time::Instant::now() < deadline, "Analyze did not finish: {t:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.trigger();
    handle.await.unwrap();
    assert_eq!(TaskRepository::pending(&storage.sql, release, number).await.unwrap(), 0);
    RevisionRepository::checks(&storage.sql, release, number).await.unwrap()
}

fn has(checks: &[atr_core::model::CheckResult], checker: &str, status: CheckStatus, text: &str) -> bool {
    checks.iter().any(|c| c.checker == checker && c.status == status && c.message.contains(text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyze_checks_a_real_release_and_catches_a_flipped_byte() {
    for db in databases().await {
        let data = tempfile::tempdir().unwrap();
        let config = StorageConfig { database_url: Some(db.url.clone()), ..StorageConfig::new(data.path()) };
        let (storage, _) = Storage::open(&config).await.unwrap();
        seed(&storage).await;

        upload(&storage, 1, false).await;
        let checks = analyze(&storage, 1).await;
        let blockers: Vec<_> = checks.iter().filter(|c| c.status == CheckStatus::Blocker).collect();
        assert!(blockers.is_empty(), "{blockers:?}");
        assert!(has(&checks, "signature", CheckStatus::Success, SIGNER), "{checks:?}");
        assert!(has(&checks, "checksum", CheckStatus::Success, "matches"), "{checks:?}");
        assert!(has(&checks, "archive", CheckStatus::Success, "3267 members"), "{checks:?}");
        assert!(has(&checks, "license-files", CheckStatus::Success, "LICENSE"), "{checks:?}");
        assert!(checks.iter().all(|c| c.revision == rev(1) && !c.checker_version.is_empty()));
        // Each result records its own checker's version.
        assert!(
            checks
                .iter()
                .all(|c| c.checker_version == atr_tasks::analyze::checker_version(&c.checker)
                    && c.checker_version != "0"),
            "{checks:#?}"
        );
        // The completed run is recorded, with the key that made the good signatures (the vote
        // snapshots it from there and links it to the release), and so is its event.
        let signer = Fingerprint::parse(SIGNER).unwrap();
        let run = RevisionRepository::check_run(&storage.sql, &key(), rev(1)).await.unwrap().expect("a completed run");
        assert_eq!(run.signers.iter().collect::<Vec<_>>(), [&signer]);
        assert_eq!(run.counts.blockers, 0);
        assert!(run.counts.successes > 0, "{run:?}");
        let events =
            EventRepository::list(&storage.sql, &EventFilter::default(), PageRequest::first(50)).await.unwrap();
        let recorded: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.event.kind {
                EventKind::ChecksRecorded { revision, counts, results, .. } => Some((*revision, *counts, *results)),
                _ => None,
            })
            .collect();
        assert_eq!(recorded, [(rev(1), run.counts, checks.len())], "one ChecksRecorded event, with the counts");
        assert!(KeyRepository::releases_signed(&storage.sql, &signer).await.unwrap().is_empty(), "linked at vote");

        upload(&storage, 2, true).await;
        let checks = analyze(&storage, 2).await;
        assert!(has(&checks, "signature", CheckStatus::Blocker, "does not match the file's bytes"), "{checks:?}");
        assert!(has(&checks, "checksum", CheckStatus::Blocker, "does not match"), "{checks:?}");
        assert!(has(&checks, "archive", CheckStatus::Blocker, "damaged"), "{checks:?}");
        let second = RevisionRepository::check_run(&storage.sql, &key(), rev(2)).await.unwrap().unwrap();
        assert!(second.counts.blockers >= 3 && second.signers.is_empty(), "{second:?}");
        // Revision 1's results are untouched.
        let first = RevisionRepository::checks(&storage.sql, &key(), rev(1)).await.unwrap();
        assert!(first.iter().all(|c| c.status != CheckStatus::Blocker));
        storage.sql.close().await;
        db.finish().await;
    }
}

/// The results as a run reports them, without what differs between runs (revision, time).
fn reported(checks: &[atr_core::model::CheckResult]) -> Vec<(String, Option<String>, CheckStatus, String)> {
    let mut reported: Vec<_> =
        checks.iter().map(|c| (c.checker.clone(), c.member.clone(), c.status, c.message.clone())).collect();
    reported.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    reported
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_the_same_inputs_reuses_the_results_unless_forced() {
    for db in databases().await {
        let data = tempfile::tempdir().unwrap();
        let config = StorageConfig { database_url: Some(db.url.clone()), ..StorageConfig::new(data.path()) };
        let (storage, _) = Storage::open(&config).await.unwrap();
        seed(&storage).await;
        let run_of = |n| {
            let sql = storage.sql.clone();
            async move { RevisionRepository::check_run(&sql, &key(), rev(n)).await.unwrap().expect("a run") }
        };

        upload(&storage, 1, false).await;
        let first = analyze(&storage, 1).await;
        let run = run_of(1).await;
        assert_eq!(run.reused_from, None);
        let inputs = run.inputs.clone().expect("the run records its inputs");
        assert_eq!(inputs.len(), 64, "a SHA-256 in hex: {inputs}");

        // Revision 2 holds the same bytes: its checks are revision 1's, recorded for revision 2.
        upload(&storage, 2, false).await;
        let second = analyze(&storage, 2).await;
        let run = run_of(2).await;
        assert_eq!((run.reused_from, run.inputs.as_deref()), (Some(rev(1)), Some(inputs.as_str())));
        assert_eq!(reported(&second), reported(&first));
        assert!(second.iter().all(|c| c.revision == rev(2)), "{second:?}");
        assert_eq!(run.signers, run_of(1).await.signers, "the good signers are carried over too");

        // An admin's forced run reads the files again although nothing changed.
        let forced =
            run_task(&storage, &Analyze { force: true, ..Analyze::of(key(), rev(2)) }, handler(&storage)).await;
        let run = run_of(2).await;
        assert_eq!((run.reused_from, run.inputs.as_deref()), (None, Some(inputs.as_str())));
        assert_eq!(reported(&forced), reported(&first));

        // Other options (here the signer rule) are other inputs: the checks run.
        let rule = atr_core::model::SignerRule::parse("apache.org", &[]).unwrap();
        let with_rule = handler(&storage).with_signer_rule(Some(rule));
        let checks = run_analyze(&storage, &key(), rev(2), with_rule).await;
        let run = run_of(2).await;
        assert_eq!(run.reused_from, None);
        assert_ne!(run.inputs.as_deref(), Some(inputs.as_str()));
        assert!(checks.iter().any(|c| c.checker == "signer-identity"), "{checks:?}");

        // Other bytes are other inputs: the flipped byte is caught, not hidden by a reused run.
        upload(&storage, 3, true).await;
        let third = analyze(&storage, 3).await;
        assert_eq!(run_of(3).await.reused_from, None);
        assert!(has(&third, "checksum", CheckStatus::Blocker, "does not match"), "{third:?}");
        storage.sql.close().await;
        db.finish().await;
    }
}

fn handler(storage: &Storage) -> AnalyzeHandler {
    AnalyzeHandler::new(storage.clone(), VotePolicy::foundation_default(), SignaturePolicy::default())
}
