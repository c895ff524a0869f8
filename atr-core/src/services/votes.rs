//! Votes: starting, casting, tallying and resolving; visitors' consent.

use super::{ServiceError, ServiceResult, Services, actor, person_id};
use crate::auth::{Activity, Principal};
use crate::lifecycle::{self, VoteStart};
use crate::model::{
    Ballot, BallotSource, CheckSummary, Consent, EventKind, NewEvent, Release, ReleaseKey, RevisionNumber, VoteOutcome,
    VoteRecord, VoteRound, VoteValue, Voter, derive_packages,
};
use crate::ports::{Change, Write};
use crate::tally::{self, Tally};
use crate::types::Timestamp;

/// Longest ballot comment accepted, in bytes.
pub const MAX_COMMENT_LEN: usize = 4096;

impl Services {
    /// Starts the vote on `revision`, which must be the draft's latest, with its checks run to
    /// completion, nothing pending, no unignored blocker whatever the policy (a strict one refuses
    /// warnings too) and at least one artifact with its signature and checksum. Needs `perform
    /// actions`. Snapshots the resolved policy, the committee's PMC members and the keys that
    /// made good signatures on the revision, and links those keys to the release.
    pub async fn start_vote(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        revision: RevisionNumber,
        now: Timestamp,
    ) -> ServiceResult<Release> {
        let (scope, mut release) = self.authorized_release(principal, Activity::PerformActions, key, now).await?;
        let by = person_id(principal).ok_or_else(|| ServiceError::Invalid("a vote needs a person".into()))?;
        let policy = self.effective_policy(&scope.project, key.product.as_ref(), Some(&release))?;
        let pending = self.ports.tasks.pending(key, revision).await?;
        let run = self.ports.revisions.check_run(key, revision).await?;
        let results = self.ports.revisions.checks(key, revision).await?;
        let ignores = self.ports.projects.ignores(&key.project).await?;
        let checks = CheckSummary::of(&results, &ignores, pending, run.is_some());
        let files = self.ports.revisions.get(key, revision).await?.map(|r| r.files).unwrap_or_default();
        let listing = derive_packages(files.iter().map(|f| &f.path));
        let complete_packages =
            listing.packages.iter().filter(|p| p.signature.is_some() && p.checksum.is_some()).count();
        let signing_keys = run.map(|r| r.signers).unwrap_or_default();
        let phase = lifecycle::start_vote(
            &mut release,
            VoteStart {
                revision,
                checks,
                complete_packages,
                policy,
                binding_committee: scope.committee.key.clone(),
                binding_voters: scope.committee.pmc_members.clone(),
                signing_keys,
                by: by.clone(),
                now,
            },
        )?;
        let vote = release.vote.as_ref().ok_or(lifecycle::TransitionError::NoVoteInProgress)?;
        let who = actor(principal);
        let started = EventKind::VoteStarted { revision, round: vote.round, closes_at: vote.closes_at };
        let mut change = Change::new().write(Write::UpdateRelease(release.clone()));
        for fingerprint in &release.signing_keys {
            change = change.write(Write::RecordKeyUse { fingerprint: fingerprint.clone(), release: key.clone() });
        }
        let change = change.event(NewEvent::for_release(now, who.clone(), key, started)).event(NewEvent::for_release(
            now,
            who,
            key,
            EventKind::PhaseChanged { from: phase.from, to: phase.to },
        ));
        self.commit(change).await?;
        release.lock_version += 1;
        Ok(release)
    }

    /// Casts (or changes) the principal's ballot in the vote in progress. Needs `vote`, which a
    /// visitor holds only with active consent. Whether it binds is decided by the PMC membership
    /// snapshotted when the round started.
    pub async fn cast_ballot(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        value: VoteValue,
        comment: Option<String>,
        now: Timestamp,
    ) -> ServiceResult<Ballot> {
        let (_, release) = self.authorized_release(principal, Activity::Vote, key, now).await?;
        let vote = lifecycle::open_vote(&release)?;
        if comment.as_ref().is_some_and(|c| c.len() > MAX_COMMENT_LEN) {
            return Err(ServiceError::Invalid(format!("comment is longer than {MAX_COMMENT_LEN} bytes")));
        }
        let voter = person_id(principal).ok_or_else(|| ServiceError::Invalid("a ballot needs a person".into()))?;
        let binding = vote.binding_voters.contains(voter);
        let ballot = Ballot {
            release: key.clone(),
            round: vote.round,
            voter: Voter::User(voter.clone()),
            value,
            comment,
            cast_at: now,
            source: BallotSource::Platform,
        };
        let kind = EventKind::BallotCast { round: vote.round, value, binding };
        let change = Change::new().write(Write::CastBallot(ballot.clone())).event(NewEvent::for_release(
            now,
            actor(principal),
            key,
            kind,
        ));
        self.commit(change).await?;
        Ok(ballot)
    }

    /// The tally of the release's current (or last) vote round, read at `now`. Anyone may read
    /// it.
    pub async fn tally(&self, key: &ReleaseKey, now: Timestamp) -> ServiceResult<Tally> {
        let release = self.release(key).await?;
        let vote = release.vote.as_ref().ok_or(lifecycle::TransitionError::NoVoteInProgress)?;
        self.tally_of(key, vote, now).await
    }

    async fn tally_of(&self, key: &ReleaseKey, vote: &VoteRecord, now: Timestamp) -> ServiceResult<Tally> {
        let ballots = self.ports.ballots.active(key, vote.round).await?;
        Ok(tally::tally(&ballots, vote, now))
    }

    /// Resolves the vote in progress. Needs `perform actions`. `Passed` needs the minimum
    /// duration elapsed and a passing tally; for a podling, a passed first round opens the
    /// second round in the parent committee instead of ending the vote.
    pub async fn resolve_vote(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        outcome: VoteOutcome,
        now: Timestamp,
    ) -> ServiceResult<Release> {
        let (scope, mut release) = self.authorized_release(principal, Activity::PerformActions, key, now).await?;
        let vote = lifecycle::open_vote(&release)?.clone();
        let tally = self.tally_of(key, &vote, now).await?;
        let who = actor(principal);
        let tallied = EventKind::VoteTallied {
            round: vote.round,
            binding_plus: tally.binding.plus_one,
            binding_minus: tally.binding.minus_one,
            passes: tally.passes,
        };
        let next = tally::next_round(&scope.committee, vote.round, outcome == VoteOutcome::Passed);
        let phase = match (outcome, next, &scope.committee.parent) {
            (VoteOutcome::Passed, Some(VoteRound::Parent), Some(parent)) => {
                let parent = self.committee(parent).await?;
                lifecycle::start_parent_round(&mut release, parent.key, parent.pmc_members, tally.passes, now)?;
                None
            }
            _ => Some(lifecycle::resolve_vote(&mut release, outcome, tally.passes, now)?),
        };
        let resolved = EventKind::VoteResolved { round: vote.round, outcome };
        let mut change = Change::new()
            .write(Write::UpdateRelease(release.clone()))
            .event(NewEvent::for_release(now, who.clone(), key, tallied))
            .event(NewEvent::for_release(now, who.clone(), key, resolved));
        if let Some(phase) = phase {
            let kind = EventKind::PhaseChanged { from: phase.from, to: phase.to };
            change = change.event(NewEvent::for_release(now, who, key, kind));
        } else if let Some(round) = release.vote.as_ref() {
            let started =
                EventKind::VoteStarted { revision: round.revision, round: round.round, closes_at: round.closes_at };
            change = change.event(NewEvent::for_release(now, who, key, started));
        }
        self.commit(change).await?;
        release.lock_version += 1;
        Ok(release)
    }

    /// Records a visitor's consent to keep their name and email, so they can vote.
    pub async fn give_consent(
        &self,
        principal: &Principal,
        name: &str,
        email: &str,
        now: Timestamp,
    ) -> ServiceResult<Consent> {
        let Principal::Person(person) = principal else {
            return Err(ServiceError::Invalid("only a signed-in person can give consent".into()));
        };
        let (name, email) = (name.trim(), email.trim());
        if name.is_empty() || name.len() > 200 || !email.contains('@') || email.len() > 320 {
            return Err(ServiceError::Invalid("consent needs a name and a mail address".into()));
        }
        let consent = Consent {
            user: person.id.clone(),
            name: name.into(),
            email: email.into(),
            given_at: now,
            revoked_at: None,
        };
        let change = Change::new().write(Write::PutConsent(consent.clone())).event(NewEvent::global(
            now,
            actor(principal),
            EventKind::ConsentGiven,
        ));
        self.commit(change).await?;
        Ok(consent)
    }

    /// Revokes the principal's consent: the store erases their personal data and their ballots
    /// stay in tallies under an anonymous voter, named after the revocation's event id so that it
    /// is unique and says nothing about the person (the event's actor is the system, not them).
    pub async fn revoke_consent(&self, principal: &Principal, now: Timestamp) -> ServiceResult<()> {
        let Principal::Person(person) = principal else {
            return Err(ServiceError::Invalid("only a signed-in person can revoke consent".into()));
        };
        let change = Change::new()
            .event(NewEvent::global(now, crate::model::Actor::System, EventKind::ConsentRevoked))
            .write(Write::RevokeConsent { user: person.id.clone(), at: now });
        self.commit(change).await?;
        Ok(())
    }
}
