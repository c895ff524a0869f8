//! The release lifecycle: guarded transitions between phases.
//!
//! ```text
//!            start_vote                resolve(passed)            announce
//!   draft ───────────────► candidate ──────────────────► preview ──────────► release
//!     ▲                        │
//!     └────────────────────────┘ resolve(failed | cancelled)
//!
//!   revoke: any phase ──► stage `revoked` (files and history kept; never a delete)
//! ```
//!
//! Each function checks every guard before it changes anything, so a refused transition leaves
//! the release untouched, and the error names the guard that failed.

use std::collections::BTreeSet;

use crate::model::{
    CheckSummary, Phase, Release, ReleaseState, RevisionNumber, Revocation, VoteOutcome, VoteRecord, VoteRound,
};
use crate::policy::VotePolicy;
use crate::types::{CommitteeKey, Fingerprint, Timestamp, UserId};

/// Longest revocation reason accepted, in bytes.
pub const MAX_REASON_LEN: usize = 4096;

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the release was revoked; a revoked release cannot {action}")]
    Revoked { action: &'static str },
    #[error("cannot {action} in phase {actual}; the release must be in {}", phases(expected))]
    WrongPhase { action: &'static str, expected: &'static [Phase], actual: Phase },
    #[error("cannot {action} while the release is busy ({state:?})")]
    Busy { action: &'static str, state: ReleaseState },
    #[error("the release has no revision yet; upload files first")]
    NoRevision,
    #[error("a vote must be on the latest revision {latest}, not revision {requested}")]
    NotLatestRevision { requested: RevisionNumber, latest: RevisionNumber },
    #[error("{pending} check task(s) of revision {revision} are still queued or running")]
    ChecksPending { revision: RevisionNumber, pending: u32 },
    #[error("the checks of revision {revision} did not complete (cancelled or failed); run them again before a vote")]
    ChecksNotCompleted { revision: RevisionNumber },
    #[error("revision {revision} has {blockers} blocking check result(s) that are not ignored")]
    BlockingResults { revision: RevisionNumber, blockers: u32 },
    #[error("revision {revision} has {exceptions} check(s) that broke; run the checks again before a vote")]
    CheckExceptions { revision: RevisionNumber, exceptions: u32 },
    #[error("revision {revision} has {warnings} warning(s) that are not ignored and the policy is strict")]
    StrictWarnings { revision: RevisionNumber, warnings: u32 },
    #[error("revision {revision} has no artifact with both a signature and a checksum")]
    NoCompletePackage { revision: RevisionNumber },
    #[error("the release has no vote in progress")]
    NoVoteInProgress,
    #[error("the vote stays open until {closes_at}; it cannot pass earlier")]
    VoteStillOpen { closes_at: Timestamp },
    #[error("the vote has not reached the pass rule of its policy")]
    VoteNotPassed,
    #[error("the policy asks release managers to pause before announcing; confirm the announcement")]
    AnnounceNotConfirmed,
    #[error("a revocation needs a reason of 1 to {MAX_REASON_LEN} bytes")]
    BadReason,
}

fn phases(expected: &[Phase]) -> String {
    expected.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" or ")
}

/// A phase change, for the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhaseChange {
    pub from: Phase,
    pub to: Phase,
}

fn not_revoked(release: &Release, action: &'static str) -> Result<(), TransitionError> {
    if release.is_revoked() { Err(TransitionError::Revoked { action }) } else { Ok(()) }
}

fn in_phase(release: &Release, action: &'static str, expected: &'static [Phase]) -> Result<(), TransitionError> {
    if expected.contains(&release.phase) {
        Ok(())
    } else {
        Err(TransitionError::WrongPhase { action, expected, actual: release.phase })
    }
}

/// Whether files of the release may change (a new revision): only in draft or preview, never
/// once revoked, and not while announcing or distributing.
pub fn check_can_change_files(release: &Release) -> Result<(), TransitionError> {
    const ACTION: &str = "change files";
    not_revoked(release, ACTION)?;
    in_phase(release, ACTION, &[Phase::Draft, Phase::Preview])?;
    match release.state {
        ReleaseState::Announcing | ReleaseState::Distributing => {
            Err(TransitionError::Busy { action: ACTION, state: release.state })
        }
        _ => Ok(()),
    }
}

/// Whether the release's source repository and commit may be set: while its files may change
/// (a draft or a preview), since the checks compare the source archive with them before a vote.
pub fn check_can_set_source(release: &Release) -> Result<(), TransitionError> {
    const ACTION: &str = "set the source";
    not_revoked(release, ACTION)?;
    in_phase(release, ACTION, &[Phase::Draft, Phase::Preview])?;
    match release.state {
        ReleaseState::Announcing | ReleaseState::Distributing => {
            Err(TransitionError::Busy { action: ACTION, state: release.state })
        }
        _ => Ok(()),
    }
}

/// Whether the release may be deleted: only a draft (before any vote passed; a revoked draft
/// too), and not while a task changes it.
pub fn check_can_delete(release: &Release) -> Result<(), TransitionError> {
    const ACTION: &str = "delete the release";
    in_phase(release, ACTION, &[Phase::Draft])?;
    match release.state {
        ReleaseState::Announcing | ReleaseState::Distributing => {
            Err(TransitionError::Busy { action: ACTION, state: release.state })
        }
        _ => Ok(()),
    }
}

/// Records a new revision as the release's latest.
pub fn record_revision(release: &mut Release, revision: RevisionNumber) -> Result<(), TransitionError> {
    check_can_change_files(release)?;
    release.latest_revision = Some(revision);
    Ok(())
}

/// What a vote starts with.
#[derive(Debug, Clone)]
pub struct VoteStart {
    pub revision: RevisionNumber,
    pub checks: CheckSummary,
    /// Artifacts of the revision that have both a signature and a checksum.
    pub complete_packages: usize,
    /// The policy in force, resolved from release, product, project and default.
    pub policy: VotePolicy,
    pub binding_committee: CommitteeKey,
    /// The binding committee's PMC members now.
    pub binding_voters: BTreeSet<UserId>,
    /// The keys that signed the revision.
    pub signing_keys: BTreeSet<Fingerprint>,
    pub by: UserId,
    pub now: Timestamp,
}

/// Starts a vote on the latest revision of a draft. Its checks must have run to completion with
/// no check task still pending; no blocking result and no broken check may stand, whatever the
/// policy (a strict policy refuses warnings too); and at least one artifact must come with its
/// signature and checksum. Snapshots policy, binding voters and signing keys into the release.
pub fn start_vote(release: &mut Release, start: VoteStart) -> Result<PhaseChange, TransitionError> {
    const ACTION: &str = "start a vote";
    not_revoked(release, ACTION)?;
    in_phase(release, ACTION, &[Phase::Draft])?;
    let latest = release.latest_revision.ok_or(TransitionError::NoRevision)?;
    if start.revision != latest {
        return Err(TransitionError::NotLatestRevision { requested: start.revision, latest });
    }
    let checks = start.checks;
    if checks.pending > 0 {
        return Err(TransitionError::ChecksPending { revision: latest, pending: checks.pending });
    }
    if !checks.completed {
        return Err(TransitionError::ChecksNotCompleted { revision: latest });
    }
    if checks.blockers > 0 {
        return Err(TransitionError::BlockingResults { revision: latest, blockers: checks.blockers });
    }
    if checks.exceptions > 0 {
        return Err(TransitionError::CheckExceptions { revision: latest, exceptions: checks.exceptions });
    }
    if start.policy.strict_checking && checks.warnings > 0 {
        return Err(TransitionError::StrictWarnings { revision: latest, warnings: checks.warnings });
    }
    if start.complete_packages == 0 {
        return Err(TransitionError::NoCompletePackage { revision: latest });
    }
    let closes_at = start.now.plus_hours(start.policy.min_hours);
    release.vote = Some(VoteRecord {
        revision: start.revision,
        round: VoteRound::Committee,
        started_at: start.now,
        started_by: start.by,
        closes_at,
        policy: start.policy,
        binding_committee: start.binding_committee,
        binding_voters: start.binding_voters,
        signing_keys: start.signing_keys.clone(),
        outcome: None,
        resolved_at: None,
    });
    release.signing_keys = start.signing_keys;
    release.phase = Phase::Candidate;
    release.state = ReleaseState::Voting;
    Ok(PhaseChange { from: Phase::Draft, to: Phase::Candidate })
}

/// The vote in progress, if the release is a candidate with an unresolved vote.
pub fn open_vote(release: &Release) -> Result<&VoteRecord, TransitionError> {
    not_revoked(release, "vote")?;
    in_phase(release, "vote", &[Phase::Candidate])?;
    release.vote.as_ref().filter(|v| v.outcome.is_none()).ok_or(TransitionError::NoVoteInProgress)
}

/// Resolves the vote in progress. `passes` is the tally's verdict under the snapshotted policy.
/// Passed needs the minimum duration elapsed (a policy of 0 hours has none) and a passing tally,
/// and moves the release to preview; failed or cancelled moves it back to draft.
pub fn resolve_vote(
    release: &mut Release,
    outcome: VoteOutcome,
    passes: bool,
    now: Timestamp,
) -> Result<PhaseChange, TransitionError> {
    let vote = open_vote(release)?;
    if outcome == VoteOutcome::Passed {
        if now < vote.closes_at {
            return Err(TransitionError::VoteStillOpen { closes_at: vote.closes_at });
        }
        if !passes {
            return Err(TransitionError::VoteNotPassed);
        }
    }
    let to = if outcome == VoteOutcome::Passed { Phase::Preview } else { Phase::Draft };
    if let Some(vote) = release.vote.as_mut() {
        vote.outcome = Some(outcome);
        vote.resolved_at = Some(now);
    }
    release.phase = to;
    release.state = ReleaseState::AtRest;
    Ok(PhaseChange { from: Phase::Candidate, to })
}

/// Opens the second round of a podling's vote after its first round passed: the release stays a
/// candidate, on the same revision, and the parent committee's PMC members now bind.
pub fn start_parent_round(
    release: &mut Release,
    parent: CommitteeKey,
    parent_pmc: BTreeSet<UserId>,
    passes: bool,
    now: Timestamp,
) -> Result<(), TransitionError> {
    let vote = open_vote(release)?;
    if vote.round != VoteRound::Committee {
        return Err(TransitionError::NoVoteInProgress);
    }
    if now < vote.closes_at {
        return Err(TransitionError::VoteStillOpen { closes_at: vote.closes_at });
    }
    if !passes {
        return Err(TransitionError::VoteNotPassed);
    }
    let mut next = vote.clone();
    if let Some(first) = release.vote.as_mut() {
        first.outcome = Some(VoteOutcome::Passed);
        first.resolved_at = Some(now);
    }
    next.round = VoteRound::Parent;
    next.started_at = now;
    next.closes_at = now.plus_hours(next.policy.min_hours);
    next.binding_committee = parent;
    next.binding_voters = parent_pmc;
    release.vote = Some(next);
    Ok(())
}

/// Announces a release in preview: it becomes `current`. When the policy asks for a pause,
/// `confirmed` must be set.
pub fn announce(release: &mut Release, confirmed: bool, now: Timestamp) -> Result<PhaseChange, TransitionError> {
    const ACTION: &str = "announce";
    not_revoked(release, ACTION)?;
    in_phase(release, ACTION, &[Phase::Preview])?;
    if release.latest_revision.is_none() {
        return Err(TransitionError::NoRevision);
    }
    let pause = release.vote.as_ref().is_some_and(|v| v.policy.pause_before_announce);
    if pause && !confirmed {
        return Err(TransitionError::AnnounceNotConfirmed);
    }
    release.phase = Phase::Release;
    release.state = ReleaseState::AtRest;
    release.released_at = Some(now);
    Ok(PhaseChange { from: Phase::Preview, to: Phase::Release })
}

/// Revokes a release in any phase: its stage becomes `revoked`; files and history stay.
pub fn revoke(release: &mut Release, by: UserId, reason: &str, now: Timestamp) -> Result<(), TransitionError> {
    not_revoked(release, "be revoked again")?;
    let reason = reason.trim();
    if reason.is_empty() || reason.len() > MAX_REASON_LEN {
        return Err(TransitionError::BadReason);
    }
    release.revocation = Some(Revocation { at: now, by, reason: reason.to_owned() });
    release.state = ReleaseState::AtRest;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ReleaseKey;
    use crate::types::{ProjectKey, Stage, Version};

    fn user(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn draft() -> Release {
        let key = ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse("2.4.68").unwrap());
        Release::new_draft(key, CommitteeKey::parse("httpd").unwrap(), user("rm"), Timestamp::from_unix(0))
    }

    fn rev(n: u32) -> RevisionNumber {
        RevisionNumber::new(n).unwrap()
    }

    fn vote_start(revision: u32, checks: CheckSummary, strict: bool) -> VoteStart {
        let mut policy = VotePolicy::foundation_default();
        policy.strict_checking = strict;
        VoteStart {
            revision: rev(revision),
            checks,
            complete_packages: 1,
            policy,
            binding_committee: CommitteeKey::parse("httpd").unwrap(),
            binding_voters: [user("a"), user("b"), user("c")].into(),
            signing_keys: BTreeSet::new(),
            by: user("rm"),
            now: Timestamp::from_unix(1000),
        }
    }

    /// Checks that ran to completion with nothing to report.
    fn done() -> CheckSummary {
        CheckSummary { completed: true, ..Default::default() }
    }

    fn with_revisions(n: u32) -> Release {
        let mut r = draft();
        for i in 1..=n {
            record_revision(&mut r, rev(i)).unwrap();
        }
        r
    }

    fn candidate() -> Release {
        let mut r = with_revisions(2);
        start_vote(&mut r, vote_start(2, done(), true)).unwrap();
        r
    }

    fn preview() -> Release {
        let mut r = candidate();
        resolve_vote(&mut r, VoteOutcome::Passed, true, Timestamp::from_unix(1000).plus_hours(72)).unwrap();
        r
    }

    fn released() -> Release {
        let mut r = preview();
        announce(&mut r, false, Timestamp::from_unix(999_999)).unwrap();
        r
    }

    fn revoked(mut r: Release) -> Release {
        revoke(&mut r, user("rm"), "superseded by a security fix", Timestamp::from_unix(5)).unwrap();
        r
    }

    #[test]
    fn the_happy_path_and_stages() {
        let r = with_revisions(2);
        assert_eq!((r.phase, r.stage()), (Phase::Draft, None));
        let r = candidate();
        assert_eq!((r.phase, r.stage(), r.state), (Phase::Candidate, Some(Stage::Candidate), ReleaseState::Voting));
        let vote = r.vote.as_ref().unwrap();
        assert_eq!(vote.closes_at, Timestamp::from_unix(1000).plus_hours(72));
        assert_eq!(vote.revision, rev(2));
        assert!(vote.policy.strict_checking, "the policy is snapshotted");
        let r = preview();
        assert_eq!((r.phase, r.stage()), (Phase::Preview, None));
        let r = released();
        assert_eq!((r.phase, r.stage()), (Phase::Release, Some(Stage::Current)));
        assert_eq!(r.released_at, Some(Timestamp::from_unix(999_999)));
        let r = revoked(r);
        assert_eq!((r.phase, r.stage()), (Phase::Release, Some(Stage::Revoked)));
    }

    /// Asserts a refused transition left the release exactly as it was.
    fn refused<T: std::fmt::Debug>(
        mut release: Release,
        f: impl FnOnce(&mut Release) -> Result<T, TransitionError>,
    ) -> TransitionError {
        let before = release.clone();
        let err = f(&mut release).unwrap_err();
        assert_eq!(release, before, "a refused transition must not change the release");
        err
    }

    #[test]
    fn start_vote_guards() {
        use TransitionError as E;
        let err = refused(draft(), |r| start_vote(r, vote_start(1, done(), false)));
        assert_eq!(err, E::NoRevision);
        let err = refused(with_revisions(3), |r| start_vote(r, vote_start(2, done(), false)));
        assert_eq!(err, E::NotLatestRevision { requested: rev(2), latest: rev(3) });
        let pending = CheckSummary { pending: 2, ..Default::default() };
        let err = refused(with_revisions(1), |r| start_vote(r, vote_start(1, pending, false)));
        assert_eq!(err, E::ChecksPending { revision: rev(1), pending: 2 });
        // Nothing pending and nothing found is not enough: the checks must have completed.
        let never_ran = CheckSummary::default();
        let err = refused(with_revisions(1), |r| start_vote(r, vote_start(1, never_ran, false)));
        assert_eq!(err, E::ChecksNotCompleted { revision: rev(1) });
        // Blockers and broken checks stop the vote whatever the policy.
        let blockers = CheckSummary { blockers: 1, ..done() };
        for strict in [true, false] {
            let err = refused(with_revisions(1), |r| start_vote(r, vote_start(1, blockers, strict)));
            assert_eq!(err, E::BlockingResults { revision: rev(1), blockers: 1 });
        }
        let broken = CheckSummary { exceptions: 2, ..done() };
        let err = refused(with_revisions(1), |r| start_vote(r, vote_start(1, broken, false)));
        assert_eq!(err, E::CheckExceptions { revision: rev(1), exceptions: 2 });
        // Warnings stop it only under a strict policy.
        let warnings = CheckSummary { warnings: 3, ..done() };
        let err = refused(with_revisions(1), |r| start_vote(r, vote_start(1, warnings, true)));
        assert_eq!(err, E::StrictWarnings { revision: rev(1), warnings: 3 });
        let mut r = with_revisions(1);
        start_vote(&mut r, vote_start(1, warnings, false)).unwrap();
        // A revision without one complete package (artifact, signature, checksum) is not voted on.
        let mut start = vote_start(1, done(), false);
        start.complete_packages = 0;
        let err = refused(with_revisions(1), |r| start_vote(r, start));
        assert_eq!(err, E::NoCompletePackage { revision: rev(1) });
        for r in [candidate(), preview(), released()] {
            let phase = r.phase;
            let err = refused(r, |r| start_vote(r, vote_start(2, done(), false)));
            assert!(matches!(err, E::WrongPhase { actual, .. } if actual == phase), "{err}");
        }
        let err = refused(revoked(with_revisions(1)), |r| start_vote(r, vote_start(1, done(), false)));
        assert!(matches!(err, E::Revoked { .. }));
        assert_eq!(err.to_string(), "the release was revoked; a revoked release cannot start a vote");
    }

    #[test]
    fn file_changes_only_in_draft_and_preview() {
        use TransitionError as E;
        assert!(check_can_change_files(&with_revisions(1)).is_ok());
        assert!(check_can_change_files(&preview()).is_ok());
        for r in [candidate(), released()] {
            let err = refused(r, |r| record_revision(r, rev(9)));
            assert!(matches!(err, E::WrongPhase { .. }));
            assert!(err.to_string().contains("must be in draft or preview"), "{err}");
        }
        assert!(matches!(refused(revoked(with_revisions(1)), |r| record_revision(r, rev(9))), E::Revoked { .. }));
        let mut busy = preview();
        busy.state = ReleaseState::Distributing;
        assert!(matches!(refused(busy, |r| record_revision(r, rev(9))), E::Busy { .. }));
    }

    #[test]
    fn resolve_guards() {
        use TransitionError as E;
        let closes = Timestamp::from_unix(1000).plus_hours(72);
        let early = Timestamp::from_unix(1000).plus_hours(71);
        let err = refused(candidate(), |r| resolve_vote(r, VoteOutcome::Passed, true, early));
        assert_eq!(err, E::VoteStillOpen { closes_at: closes });
        let err = refused(candidate(), |r| resolve_vote(r, VoteOutcome::Passed, false, closes));
        assert_eq!(err, E::VoteNotPassed);
        for r in [with_revisions(1), preview(), released()] {
            let err = refused(r, |r| resolve_vote(r, VoteOutcome::Cancelled, false, closes));
            assert!(matches!(err, E::WrongPhase { .. }));
        }
        assert!(matches!(
            refused(revoked(candidate()), |r| resolve_vote(r, VoteOutcome::Failed, false, closes)),
            E::Revoked { .. }
        ));
        // Failing or cancelling is allowed early, and goes back to draft.
        for outcome in [VoteOutcome::Failed, VoteOutcome::Cancelled] {
            let mut r = candidate();
            let change = resolve_vote(&mut r, outcome, false, early).unwrap();
            assert_eq!(change, PhaseChange { from: Phase::Candidate, to: Phase::Draft });
            assert_eq!(r.vote.as_ref().unwrap().outcome, Some(outcome));
            // A resolved vote cannot be resolved again, and a new vote needs the draft's latest revision.
            record_revision(&mut r, rev(3)).unwrap();
            start_vote(&mut r, vote_start(3, done(), false)).unwrap();
        }
        // A zero-hour policy has no minimum.
        let mut r = with_revisions(1);
        let mut start = vote_start(1, done(), false);
        start.policy.min_hours = 0;
        start_vote(&mut r, start).unwrap();
        resolve_vote(&mut r, VoteOutcome::Passed, true, Timestamp::from_unix(1000)).unwrap();
        assert_eq!(r.phase, Phase::Preview);
    }

    #[test]
    fn podling_second_round() {
        use TransitionError as E;
        let closes = Timestamp::from_unix(1000).plus_hours(72);
        let incubator = CommitteeKey::parse("incubator").unwrap();
        let ipmc: BTreeSet<UserId> = [user("x"), user("y")].into();
        let err = refused(candidate(), |r| start_parent_round(r, incubator.clone(), ipmc.clone(), false, closes));
        assert_eq!(err, E::VoteNotPassed);
        let mut r = candidate();
        start_parent_round(&mut r, incubator.clone(), ipmc.clone(), true, closes).unwrap();
        let vote = r.vote.as_ref().unwrap();
        assert_eq!((vote.round, &vote.binding_committee, &vote.binding_voters), (VoteRound::Parent, &incubator, &ipmc));
        assert_eq!(vote.closes_at, closes.plus_hours(72));
        assert_eq!(r.phase, Phase::Candidate);
        // No third round.
        let later = closes.plus_hours(72);
        assert_eq!(refused(r.clone(), |r| start_parent_round(r, incubator, ipmc, true, later)), E::NoVoteInProgress);
        resolve_vote(&mut r, VoteOutcome::Passed, true, later).unwrap();
        assert_eq!(r.phase, Phase::Preview);
    }

    #[test]
    fn announce_guards() {
        use TransitionError as E;
        for r in [with_revisions(1), candidate(), released()] {
            assert!(matches!(refused(r, |r| announce(r, true, Timestamp::from_unix(0))), E::WrongPhase { .. }));
        }
        let mut r = preview();
        r.vote.as_mut().unwrap().policy.pause_before_announce = true;
        assert_eq!(refused(r.clone(), |r| announce(r, false, Timestamp::from_unix(0))), E::AnnounceNotConfirmed);
        announce(&mut r, true, Timestamp::from_unix(0)).unwrap();
        assert!(matches!(
            refused(revoked(preview()), |r| announce(r, true, Timestamp::from_unix(0))),
            E::Revoked { .. }
        ));
    }

    #[test]
    fn revoke_is_a_stage_and_happens_once() {
        use TransitionError as E;
        for r in [draft(), candidate(), preview(), released()] {
            let phase = r.phase;
            let r = revoked(r);
            assert_eq!(r.phase, phase, "revoking keeps the phase and the files");
            assert_eq!(r.stage(), Some(Stage::Revoked));
            assert!(matches!(
                refused(r, |r| revoke(r, user("rm"), "again", Timestamp::from_unix(9))),
                E::Revoked { .. }
            ));
        }
        assert_eq!(refused(draft(), |r| revoke(r, user("rm"), "  ", Timestamp::from_unix(9))), E::BadReason);
        let long = "x".repeat(MAX_REASON_LEN + 1);
        assert_eq!(refused(draft(), |r| revoke(r, user("rm"), &long, Timestamp::from_unix(9))), E::BadReason);
    }
}
