//! Votes cast as replies on the mailing-list thread.
//!
//! The rules of domain.md, applied to the reply's text:
//! - a vote is `+1`, `+0`, `-0` or `-1`, at the start of a line or after whitespace, and
//!   followed by the end of the line, whitespace or punctuation (`+10` and `-1.5` are not votes).
//!   An unsigned `0` counts only at the start of a line: in the middle of a sentence ("found 0
//!   issues") it is a number, and reading it as a vote would void the line's real vote;
//! - quoted lines (`>`) are ignored, and so is everything after a signature separator (`-- `), a
//!   quoted header (`On ... wrote:`, possibly wrapped over two lines) or an `-----Original
//!   Message-----` marker, which is how top-posted replies keep the text they answer;
//! - template lines are ignored: unticked boxes (`[ ] +1 ...`) and lines copied verbatim from the
//!   thread's first message. A ticked box (`[x] +1 ...`) is a vote;
//! - a line with two different votes does not count; the first line with a vote is the message's
//!   vote; a sender's later reply replaces their earlier one;
//! - the thread's first message is the call for votes and casts nothing, and a message whose
//!   subject carries `[RESULT]` ends counting.

use std::collections::BTreeSet;

use crate::model::{Ballot, BallotSource, ReleaseKey, VoteRound, VoteValue, Voter};
use crate::types::{Timestamp, UserId};

/// Bytes of a reply's body that are read; the rest is ignored.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest vote line kept as a ballot's comment.
pub const MAX_COMMENT_CHARS: usize = 200;

/// One message of a vote thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailMessage {
    pub message_id: String,
    /// `None` for the message that started the thread.
    pub in_reply_to: Option<String>,
    /// The sender's address, without display name.
    pub from: String,
    pub subject: String,
    pub body: String,
    pub date: Timestamp,
}

/// What one reply says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyVote {
    /// A vote, with the line it was read from.
    Vote { value: VoteValue, line: String },
    /// No line carries a vote.
    NoVote,
    /// Only lines with conflicting votes: nothing counts.
    Conflicting,
}

/// Reads the vote in a reply's body. `template` holds the lines of the call for votes, which are
/// ignored when copied into a reply.
pub fn parse_reply(body: &str, template: &BTreeSet<String>) -> ReplyVote {
    let body = truncate(body, MAX_BODY_BYTES);
    let lines: Vec<&str> = body.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut conflicting = false;
    for (i, raw) in lines.iter().enumerate() {
        if raw.trim_end() == "--" || raw.trim_start().starts_with("-----Original Message-----") {
            break;
        }
        if is_quote_header(raw, lines.get(i + 1).copied()) {
            break;
        }
        let line = raw.trim();
        if line.starts_with('>') || line.is_empty() || template.contains(line) {
            continue;
        }
        let line = match strip_box(line) {
            Some(BoxMark::Unticked) => continue,
            Some(BoxMark::Ticked(rest)) => rest.trim_start(),
            None => line,
        };
        let mut values = votes_in(line).collect::<BTreeSet<VoteValue>>().into_iter();
        match (values.next(), values.next()) {
            (None, _) => {}
            (Some(value), None) => {
                let line: String = raw.trim().chars().take(MAX_COMMENT_CHARS).collect();
                return ReplyVote::Vote { value, line };
            }
            (Some(_), Some(_)) => conflicting = true,
        }
    }
    if conflicting { ReplyVote::Conflicting } else { ReplyVote::NoVote }
}

/// The ballots cast by the replies of a vote thread, in thread order. `voter_for` maps a sender's
/// address to a voter (see [`voter_for_address`]). Messages are taken in date order; the thread's
/// first message casts nothing, and counting stops at a `[RESULT]` message.
pub fn ballots_from_thread(
    release: &ReleaseKey,
    round: VoteRound,
    messages: &[MailMessage],
    voter_for: impl Fn(&str) -> Voter,
) -> Vec<Ballot> {
    let mut ordered: Vec<&MailMessage> = messages.iter().collect();
    ordered.sort_by_key(|m| m.date);
    let template: BTreeSet<String> = ordered
        .iter()
        .filter(|m| m.in_reply_to.is_none())
        .flat_map(|m| m.body.lines().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()))
        .collect();
    let mut ballots = Vec::new();
    for message in ordered {
        if message.subject.to_ascii_uppercase().contains("[RESULT]") {
            break;
        }
        if message.in_reply_to.is_none() {
            continue;
        }
        if let ReplyVote::Vote { value, line } = parse_reply(&message.body, &template) {
            ballots.push(Ballot {
                release: release.clone(),
                round,
                voter: voter_for(&message.from),
                value,
                comment: Some(line),
                cast_at: message.date,
                source: BallotSource::Mail { message_id: message.message_id.clone() },
            });
        }
    }
    ballots
}

/// The foundation's mapping of addresses: `id@apache.org` is the person `id`; any other address
/// is an unmatched mail voter, compared lowercased.
pub fn voter_for_address(address: &str) -> Voter {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>').to_ascii_lowercase();
    if let Some(local) = address.strip_suffix("@apache.org")
        && let Ok(id) = UserId::parse(local)
    {
        return Voter::User(id);
    }
    Voter::Email(address)
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// True for `On <date>, <someone> wrote:`, on one line or wrapped over two.
fn is_quote_header(line: &str, next: Option<&str>) -> bool {
    let line = line.trim();
    if !line.starts_with("On ") {
        return false;
    }
    line.ends_with("wrote:")
        || next.is_some_and(|n| !n.trim_start().starts_with('>') && n.trim_end().ends_with("wrote:"))
}

enum BoxMark<'a> {
    Unticked,
    Ticked(&'a str),
}

/// A template checkbox at the start of a line: `[ ]` unticked, `[x]`, `[X]`, `[+]`, `[*]` ticked.
fn strip_box(line: &str) -> Option<BoxMark<'_>> {
    let rest = line.strip_prefix('[')?;
    let (inside, after) = rest.split_once(']')?;
    match inside.trim() {
        "" => Some(BoxMark::Unticked),
        "x" | "X" | "+" | "*" => Some(BoxMark::Ticked(after)),
        _ => None,
    }
}

/// The votes written on a line, by the rules in the module documentation.
fn votes_in(line: &str) -> impl Iterator<Item = VoteValue> + '_ {
    let bytes = line.as_bytes();
    let mut found = Vec::new();
    for (i, _) in line.char_indices() {
        let starts_token = i == 0 || bytes[i - 1].is_ascii_whitespace();
        if !starts_token {
            continue;
        }
        for value in
            [VoteValue::PlusOne, VoteValue::PlusZero, VoteValue::MinusZero, VoteValue::MinusOne, VoteValue::Zero]
        {
            let mark = value.as_str();
            if value == VoteValue::Zero && i > 0 {
                continue;
            }
            if line[i..].starts_with(mark) && ends_token(&line[i + mark.len()..]) {
                found.push(value);
                break;
            }
        }
    }
    found.into_iter()
}

fn ends_token(rest: &str) -> bool {
    let mut chars = rest.chars();
    match chars.next() {
        None => true,
        Some(c) if c.is_whitespace() => true,
        // A decimal point followed by a digit makes a number, not a vote.
        Some('.' | ',') => !chars.next().is_some_and(|n| n.is_ascii_digit()),
        Some(c) => matches!(c, '!' | ';' | ':' | '(' | ')' | '?'),
    }
}
