//! Votes: ballots, visitors' consent, and the record of a release's vote.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::release::ReleaseKey;
use super::revision::RevisionNumber;
use crate::policy::VotePolicy;
use crate::types::{CommitteeKey, Fingerprint, Timestamp, UserId};

/// A vote's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    /// Every value.
    pub const ALL: [VoteValue; 5] =
        [VoteValue::PlusOne, VoteValue::PlusZero, VoteValue::Zero, VoteValue::MinusZero, VoteValue::MinusOne];

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

    /// Parses the written form.
    pub fn parse(text: &str) -> Option<VoteValue> {
        VoteValue::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

impl fmt::Display for VoteValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who cast a ballot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Voter {
    /// A person known to the platform.
    User(UserId),
    /// A mail address not matched to a person (a reply on the list).
    Email(String),
    /// A visitor who revoked consent: their personal data is gone, their tally entry stays.
    Anonymous(String),
}

/// Where a ballot came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BallotSource {
    /// Cast on the platform.
    Platform,
    /// A reply on the vote thread.
    Mail { message_id: String },
}

/// One ballot. Each voter's latest ballot in a round counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ballot {
    pub release: ReleaseKey,
    pub round: VoteRound,
    pub voter: Voter,
    pub value: VoteValue,
    pub comment: Option<String>,
    pub cast_at: Timestamp,
    pub source: BallotSource,
}

/// The round of a vote: podlings vote twice, first in the PPMC then in the Incubator PMC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteRound {
    /// The committee's own vote (the PPMC's for a podling).
    Committee,
    /// A podling's second round, in the parent committee (the Incubator PMC).
    Parent,
}

/// A visitor's consent to keep their name and email so they can vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub user: UserId,
    pub name: String,
    pub email: String,
    pub given_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl Consent {
    /// True if consent was given by `now` and not revoked by then.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.given_at <= now && self.revoked_at.is_none_or(|revoked| revoked > now)
    }
}

/// How a vote ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VoteOutcome {
    Passed,
    Failed,
    Cancelled,
}

/// The record of a release's vote, written when it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRecord {
    /// The revision voted on: exactly these bytes.
    pub revision: RevisionNumber,
    pub round: VoteRound,
    pub started_at: Timestamp,
    pub started_by: UserId,
    /// The earliest time the vote may be resolved as passed (start plus the policy's minimum).
    pub closes_at: Timestamp,
    /// The policy in force when the vote started.
    pub policy: VotePolicy,
    /// The committee whose PMC members bind in this round.
    pub binding_committee: CommitteeKey,
    /// Its PMC members when the round started: their votes bind.
    pub binding_voters: BTreeSet<UserId>,
    /// The keys that signed the voted revision.
    pub signing_keys: BTreeSet<Fingerprint>,
    /// Set once resolved.
    pub outcome: Option<VoteOutcome>,
    pub resolved_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_is_active_between_given_and_revoked() {
        let mut c = Consent {
            user: UserId::parse("visitor").unwrap(),
            name: "V".into(),
            email: "v@example.org".into(),
            given_at: Timestamp::from_unix(100),
            revoked_at: None,
        };
        assert!(!c.is_active(Timestamp::from_unix(99)));
        assert!(c.is_active(Timestamp::from_unix(100)));
        c.revoked_at = Some(Timestamp::from_unix(200));
        assert!(c.is_active(Timestamp::from_unix(199)));
        assert!(!c.is_active(Timestamp::from_unix(200)));
    }

    #[test]
    fn values_round_trip() {
        for v in VoteValue::ALL {
            assert_eq!(VoteValue::parse(v.as_str()), Some(v));
        }
        assert_eq!(VoteValue::parse("+2"), None);
    }
}
