//! Counting a vote: each voter's latest ballot, binding by the membership snapshotted when the
//! round started, decided by the policy's pass rule; podlings vote in two rounds. Replies on the
//! mailing list become ballots through [`mail`].

pub mod mail;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::model::{Ballot, Committee, VoteRecord, VoteRound, VoteValue, Voter};
use crate::policy::PassRule;
use crate::types::Timestamp;

/// How many ballots of each value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub plus_one: u32,
    pub plus_zero: u32,
    pub zero: u32,
    pub minus_zero: u32,
    pub minus_one: u32,
}

impl Counts {
    fn add(&mut self, value: VoteValue) {
        let slot = match value {
            VoteValue::PlusOne => &mut self.plus_one,
            VoteValue::PlusZero => &mut self.plus_zero,
            VoteValue::Zero => &mut self.zero,
            VoteValue::MinusZero => &mut self.minus_zero,
            VoteValue::MinusOne => &mut self.minus_one,
        };
        *slot = slot.saturating_add(1);
    }

    /// The count of one value.
    pub fn of(&self, value: VoteValue) -> u32 {
        match value {
            VoteValue::PlusOne => self.plus_one,
            VoteValue::PlusZero => self.plus_zero,
            VoteValue::Zero => self.zero,
            VoteValue::MinusZero => self.minus_zero,
            VoteValue::MinusOne => self.minus_one,
        }
    }
}

/// One voter's counted ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedVote {
    pub voter: Voter,
    pub value: VoteValue,
    pub binding: bool,
    pub cast_at: Timestamp,
}

/// What a tally says, read at a time: a vote whose counts meet the pass rule passes only once its
/// policy lets it close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The counts meet the pass rule and the vote may close now.
    Passes,
    /// The counts meet the pass rule, but the policy keeps the vote open until `closes_at`.
    WouldPassIfClosedNow,
    /// The counts do not meet the pass rule.
    DoesNotPass,
}

/// The count of one round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub round: VoteRound,
    pub binding: Counts,
    pub non_binding: Counts,
    /// The counted ballots, one per voter, binding first then by voter.
    pub votes: Vec<CountedVote>,
    /// Whether the counts meet the pass rule (the minimum duration is in `verdict`).
    pub passes: bool,
    pub rule: PassRule,
    /// When the policy lets the vote close.
    pub closes_at: Timestamp,
    /// The verdict at the time of the tally.
    pub verdict: Verdict,
}

impl Tally {
    /// A plain-text summary, as a result mail shows it.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for value in
            [VoteValue::PlusOne, VoteValue::PlusZero, VoteValue::Zero, VoteValue::MinusZero, VoteValue::MinusOne]
        {
            let (b, n) = (self.binding.of(value), self.non_binding.of(value));
            if b + n > 0 {
                let _ = writeln!(out, "{value}: {b} binding, {n} non-binding");
            }
        }
        let _ = writeln!(out, "Binding votes:");
        for vote in self.votes.iter().filter(|v| v.binding) {
            let _ = writeln!(out, "  {} {}", vote.value, voter_name(&vote.voter));
        }
        let _ = writeln!(out, "Non-binding votes:");
        for vote in self.votes.iter().filter(|v| !v.binding) {
            let _ = writeln!(out, "  {} {}", vote.value, voter_name(&vote.voter));
        }
        let verdict = match self.verdict {
            Verdict::Passes => "passes".to_owned(),
            Verdict::WouldPassIfClosedNow => format!("would pass if closed now; it is open until {}", self.closes_at),
            Verdict::DoesNotPass => "does not pass".to_owned(),
        };
        let majority = if self.rule.majority_of_binding { " and more binding +1 than binding -1" } else { "" };
        let _ = writeln!(
            out,
            "The vote {verdict}: it needs at least {} binding +1{majority}.",
            self.rule.min_binding_plus_one
        );
        out
    }
}

fn voter_name(voter: &Voter) -> &str {
    match voter {
        Voter::User(id) => id.as_str(),
        Voter::Email(address) => address,
        Voter::Anonymous(label) => label,
    }
}

/// Counts the ballots of the vote's current round: each voter's latest ballot (by cast time; on
/// a tie the later one in `ballots`), binding when cast by a member of the PMC snapshotted when
/// the round started, decided by the snapshotted policy's pass rule; the verdict is read at
/// `now` against the policy's minimum duration.
pub fn tally(ballots: &[Ballot], vote: &VoteRecord, now: Timestamp) -> Tally {
    let mut latest: BTreeMap<&Voter, &Ballot> = BTreeMap::new();
    for ballot in ballots.iter().filter(|b| b.round == vote.round) {
        match latest.get(&ballot.voter) {
            Some(seen) if seen.cast_at > ballot.cast_at => {}
            _ => {
                latest.insert(&ballot.voter, ballot);
            }
        }
    }
    let mut binding = Counts::default();
    let mut non_binding = Counts::default();
    let mut votes = Vec::with_capacity(latest.len());
    for (voter, ballot) in latest {
        let is_binding = matches!(voter, Voter::User(id) if vote.binding_voters.contains(id));
        if is_binding {
            binding.add(ballot.value);
        } else {
            non_binding.add(ballot.value);
        }
        votes.push(CountedVote {
            voter: voter.clone(),
            value: ballot.value,
            binding: is_binding,
            cast_at: ballot.cast_at,
        });
    }
    votes.sort_by(|a, b| b.binding.cmp(&a.binding).then_with(|| a.voter.cmp(&b.voter)));
    let rule = vote.policy.pass_rule;
    let passes = passes(rule, &binding);
    let verdict = match (passes, now < vote.closes_at) {
        (false, _) => Verdict::DoesNotPass,
        (true, true) => Verdict::WouldPassIfClosedNow,
        (true, false) => Verdict::Passes,
    };
    Tally { round: vote.round, binding, non_binding, votes, passes, rule, closes_at: vote.closes_at, verdict }
}

/// The pass rule applied to binding counts.
pub fn passes(rule: PassRule, binding: &Counts) -> bool {
    binding.plus_one >= rule.min_binding_plus_one && (!rule.majority_of_binding || binding.plus_one > binding.minus_one)
}

/// The round that follows `round` of `committee`'s vote: a podling's passed first round goes on
/// to its parent committee (the Incubator PMC); anything else ends the vote.
pub fn next_round(committee: &Committee, round: VoteRound, passed: bool) -> Option<VoteRound> {
    (committee.podling && committee.parent.is_some() && round == VoteRound::Committee && passed)
        .then_some(VoteRound::Parent)
}

#[cfg(test)]
mod tests;
