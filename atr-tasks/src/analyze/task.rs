//! The Analyze task: runs [`analyze_folder`] on a revision in release storage and stores its
//! results, the record that the checks completed and a `ChecksRecorded` event with the task's
//! fenced completion, in one transaction.
//!
//! Each run records the digest of its inputs ([`inputs_digest`]): the files' SHA-512 from the
//! revision's manifest, the committee's keys, every option the checks take from the policy and the
//! committee, the source to compare with and how git is fetched, and each checker's version. A run
//! whose inputs have the same digest as the run of the same revision or of its parent copies that
//! run's results instead of reading the files again (a revision made by a vote's outcome or a
//! metadata change holds the same files), unless that run had an exception (a check that broke is
//! run again); an admin's forced run ([`Analyze::force`]) always runs every check.

use async_trait::async_trait;
use atr_core::model::{
    Actor, Analyze, CheckCounts, CheckResult, CheckRun, CheckStatus, EventKind, NewEvent, SignerRule, TaskKind,
};
use atr_core::model::{ReleaseKey, Revision, SourceOrigin};
use atr_core::policy::VotePolicy;
use atr_core::ports::{
    CommitteeRepository, KeyRepository, ProjectRepository, ReleaseRepository, RevisionRepository, StoreError,
};
use atr_core::types::Timestamp;
use atr_store::Storage;
use atr_store::sql::QueuedTask;
use sha2::{Digest, Sha256};

use super::folder::{AnalyzeOptions, analyze_folder};
use super::signature::SignaturePolicy;
use super::signer::SignerCheck;
use super::source::{SourceFetch, compare_with_git, source_archives};
use crate::runner::{KindHandler, TaskFailure, TaskOutput};

/// The version of this build's checks, recorded with each run; each result records its own
/// checker's version from [`CHECKERS`](super::CHECKERS).
pub const CHECKER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs Analyze tasks.
#[derive(Debug, Clone)]
pub struct AnalyzeHandler {
    storage: Storage,
    foundation_policy: VotePolicy,
    signature_policy: SignaturePolicy,
    source_fetch: SourceFetch,
    signer_rule: Option<SignerRule>,
}

impl AnalyzeHandler {
    pub fn new(storage: Storage, foundation_policy: VotePolicy, signature_policy: SignaturePolicy) -> Self {
        Self { storage, foundation_policy, signature_policy, source_fetch: SourceFetch::default(), signer_rule: None }
    }

    /// How git is run to compare a release's source archive with its commit.
    #[must_use]
    pub fn with_source_fetch(mut self, fetch: SourceFetch) -> Self {
        self.source_fetch = fetch;
        self
    }

    /// Turns on the signer-identity rule (`None` leaves it off): the key of every good signature
    /// should have a user id in the rule's domain naming a committer, PMC member or release
    /// manager of the project's committee, or be the committee's automated-signing key.
    #[must_use]
    pub fn with_signer_rule(mut self, rule: Option<SignerRule>) -> Self {
        self.signer_rule = rule;
        self
    }
}

/// A storage failure: logged with its cause, stored on the task (which people read) without it.
#[expect(clippy::needless_pass_by_value, reason = "used as `map_err(store_failure)`")]
fn store_failure(error: StoreError) -> TaskFailure {
    tracing::warn!(%error, kind = Analyze::NAME, "storage failed during a task");
    TaskFailure("storage was unavailable; the attempt will be retried".into())
}

/// How bad a status is, for the worst of a run: a broken check is worse than a warning.
fn severity(status: CheckStatus) -> u8 {
    match status {
        CheckStatus::Success => 0,
        CheckStatus::Note => 1,
        CheckStatus::Warning => 2,
        CheckStatus::Exception => 3,
        CheckStatus::Blocker => 4,
    }
}

fn now() -> Timestamp {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
}

#[async_trait]
impl KindHandler for AnalyzeHandler {
    type Kind = Analyze;

    async fn run(&self, args: Analyze, _task: &QueuedTask) -> Result<TaskOutput, TaskFailure> {
        let sql = &self.storage.sql;
        let release = ReleaseRepository::get(sql, &args.release)
            .await
            .map_err(store_failure)?
            .ok_or_else(|| TaskFailure(format!("release {} does not exist", args.release)))?;
        let project = ProjectRepository::get(sql, &args.release.project)
            .await
            .map_err(store_failure)?
            .ok_or_else(|| TaskFailure(format!("project {} does not exist", args.release.project)))?;
        let committee = CommitteeRepository::get(sql, &project.committee)
            .await
            .map_err(store_failure)?
            .ok_or_else(|| TaskFailure(format!("committee {} does not exist", project.committee)))?;
        let policy = atr_core::policy::effective(
            &self.foundation_policy,
            &project,
            args.release.product.as_ref(),
            Some(&release),
        )
        .map_err(|e| TaskFailure(format!("the vote policy is invalid: {e}")))?;
        let keys = KeyRepository::by_committee(sql, &committee.key).await.map_err(store_failure)?;
        let options = self.options(&committee, &policy, &keys, &args.release);
        let folder = self.storage.files.files_folder(&args.release, args.revision);
        if !folder.is_dir() {
            return Err(TaskFailure(format!("revision {} of {} has no files", args.revision, args.release)));
        }
        let revision = RevisionRepository::get(sql, &args.release, args.revision)
            .await
            .map_err(store_failure)?
            .ok_or_else(|| TaskFailure(format!("revision {} of {} does not exist", args.revision, args.release)))?;
        let source = release.source.clone().map(|origin| {
            (origin, policy.source_globs.clone(), policy.binary_globs.clone(), policy.generated_globs.clone())
        });
        let inputs = inputs_digest(&revision, &options, source.as_ref(), &self.source_fetch);
        if !args.force
            && let Some(output) = self.reuse(&args.release, &revision, &inputs).await?
        {
            return Ok(output);
        }
        let fetch = self.source_fetch.clone();
        let report = tokio::task::spawn_blocking(move || {
            let mut report = analyze_folder(&folder, &options);
            if let Some((origin, source_globs, binary_globs, generated)) = source {
                let archives = source_archives(&folder, &source_globs, &binary_globs);
                report.findings.extend(compare_with_git(&origin, &archives, &generated, &fetch, &options.limits));
            }
            report
        })
        .await
        .map_err(|e| TaskFailure(format!("the checks stopped: {e}")))?;
        let at = now();
        let checks: Vec<CheckResult> = report
            .findings
            .iter()
            .map(|f| CheckResult {
                release: args.release.clone(),
                revision: args.revision,
                checker: f.checker.to_owned(),
                checker_version: super::checker_version(f.checker).to_owned(),
                path: f.path.clone(),
                member: f.member.clone(),
                status: f.status,
                message: f.message.clone(),
                at,
            })
            .collect();
        let counts = CheckCounts::of(&checks);
        let result = serde_json::json!({
            "files": report.files,
            "results": checks.len(),
            "blockers": report.count(CheckStatus::Blocker),
            "warnings": report.count(CheckStatus::Warning),
            "signers": report.good_signers.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        let worst = checks.iter().map(|c| c.status).max_by_key(|s| severity(*s));
        let recorded = EventKind::ChecksRecorded { revision: args.revision, worst, results: checks.len(), counts };
        let event = NewEvent::for_release(at, Actor::System, &args.release, recorded);
        // Which keys made good signatures on this revision: the vote snapshots them from here.
        let run = CheckRun {
            release: args.release.clone(),
            revision: args.revision,
            checker_version: CHECKER_VERSION.to_owned(),
            completed_at: at,
            counts,
            signers: report.good_signers.iter().cloned().collect(),
            inputs: Some(inputs),
            reused_from: None,
        };
        Ok(TaskOutput { result, checks, run: Some(run), events: vec![event] })
    }
}

/// What a source comparison takes from the policy: the origin, and the source, binary and
/// generated globs.
type SourceInputs = (SourceOrigin, Vec<String>, Vec<String>, Vec<String>);

/// The digest (SHA-256, hexadecimal) of everything a run's results depend on; see the module
/// documentation. Options are taken in their debug form, so that any option added later is in it
/// too: a change of form only costs a run that could have been reused.
pub fn inputs_digest(
    revision: &Revision,
    options: &AnalyzeOptions,
    source: Option<&SourceInputs>,
    fetch: &SourceFetch,
) -> String {
    let mut hasher = Sha256::new();
    let mut part = |label: &str, bytes: &[u8]| {
        hasher.update(label.as_bytes());
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    part("build", CHECKER_VERSION.as_bytes());
    part("checkers", format!("{:?}", super::CHECKERS).as_bytes());
    for file in &revision.files {
        part("file", file.path.as_str().as_bytes());
        part("size", &file.size.to_be_bytes());
        part("sha512", file.sha512.to_string().as_bytes());
    }
    part("keys", options.keys.as_deref().unwrap_or_default());
    part("options", format!("{:?}", AnalyzeOptions { keys: None, ..options.clone() }).as_bytes());
    if let Some(source) = source {
        part("source", format!("{source:?}").as_bytes());
        part("fetch", format!("{fetch:?}").as_bytes());
    }
    super::text::hex(&hasher.finalize())
}

impl AnalyzeHandler {
    /// What the checks take from the committee, its keys and the policy.
    fn options(
        &self,
        committee: &atr_core::model::Committee,
        policy: &VotePolicy,
        keys: &[atr_core::model::SigningKey],
        release: &ReleaseKey,
    ) -> AnalyzeOptions {
        let keys_file: Vec<u8> = keys.iter().flat_map(|k| format!("{}\n", k.armored).into_bytes()).collect();
        let mut options = AnalyzeOptions {
            podling: committee.podling,
            keys: Some(keys_file),
            signature_policy: self.signature_policy,
            binary_globs: policy.binary_globs.clone(),
            version: Some(release.version.to_string()),
            // The committee's people, as the store has them now, are whom the rule accepts.
            signers: self.signer_rule.clone().map(|rule| SignerCheck {
                rule,
                committee: Some(committee.key.to_string()),
                people: Some(
                    committee
                        .committers
                        .iter()
                        .chain(&committee.pmc_members)
                        .chain(&committee.release_managers)
                        .cloned()
                        .collect(),
                ),
            }),
            ..AnalyzeOptions::default()
        };
        options.archive.podling = committee.podling;
        options
    }

    /// The output of a run that copies the results of an earlier run with the same inputs: of the
    /// same revision, or else of its parent. `None` when neither has one.
    async fn reuse(
        &self,
        release: &ReleaseKey,
        revision: &Revision,
        inputs: &str,
    ) -> Result<Option<TaskOutput>, TaskFailure> {
        let sql = &self.storage.sql;
        for candidate in std::iter::once(revision.number).chain(revision.parent) {
            let Some(earlier) = RevisionRepository::check_run(sql, release, candidate).await.map_err(store_failure)?
            else {
                continue;
            };
            // A check that broke is run again: its exception says so.
            if earlier.inputs.as_deref() != Some(inputs) || earlier.counts.exceptions > 0 {
                continue;
            }
            let at = now();
            let checks: Vec<CheckResult> = RevisionRepository::checks(sql, release, candidate)
                .await
                .map_err(store_failure)?
                .into_iter()
                .map(|check| CheckResult { revision: revision.number, at, ..check })
                .collect();
            let counts = CheckCounts::of(&checks);
            let result = serde_json::json!({
                "files": revision.files.len(),
                "results": checks.len(),
                "blockers": counts.blockers,
                "warnings": counts.warnings,
                "signers": earlier.signers.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "reused_from": candidate.get(),
            });
            let worst = checks.iter().map(|c| c.status).max_by_key(|s| severity(*s));
            let recorded =
                EventKind::ChecksRecorded { revision: revision.number, worst, results: checks.len(), counts };
            let event = NewEvent::for_release(at, Actor::System, release, recorded);
            let run = CheckRun {
                release: release.clone(),
                revision: revision.number,
                checker_version: CHECKER_VERSION.to_owned(),
                completed_at: at,
                counts,
                signers: earlier.signers,
                inputs: Some(inputs.to_owned()),
                reused_from: Some(candidate),
            };
            return Ok(Some(TaskOutput { result, checks, run: Some(run), events: vec![event] }));
        }
        Ok(None)
    }
}
