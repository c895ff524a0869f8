//! Tally rules and the mailing-list reply parser, on realistic messy replies.

use std::collections::BTreeSet;

use super::mail::{MailMessage, ReplyVote, ballots_from_thread, parse_reply, voter_for_address};
use super::*;
use crate::model::{BallotSource, ReleaseKey, RevisionNumber};
use crate::policy::VotePolicy;
use crate::types::{CommitteeKey, ProjectKey, UserId, Version};

const T0: Timestamp = Timestamp::from_unix(1_750_000_000);
/// After the 72 hours of the default policy.
const CLOSED: Timestamp = Timestamp::from_unix(1_750_000_000 + 73 * 3600);

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn key() -> ReleaseKey {
    ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse("2.4.68").unwrap())
}

fn record(round: VoteRound, pmc: &[&str]) -> VoteRecord {
    VoteRecord {
        revision: RevisionNumber::new(1).unwrap(),
        round,
        started_at: T0,
        started_by: uid("rm"),
        closes_at: T0.plus_hours(72),
        policy: VotePolicy::foundation_default(),
        binding_committee: CommitteeKey::parse("httpd").unwrap(),
        binding_voters: pmc.iter().copied().map(uid).collect(),
        signing_keys: BTreeSet::new(),
        outcome: None,
        resolved_at: None,
    }
}

fn ballot(voter: &str, value: VoteValue, minutes: i64) -> Ballot {
    Ballot {
        release: key(),
        round: VoteRound::Committee,
        voter: Voter::User(uid(voter)),
        value,
        comment: None,
        cast_at: T0.plus_seconds(minutes * 60),
        source: BallotSource::Platform,
    }
}

use VoteValue::{MinusOne, MinusZero, PlusOne, PlusZero, Zero};

#[test]
fn asf_rule_needs_three_binding_plus_ones_and_a_binding_majority() {
    let vote = record(VoteRound::Committee, &["a", "b", "c", "d", "e", "f", "g"]);
    let two = [ballot("a", PlusOne, 1), ballot("b", PlusOne, 2), ballot("x", PlusOne, 3), ballot("y", PlusOne, 4)];
    let t = tally(&two, &vote, CLOSED);
    assert_eq!((t.binding.plus_one, t.non_binding.plus_one, t.passes), (2, 2, false));

    let three = [ballot("a", PlusOne, 1), ballot("b", PlusOne, 2), ballot("c", PlusOne, 3)];
    assert!(tally(&three, &vote, CLOSED).passes);

    // 3 binding +1 against 3 binding -1: no majority.
    let mut tied = three.to_vec();
    tied.extend([ballot("d", MinusOne, 4), ballot("e", MinusOne, 5), ballot("f", MinusOne, 6)]);
    let t = tally(&tied, &vote, CLOSED);
    assert_eq!((t.binding.plus_one, t.binding.minus_one, t.passes), (3, 3, false));
    // One more binding +1 tips it; non-binding -1s never do.
    tied.push(ballot("g", PlusOne, 7));
    tied.extend((0..10).map(|i| ballot(&format!("n{i}"), MinusOne, 8 + i)));
    let t = tally(&tied, &vote, CLOSED);
    assert_eq!((t.binding.plus_one, t.binding.minus_one, t.non_binding.minus_one, t.passes), (4, 3, 10, true));
    // Zeros are counted but decide nothing.
    let zeros = [ballot("a", PlusZero, 1), ballot("b", Zero, 1), ballot("c", MinusZero, 1)];
    let t = tally(&zeros, &vote, CLOSED);
    assert_eq!((t.binding.plus_zero, t.binding.zero, t.binding.minus_zero, t.passes), (1, 1, 1, false));
}

#[test]
fn the_latest_ballot_of_each_voter_counts() {
    let vote = record(VoteRound::Committee, &["a", "b", "c"]);
    // "c" changes -1 to +1; "a" votes twice +1 (counted once); order in the slice does not matter.
    let ballots = [
        ballot("c", PlusOne, 30),
        ballot("a", PlusOne, 1),
        ballot("b", PlusOne, 2),
        ballot("c", MinusOne, 3),
        ballot("a", PlusOne, 40),
    ];
    let t = tally(&ballots, &vote, CLOSED);
    assert_eq!((t.binding.plus_one, t.binding.minus_one, t.passes), (3, 0, true));
    assert_eq!(t.votes.len(), 3);
    // And the other way round.
    let ballots = [ballot("a", PlusOne, 1), ballot("b", PlusOne, 2), ballot("c", PlusOne, 3), ballot("c", MinusOne, 4)];
    let t = tally(&ballots, &vote, CLOSED);
    assert_eq!((t.binding.plus_one, t.binding.minus_one, t.passes), (2, 1, false));
}

#[test]
fn binding_is_the_membership_snapshotted_at_vote_start() {
    // "d" joined the PMC after the vote started: not in the snapshot, not binding.
    let vote = record(VoteRound::Committee, &["a", "b"]);
    let ballots = [ballot("a", PlusOne, 1), ballot("b", PlusOne, 2), ballot("d", PlusOne, 3)];
    let t = tally(&ballots, &vote, CLOSED);
    assert_eq!((t.binding.plus_one, t.non_binding.plus_one, t.passes), (2, 1, false));
    assert!(t.votes[0].binding && t.votes[1].binding && !t.votes[2].binding);
    // Mail voters and anonymous voters never bind, whatever their name.
    let mut by_mail = ballot("a", PlusOne, 4);
    by_mail.voter = Voter::Email("a".into());
    let mut anonymous = ballot("a", PlusOne, 5);
    anonymous.voter = Voter::Anonymous("a".into());
    let t = tally(&[by_mail, anonymous], &vote, CLOSED);
    assert_eq!((t.binding.plus_one, t.non_binding.plus_one), (0, 2));
}

#[test]
fn ballots_of_another_round_are_not_counted() {
    let vote = record(VoteRound::Parent, &["a", "b", "c"]);
    let ballots = [ballot("a", PlusOne, 1), ballot("b", PlusOne, 2), ballot("c", PlusOne, 3)];
    let t = tally(&ballots, &vote, CLOSED);
    assert_eq!((t.binding.plus_one, t.passes), (0, false));
}

#[test]
fn the_pass_rule_is_configurable() {
    let mut vote = record(VoteRound::Committee, &["a", "b", "c"]);
    vote.policy.pass_rule = PassRule { min_binding_plus_one: 1, majority_of_binding: false };
    let ballots = [ballot("a", PlusOne, 1), ballot("b", MinusOne, 2), ballot("c", MinusOne, 3)];
    assert!(tally(&ballots, &vote, CLOSED).passes);
    vote.policy.pass_rule = PassRule::ASF;
    assert!(!tally(&ballots, &vote, CLOSED).passes);
}

#[test]
fn summary_lists_counts_and_verdict() {
    let vote = record(VoteRound::Committee, &["a", "b", "c"]);
    let ballots = [ballot("a", PlusOne, 1), ballot("b", PlusOne, 2), ballot("c", PlusOne, 3), ballot("x", MinusOne, 4)];
    let summary = tally(&ballots, &vote, CLOSED).summary();
    assert!(summary.contains("+1: 3 binding, 0 non-binding"), "{summary}");
    assert!(summary.contains("-1: 0 binding, 1 non-binding"), "{summary}");
    assert!(summary.contains("  -1 x\n"), "{summary}");
    assert!(summary.contains("The vote passes"), "{summary}");
}

#[test]
fn podlings_vote_twice() {
    let mut committee = Committee::new(CommitteeKey::parse("wayang").unwrap(), "Wayang");
    assert_eq!(next_round(&committee, VoteRound::Committee, true), None);
    committee.podling = true;
    committee.parent = Some(CommitteeKey::parse("incubator").unwrap());
    assert_eq!(next_round(&committee, VoteRound::Committee, true), Some(VoteRound::Parent));
    assert_eq!(next_round(&committee, VoteRound::Committee, false), None);
    assert_eq!(next_round(&committee, VoteRound::Parent, true), None);
}

fn parse(body: &str) -> ReplyVote {
    parse_reply(body, &BTreeSet::new())
}

fn value(body: &str) -> Option<VoteValue> {
    match parse(body) {
        ReplyVote::Vote { value, .. } => Some(value),
        _ => None,
    }
}

#[test]
fn plain_and_annotated_votes() {
    assert_eq!(value("+1"), Some(PlusOne));
    assert_eq!(value("+1 (binding)\n\nChecked signatures and checksums."), Some(PlusOne));
    assert_eq!(value("-1 (non-binding), the LICENSE is missing."), Some(MinusOne));
    assert_eq!(value("Here is my +1, thanks for driving this!"), Some(PlusOne));
    assert_eq!(value("+0\r\nno time to test"), Some(PlusZero));
    assert_eq!(value("-0: I would rather wait for the fix"), Some(MinusZero));
    assert_eq!(value("0 - no opinion"), Some(Zero));
    assert_eq!(value("+1!"), Some(PlusOne));
}

#[test]
fn numbers_are_not_votes() {
    assert_eq!(parse("I built 2.4.68 with -j2 and ran 1+1 tests"), ReplyVote::NoVote);
    assert_eq!(parse("+10 to the idea"), ReplyVote::NoVote);
    assert_eq!(parse("a delta of -1.5%"), ReplyVote::NoVote);
    // A number in a sentence does not void the line's vote.
    assert_eq!(value("+1, found 0 license issues"), Some(PlusOne));
}

#[test]
fn quoted_lines_do_not_vote() {
    let body = "> +1 from me\n> -1\n\nI agree with the above.";
    assert_eq!(parse(body), ReplyVote::NoVote);
    let body = "Sounds good.\n>> +1\n-1, the tarball has a .DS_Store";
    assert_eq!(value(body), Some(MinusOne));
}

#[test]
fn a_minus_one_in_the_signature_is_ignored() {
    let body = "+1 (binding)\n\n-- \nJane Doe\n-1 for bad PGP hygiene | jane@apache.org";
    assert_eq!(value(body), Some(PlusOne));
    let body = "Looks fine to me.\n--\n+1 is my favourite number\n";
    assert_eq!(parse(body), ReplyVote::NoVote);
}

#[test]
fn top_posted_reply_ignores_the_text_it_answers() {
    let body = "-1, the NOTICE year is wrong.\n\nOn Mon, 3 Mar 2025 at 10:00, Release Manager <rm@apache.org> wrote:\n+1 from me\nthe rest";
    assert_eq!(value(body), Some(MinusOne));
    // Wrapped header, without quote marks below it.
    let body =
        "Nothing from me yet.\nOn Tue, Mar 4, 2025 at 9:00 AM Someone Long-Name\n<someone@apache.org> wrote:\n+1\n";
    assert_eq!(parse(body), ReplyVote::NoVote);
    let body = "\n-----Original Message-----\nFrom: dev\n+1";
    assert_eq!(parse(body), ReplyVote::NoVote);
}

#[test]
fn a_line_with_conflicting_votes_does_not_count() {
    assert_eq!(parse("+1 -1"), ReplyVote::Conflicting);
    assert_eq!(parse("-1 for the source, +1 for the binaries"), ReplyVote::Conflicting);
    // The same mark twice is not a conflict.
    assert_eq!(value("+1 +1 great work"), Some(PlusOne));
    // A conflicting line is skipped and a clear line later counts.
    assert_eq!(value("+1 / -1 hmm\n\nOn reflection: -1"), Some(MinusOne));
}

#[test]
fn template_lines_are_ignored_and_ticked_boxes_count() {
    let template: BTreeSet<String> =
        ["+1 Release this package as Apache HTTP Server 2.4.68", "-1 Do not release this package because..."]
            .into_iter()
            .map(String::from)
            .collect();
    let body = "[ ] +1 Release this package\n[ ] 0 I don't care\n[X] -1 Do not release this package because...";
    assert_eq!(
        parse_reply(body, &template),
        ReplyVote::Vote { value: MinusOne, line: "[X] -1 Do not release this package because...".into() }
    );
    let pasted =
        "+1 Release this package as Apache HTTP Server 2.4.68\n-1 Do not release this package because...\n\n+1";
    assert_eq!(parse_reply(pasted, &template), ReplyVote::Vote { value: PlusOne, line: "+1".into() });
}

#[test]
fn oversized_bodies_are_bounded() {
    let mut body = "x".repeat(mail::MAX_BODY_BYTES);
    body.push_str("\n+1");
    assert_eq!(parse(&body), ReplyVote::NoVote);
    // A multi-byte character at the cut does not panic.
    let body = format!("{}é\n+1", "x".repeat(mail::MAX_BODY_BYTES - 1));
    assert_eq!(parse(&body), ReplyVote::NoVote);
}

fn message(id: &str, from: &str, subject: &str, body: &str, minutes: i64) -> MailMessage {
    MailMessage {
        message_id: id.into(),
        in_reply_to: (id != "root").then(|| "root".into()),
        from: from.into(),
        subject: subject.into(),
        body: body.into(),
        date: T0.plus_seconds(minutes * 60),
    }
}

#[test]
fn a_whole_messy_thread() {
    let call = "Hi all,\n\nPlease vote on releasing Apache HTTP Server 2.4.68.\n\n\
        [ ] +1 Release this package\n[ ] -1 Do not release this package because...\n\n\
        This vote is open for at least 72 hours.\n\n-- \nRM";
    let thread = vec![
        message("root", "rm@apache.org", "[VOTE] Release Apache HTTP Server 2.4.68", call, 0),
        message(
            "m1",
            "a@apache.org",
            "Re: [VOTE] Release Apache HTTP Server 2.4.68",
            "+1 (binding)\n\nVerified sigs.",
            10,
        ),
        // Quoting the call's template does not vote.
        message("m2", "b@apache.org", "Re: [VOTE]", "> [ ] +1 Release this package\n\n+1\n\n-- \nB\n-1 to tabs", 20),
        // A visitor from outside the foundation; a top-posted reply quoting a +1.
        message(
            "m3",
            "Dev@Example.ORG",
            "Re: [VOTE]",
            "-1 missing NOTICE\n\nOn Tue, a@apache.org wrote:\n> +1 (binding)",
            30,
        ),
        // "c" votes -1, then changes their mind.
        message("m4", "c@apache.org", "Re: [VOTE]", "-1, checksum mismatch", 40),
        message("m5", "c@apache.org", "Re: [VOTE]", "My mistake, changing my vote to +1.\nOn Wed, c wrote:\n> -1", 50),
        // A reply with only conflicting marks and one with none.
        message("m6", "d@apache.org", "Re: [VOTE]", "+1 for source -1 for binaries", 55),
        message("m7", "e@apache.org", "Re: [VOTE]", "Any news on the 2.4.67 regression?", 56),
        message("r", "rm@apache.org", "[RESULT] [VOTE] Release Apache HTTP Server 2.4.68", "+1: a, b, c", 60),
        // After the result: not counted.
        message("late", "f@apache.org", "Re: [VOTE]", "+1", 70),
    ];
    let ballots = ballots_from_thread(&key(), VoteRound::Committee, &thread, voter_for_address);
    let cast: Vec<(String, VoteValue)> = ballots
        .iter()
        .map(|b| {
            let who = match &b.voter {
                Voter::User(id) => id.as_str().to_owned(),
                Voter::Email(a) | Voter::Anonymous(a) => a.clone(),
            };
            (who, b.value)
        })
        .collect();
    let expected: Vec<(String, VoteValue)> =
        [("a", PlusOne), ("b", PlusOne), ("dev@example.org", MinusOne), ("c", MinusOne), ("c", PlusOne)]
            .into_iter()
            .map(|(w, v)| (w.to_owned(), v))
            .collect();
    assert_eq!(cast, expected);
    assert_eq!(ballots[0].source, BallotSource::Mail { message_id: "m1".into() });

    let t = tally(&ballots, &record(VoteRound::Committee, &["a", "b", "c"]), CLOSED);
    assert_eq!((t.binding.plus_one, t.binding.minus_one, t.non_binding.minus_one, t.passes), (3, 0, 1, true));
}

#[test]
fn addresses_map_to_people() {
    assert_eq!(voter_for_address("<Jane@Apache.org>"), Voter::User(uid("jane")));
    assert_eq!(voter_for_address("jane@example.org"), Voter::Email("jane@example.org".into()));
    assert_eq!(voter_for_address("Not.A.Uid@apache.org"), Voter::Email("not.a.uid@apache.org".into()));
}

#[test]
fn a_passing_count_only_passes_once_the_policy_lets_the_vote_close() {
    let vote = record(VoteRound::Committee, &["a", "b", "c"]);
    let three =
        [ballot("a", VoteValue::PlusOne, 1), ballot("b", VoteValue::PlusOne, 2), ballot("c", VoteValue::PlusOne, 3)];
    let early = tally(&three, &vote, T0.plus_hours(1));
    assert!(early.passes, "the counts meet the rule");
    assert_eq!(early.verdict, Verdict::WouldPassIfClosedNow);
    assert!(early.summary().contains("would pass if closed now; it is open until"), "{}", early.summary());
    assert_eq!(early.closes_at, T0.plus_hours(72));
    let late = tally(&three, &vote, CLOSED);
    assert_eq!(late.verdict, Verdict::Passes);
    assert!(late.summary().contains("The vote passes"), "{}", late.summary());
    let one = tally(&three[..1], &vote, T0.plus_hours(1));
    assert_eq!(one.verdict, Verdict::DoesNotPass);
}
