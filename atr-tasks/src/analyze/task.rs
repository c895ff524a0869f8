//! The Analyze task: runs [`analyze_folder`] on a revision in release storage and stores its
//! results with the task's fenced completion.

use async_trait::async_trait;
use atr_core::model::{CheckResult, ReleaseKey, RevisionNumber};
use atr_core::policy::{PolicyOverrides, VotePolicy};
use atr_core::ports::{CommitteeRepository, KeyRepository, ProjectRepository, ReleaseRepository, StoreError};
use atr_core::types::Timestamp;
use atr_store::Storage;
use atr_store::sql::QueuedTask;
use serde::Deserialize;

use super::folder::{AnalyzeOptions, analyze_folder};
use super::signature::SignaturePolicy;
use crate::runner::{TaskFailure, TaskHandler, TaskOutput};

/// The version recorded with every result of this build's checkers.
pub const CHECKER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The arguments of an Analyze task.
#[derive(Debug, Deserialize)]
struct Args {
    release: ReleaseKey,
    revision: RevisionNumber,
}

/// Runs Analyze tasks.
#[derive(Debug, Clone)]
pub struct AnalyzeHandler {
    storage: Storage,
    foundation_policy: VotePolicy,
    signature_policy: SignaturePolicy,
}

impl AnalyzeHandler {
    pub fn new(storage: Storage, foundation_policy: VotePolicy, signature_policy: SignaturePolicy) -> Self {
        Self { storage, foundation_policy, signature_policy }
    }
}

#[expect(clippy::needless_pass_by_value, reason = "used as `map_err(store_failure)`")]
fn store_failure(error: StoreError) -> TaskFailure {
    TaskFailure(format!("storage: {error}"))
}

fn now() -> Timestamp {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
}

#[async_trait]
impl TaskHandler for AnalyzeHandler {
    fn kind(&self) -> &'static str {
        "analyze"
    }

    async fn run(&self, task: &QueuedTask) -> Result<TaskOutput, TaskFailure> {
        let args: Args = serde_json::from_value(task.args.clone())
            .map_err(|e| TaskFailure(format!("the task's arguments do not name a release revision: {e}")))?;
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
        let none = PolicyOverrides::default();
        let product = args.release.product.as_ref().and_then(|p| project.product(p)).map_or(&none, |p| &p.policy);
        let policy = PolicyOverrides::resolve(&self.foundation_policy, &[&project.policy, product, &release.policy])
            .map_err(|e| TaskFailure(format!("the vote policy is invalid: {e}")))?;
        let keys = KeyRepository::by_committee(sql, &committee.key).await.map_err(store_failure)?;
        let keys_file: Vec<u8> = keys.iter().flat_map(|k| format!("{}\n", k.armored).into_bytes()).collect();
        let mut options = AnalyzeOptions {
            podling: committee.podling,
            keys: Some(keys_file),
            signature_policy: self.signature_policy,
            binary_globs: policy.binary_globs.clone(),
            ..AnalyzeOptions::default()
        };
        options.archive.podling = committee.podling;
        let folder = self.storage.files.revision_path(&args.release, args.revision).join("files");
        if !folder.is_dir() {
            return Err(TaskFailure(format!("revision {} of {} has no files", args.revision, args.release)));
        }
        let report = tokio::task::spawn_blocking(move || analyze_folder(&folder, &options))
            .await
            .map_err(|e| TaskFailure(format!("the checks stopped: {e}")))?;
        // Which key signed which release: one query later. Idempotent.
        for signer in &report.good_signers {
            match KeyRepository::record_use(sql, signer, &args.release).await {
                Ok(()) | Err(StoreError::NotFound(_)) => {}
                Err(error) => return Err(store_failure(error)),
            }
        }
        let at = now();
        let checks: Vec<CheckResult> = report
            .findings
            .iter()
            .map(|f| CheckResult {
                release: args.release.clone(),
                revision: args.revision,
                checker: f.checker.to_owned(),
                checker_version: CHECKER_VERSION.to_owned(),
                path: f.path.clone(),
                member: f.member.clone(),
                status: f.status,
                message: f.message.clone(),
                at,
            })
            .collect();
        let result = serde_json::json!({
            "files": report.files,
            "results": checks.len(),
            "blockers": report.count(atr_core::model::CheckStatus::Blocker),
            "warnings": report.count(atr_core::model::CheckStatus::Warning),
            "signers": report.good_signers.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        Ok(TaskOutput { result, checks })
    }
}
