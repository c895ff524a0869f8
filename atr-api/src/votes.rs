//! Votes: the record a vote keeps, ballots, and the tally.

use atr_core::model;
use atr_core::tally;
use atr_core::types::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::projects::{PassRule, VotePolicy};
use crate::releases::ReleaseKey;
use crate::{text, texts};

/// A vote's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub enum VoteValue {
    #[serde(rename = "+1")]
    PlusOne,
    #[serde(rename = "+0")]
    PlusZero,
    #[serde(rename = "0")]
    Zero,
    #[serde(rename = "-0")]
    MinusZero,
    #[serde(rename = "-1")]
    MinusOne,
}

impl VoteValue {
    /// The value as written: `+1`, `+0`, `0`, `-0`, `-1`.
    pub fn as_str(self) -> &'static str {
        match self {
            VoteValue::PlusOne => "+1",
            VoteValue::PlusZero => "+0",
            VoteValue::Zero => "0",
            VoteValue::MinusZero => "-0",
            VoteValue::MinusOne => "-1",
        }
    }
}

impl From<model::VoteValue> for VoteValue {
    fn from(value: model::VoteValue) -> Self {
        match value {
            model::VoteValue::PlusOne => Self::PlusOne,
            model::VoteValue::PlusZero => Self::PlusZero,
            model::VoteValue::Zero => Self::Zero,
            model::VoteValue::MinusZero => Self::MinusZero,
            model::VoteValue::MinusOne => Self::MinusOne,
        }
    }
}

/// The round of a vote: podlings vote twice, first in the PPMC then in the Incubator PMC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoteRound {
    /// The committee's own vote (the PPMC's for a podling).
    Committee,
    /// A podling's second round, in the parent committee.
    Parent,
}

impl From<model::VoteRound> for VoteRound {
    fn from(round: model::VoteRound) -> Self {
        match round {
            model::VoteRound::Committee => Self::Committee,
            model::VoteRound::Parent => Self::Parent,
        }
    }
}

/// How a vote ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VoteOutcome {
    Passed,
    Failed,
    Cancelled,
}

impl From<model::VoteOutcome> for VoteOutcome {
    fn from(outcome: model::VoteOutcome) -> Self {
        match outcome {
            model::VoteOutcome::Passed => Self::Passed,
            model::VoteOutcome::Failed => Self::Failed,
            model::VoteOutcome::Cancelled => Self::Cancelled,
        }
    }
}

/// Who cast a ballot: `{"user": id}`, `{"email": address}` or `{"anonymous": label}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Voter {
    /// A person known to the platform.
    User(String),
    /// A mail address not matched to a person (a reply on the list).
    Email(String),
    /// A visitor who revoked consent: their personal data is gone, their tally entry stays.
    Anonymous(String),
}

impl From<&model::Voter> for Voter {
    fn from(voter: &model::Voter) -> Self {
        match voter {
            model::Voter::User(id) => Self::User(text(id)),
            model::Voter::Email(address) => Self::Email(address.clone()),
            model::Voter::Anonymous(label) => Self::Anonymous(label.clone()),
        }
    }
}

/// Where a ballot came from: `"platform"`, or `{"mail": {"message_id"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BallotSource {
    /// Cast on the platform.
    Platform,
    /// A reply on the vote thread.
    Mail { message_id: String },
}

impl From<&model::BallotSource> for BallotSource {
    fn from(source: &model::BallotSource) -> Self {
        match source {
            model::BallotSource::Platform => Self::Platform,
            model::BallotSource::Mail { message_id } => Self::Mail { message_id: message_id.clone() },
        }
    }
}

/// One ballot. Each voter's latest ballot in a round counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Ballot {
    pub release: ReleaseKey,
    pub round: VoteRound,
    pub voter: Voter,
    pub value: VoteValue,
    pub comment: Option<String>,
    /// Unix seconds.
    pub cast_at: i64,
    pub source: BallotSource,
}

impl From<&model::Ballot> for Ballot {
    fn from(b: &model::Ballot) -> Self {
        Self {
            release: (&b.release).into(),
            round: b.round.into(),
            voter: (&b.voter).into(),
            value: b.value.into(),
            comment: b.comment.clone(),
            cast_at: b.cast_at.unix(),
            source: (&b.source).into(),
        }
    }
}

/// The record of a release's vote, written when it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VoteRecord {
    /// The revision voted on: exactly these bytes.
    pub revision: u32,
    pub round: VoteRound,
    /// Unix seconds.
    pub started_at: i64,
    pub started_by: String,
    /// The earliest time the vote may be resolved as passed (Unix seconds).
    pub closes_at: i64,
    /// The policy in force when the vote started.
    pub policy: VotePolicy,
    /// The committee whose PMC members bind in this round.
    pub binding_committee: String,
    /// Its PMC members when the round started, sorted.
    pub binding_voters: Vec<String>,
    /// Fingerprints of the keys that signed the voted revision, sorted.
    pub signing_keys: Vec<String>,
    /// Set once resolved.
    pub outcome: Option<VoteOutcome>,
    /// Unix seconds.
    pub resolved_at: Option<i64>,
}

impl From<&model::VoteRecord> for VoteRecord {
    fn from(v: &model::VoteRecord) -> Self {
        Self {
            revision: v.revision.get(),
            round: v.round.into(),
            started_at: v.started_at.unix(),
            started_by: text(&v.started_by),
            closes_at: v.closes_at.unix(),
            policy: (&v.policy).into(),
            binding_committee: text(&v.binding_committee),
            binding_voters: texts(&v.binding_voters),
            signing_keys: texts(&v.signing_keys),
            outcome: v.outcome.map(VoteOutcome::from),
            resolved_at: v.resolved_at.map(Timestamp::unix),
        }
    }
}

/// How many ballots of each value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VoteCounts {
    pub plus_one: u32,
    pub plus_zero: u32,
    pub zero: u32,
    pub minus_zero: u32,
    pub minus_one: u32,
}

impl From<&tally::Counts> for VoteCounts {
    fn from(c: &tally::Counts) -> Self {
        Self {
            plus_one: c.plus_one,
            plus_zero: c.plus_zero,
            zero: c.zero,
            minus_zero: c.minus_zero,
            minus_one: c.minus_one,
        }
    }
}

/// One voter's counted ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CountedVote {
    pub voter: Voter,
    pub value: VoteValue,
    pub binding: bool,
    /// Unix seconds.
    pub cast_at: i64,
}

impl From<&tally::CountedVote> for CountedVote {
    fn from(v: &tally::CountedVote) -> Self {
        Self { voter: (&v.voter).into(), value: v.value.into(), binding: v.binding, cast_at: v.cast_at.unix() }
    }
}

/// What a tally says at the time it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The counts meet the pass rule and the vote may close now.
    Passes,
    /// The counts meet the pass rule, but the policy keeps the vote open until `closes_at`.
    WouldPassIfClosedNow,
    /// The counts do not meet the pass rule.
    DoesNotPass,
}

impl From<tally::Verdict> for Verdict {
    fn from(verdict: tally::Verdict) -> Self {
        match verdict {
            tally::Verdict::Passes => Self::Passes,
            tally::Verdict::WouldPassIfClosedNow => Self::WouldPassIfClosedNow,
            tally::Verdict::DoesNotPass => Self::DoesNotPass,
        }
    }
}

/// The count of the vote's current round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tally {
    pub round: VoteRound,
    pub binding: VoteCounts,
    pub non_binding: VoteCounts,
    /// The counted ballots, one per voter, binding first then by voter.
    pub votes: Vec<CountedVote>,
    /// Whether the counts meet the pass rule (the minimum duration is not counted here).
    pub passes: bool,
    pub rule: PassRule,
    /// When the policy lets the vote close (Unix seconds).
    pub closes_at: i64,
    pub verdict: Verdict,
}

impl From<&tally::Tally> for Tally {
    fn from(t: &tally::Tally) -> Self {
        Self {
            round: t.round.into(),
            binding: (&t.binding).into(),
            non_binding: (&t.non_binding).into(),
            votes: t.votes.iter().map(CountedVote::from).collect(),
            passes: t.passes,
            rule: t.rule.into(),
            closes_at: t.closes_at.unix(),
            verdict: t.verdict.into(),
        }
    }
}

/// `POST .../ballots`: casts or changes the caller's ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CastBallot {
    pub value: VoteValue,
    /// A comment kept with the ballot.
    pub comment: Option<String>,
}

/// `POST .../resolve`: ends the vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveVote {
    pub outcome: VoteOutcome,
}

impl From<VoteValue> for model::VoteValue {
    fn from(value: VoteValue) -> Self {
        match value {
            VoteValue::PlusOne => Self::PlusOne,
            VoteValue::PlusZero => Self::PlusZero,
            VoteValue::Zero => Self::Zero,
            VoteValue::MinusZero => Self::MinusZero,
            VoteValue::MinusOne => Self::MinusOne,
        }
    }
}

impl From<VoteOutcome> for model::VoteOutcome {
    fn from(outcome: VoteOutcome) -> Self {
        match outcome {
            VoteOutcome::Passed => Self::Passed,
            VoteOutcome::Failed => Self::Failed,
            VoteOutcome::Cancelled => Self::Cancelled,
        }
    }
}
