//! Release versions and their total order.
//!
//! # The order
//!
//! `latest` must pick what a person would call the newest release among real ASF version
//! strings (`2.4.68`, `1.0.0-rc1`, `3.0.0-M1`, `25.0.0`, `1.2.0-incubating`). The order is:
//!
//! 1. Everything after the first `+` is *build metadata*; it is compared only as a tie-breaker.
//! 2. The rest is split into *tokens*: runs of digits (numbers) and runs of letters (words);
//!    `.` and `-` only separate tokens, and a change between digits and letters separates too
//!    (`rc1` is `rc`, `1`).
//! 3. Tokens are compared left to right. Numbers compare by value (`68 > 9`). A number is greater
//!    than a word (`1.0.1 > 1.0.rc1`). Words compare by their rank, case-insensitively:
//!    `alpha`/`a` < `beta`/`b` < `milestone`/`m` < `rc`/`cr` < `snapshot` < any other word <
//!    the release itself (`ga`, `final`, `release`) < `sp`. Two other words compare alphabetically.
//! 4. When one version runs out of tokens, the other is compared as if the missing token were the
//!    release itself: a further number makes it greater (`1.0.0.1 > 1.0.0`), a pre-release word makes
//!    it smaller (`1.0.0-rc1 < 1.0.0`, `3.0.0-M1 < 3.0.0`).
//! 5. Versions equal so far (`1.0` and `1.0.0`, `1.0-RC1` and `1.0-rc1`) are ordered by their build
//!    metadata and finally by their exact text, so the order is total and agrees with equality.

use std::cmp::Ordering;
use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

/// Longest version accepted.
pub const MAX_VERSION_LEN: usize = 100;

/// Why a version was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("version is empty")]
    Empty,
    #[error("version {0:?} is longer than {MAX_VERSION_LEN} characters")]
    TooLong(String),
    #[error("version {value:?} contains {found:?}; only letters, digits, '.', '+' and '-' are allowed")]
    BadCharacter { value: String, found: char },
    #[error("version {0:?} must start and end with a letter or digit")]
    BadEnds(String),
    #[error("version {0:?} has two punctuation characters in a row")]
    DoubledPunctuation(String),
    #[error("\"latest\" is reserved and cannot be a version")]
    Reserved,
}

/// A release version, validated as domain.md says, ordered as the `types::version` module docs describe.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Version(String);

impl Version {
    /// Parses a version: starts and ends with a letter or digit, uses only ASCII letters, digits,
    /// `.`, `+` and `-`, no two punctuation characters in a row, not `latest`, at most
    /// [`MAX_VERSION_LEN`] characters.
    pub fn parse(value: &str) -> Result<Self, VersionError> {
        if value.is_empty() {
            return Err(VersionError::Empty);
        }
        if value.len() > MAX_VERSION_LEN {
            return Err(VersionError::TooLong(value.to_owned()));
        }
        if let Some(found) = value.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'))) {
            return Err(VersionError::BadCharacter { value: value.to_owned(), found });
        }
        let bytes = value.as_bytes();
        if !bytes[0].is_ascii_alphanumeric() || !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
            return Err(VersionError::BadEnds(value.to_owned()));
        }
        if bytes.windows(2).any(|w| !w[0].is_ascii_alphanumeric() && !w[1].is_ascii_alphanumeric()) {
            return Err(VersionError::DoubledPunctuation(value.to_owned()));
        }
        if value.eq_ignore_ascii_case("latest") {
            return Err(VersionError::Reserved);
        }
        Ok(Self(value.to_owned()))
    }

    /// The version as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A text whose byte order (SQL `COLLATE "C"`, SQLite's default) is exactly this type's
    /// order, so that storage can sort and paginate versions with an index.
    ///
    /// Each token is encoded self-delimiting with a class byte that orders classes as
    /// `cmp_tokens` does; the release itself (the end of a version) has the class of the
    /// release words, and every part is padded with it to a fixed token count, which is how
    /// "compared as if the missing token were the release itself" becomes plain byte order.
    pub fn sort_key(&self) -> String {
        let (main, build) = self.split_build();
        let mut key = String::with_capacity(3 * MAX_VERSION_LEN + self.0.len());
        encode_part(main, &mut key);
        encode_part(build, &mut key);
        key.push_str(&self.0);
        key
    }

    fn split_build(&self) -> (&str, &str) {
        self.0.split_once('+').unwrap_or((&self.0, ""))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// Digits with leading zeros removed (possibly empty for zero).
    Number(&'a str),
    Word(&'a str),
}

fn tokens(s: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if !c.is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let digit = c.is_ascii_digit();
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() && bytes[i].is_ascii_digit() == digit {
            i += 1;
        }
        let run = &s[start..i];
        out.push(if digit { Token::Number(run.trim_start_matches('0')) } else { Token::Word(run) });
    }
    out
}

/// Rank of a word; the release itself is [`RELEASE_RANK`].
fn word_rank(word: &str) -> u8 {
    const RANKS: &[(&str, u8)] = &[
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("milestone", 3),
        ("m", 3),
        ("rc", 4),
        ("cr", 4),
        ("snapshot", 5),
        ("ga", RELEASE_RANK),
        ("final", RELEASE_RANK),
        ("release", RELEASE_RANK),
        ("sp", 8),
    ];
    RANKS.iter().find(|(w, _)| word.eq_ignore_ascii_case(w)).map_or(OTHER_RANK, |(_, r)| *r)
}
const OTHER_RANK: u8 = 6;
const RELEASE_RANK: u8 = 7;

/// Class bytes of the sort key: word ranks map to `A`+rank, numbers above every word.
const KEY_RELEASE: char = 'H';
const KEY_NUMBER: char = 'J';
/// Ends an "other" word's text; below every letter.
const KEY_WORD_END: char = '!';

fn encode_part(part: &str, key: &mut String) {
    let tokens = tokens(part);
    for token in &tokens {
        match *token {
            Token::Number(digits) => {
                key.push(KEY_NUMBER);
                let _ = write!(key, "{:03}", digits.len());
                key.push_str(digits);
            }
            Token::Word(word) => {
                let rank = word_rank(word);
                key.push(char::from(b'A' + rank));
                if rank == OTHER_RANK {
                    key.push_str(&word.to_ascii_lowercase());
                    key.push(KEY_WORD_END);
                }
            }
        }
    }
    // Pad with the release itself, up to the most tokens a version can have.
    for _ in tokens.len()..MAX_VERSION_LEN {
        key.push(KEY_RELEASE);
    }
}

fn cmp_numbers(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn cmp_tokens(a: Token<'_>, b: Token<'_>) -> Ordering {
    match (a, b) {
        (Token::Number(x), Token::Number(y)) => cmp_numbers(x, y),
        (Token::Number(_), Token::Word(_)) => Ordering::Greater,
        (Token::Word(_), Token::Number(_)) => Ordering::Less,
        (Token::Word(x), Token::Word(y)) => {
            let (rx, ry) = (word_rank(x), word_rank(y));
            rx.cmp(&ry).then_with(|| {
                if rx == OTHER_RANK { x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()) } else { Ordering::Equal }
            })
        }
    }
}

/// Compares a token against the end of the other version (the release itself).
fn cmp_to_end(t: Token<'_>) -> Ordering {
    match t {
        Token::Number(_) => Ordering::Greater,
        Token::Word(w) => word_rank(w).cmp(&RELEASE_RANK),
    }
}

fn cmp_main(left: &str, right: &str) -> Ordering {
    let (left, right) = (tokens(left), tokens(right));
    let mut index = 0;
    loop {
        let ord = match (left.get(index), right.get(index)) {
            (None, None) => return Ordering::Equal,
            (Some(l), Some(r)) => cmp_tokens(*l, *r),
            (Some(l), None) => cmp_to_end(*l),
            (None, Some(r)) => cmp_to_end(*r).reverse(),
        };
        if ord != Ordering::Equal {
            return ord;
        }
        index += 1;
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let (main_a, build_a) = self.split_build();
        let (main_b, build_b) = other.split_build();
        cmp_main(main_a, main_b).then_with(|| cmp_main(build_a, build_b)).then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Version {
    type Error = VersionError;
    fn try_from(value: String) -> Result<Self, VersionError> {
        Self::parse(&value)
    }
}

impl From<Version> for String {
    fn from(value: Version) -> String {
        value.0
    }
}

impl std::str::FromStr for Version {
    type Err = VersionError;
    fn from_str(value: &str) -> Result<Self, VersionError> {
        Self::parse(value)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn real_asf_versions_in_order() {
        let ordered = [
            "1.0.0-alpha1",
            "1.0.0-beta2",
            "1.0.0-M1",
            "1.0.0-rc1",
            "1.0.0-rc2",
            "1.0.0",
            "1.0.1",
            "1.11.1",
            "1.14.5",
            "2.4.9",
            "2.4.68",
            "3.0.0-M1",
            "3.0.0",
            "25.0.0",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        let mut shuffled: Vec<Version> = ordered.iter().rev().map(|s| v(s)).collect();
        shuffled.sort();
        assert_eq!(shuffled.iter().map(Version::as_str).collect::<Vec<_>>(), ordered);
        assert_eq!(shuffled.iter().max().unwrap().as_str(), "25.0.0");
    }

    #[test]
    fn specific_cases() {
        assert!(v("2.4.68") > v("2.4.9"));
        assert!(v("1.0.0-rc1") < v("1.0.0"));
        assert!(v("3.0.0-M1") < v("3.0.0"));
        assert!(v("1.0.0.1") > v("1.0.0"));
        assert!(v("1.0.0-SNAPSHOT") < v("1.0.0"));
        assert!(v("1.0.0-incubating") > v("1.0.0-rc1-incubating"));
        assert!(v("1.0.0-ga") > v("1.0.0-rc3"));
        assert!(v("1.0-sp1") > v("1.0"));
        assert!(v("10") > v("9"));
        assert!(v("1.0.010") > v("1.0.9"));
        assert!(v("99999999999999999999999999.1") > v("99999999999999999999999998.9"));
        // Equal by tokens, still a total order.
        assert!(v("1.0") < v("1.0.0"));
        assert_ne!(v("1.0").cmp(&v("1.0.0")), Ordering::Equal);
        assert!(v("1.0.0+build1") < v("1.0.0+build2"));
        assert!(v("1.0.0+build2") < v("1.0.1"));
    }

    #[test]
    fn validation() {
        assert!(Version::parse("2.4.68").is_ok());
        assert!(Version::parse("1.0.0-rc1+b.7").is_ok());
        assert_eq!(Version::parse(""), Err(VersionError::Empty));
        assert_eq!(Version::parse("latest"), Err(VersionError::Reserved));
        assert_eq!(Version::parse("LATEST"), Err(VersionError::Reserved));
        assert!(matches!(Version::parse("1..0"), Err(VersionError::DoubledPunctuation(_))));
        assert!(matches!(Version::parse("1.-0"), Err(VersionError::DoubledPunctuation(_))));
        assert!(matches!(Version::parse(".1"), Err(VersionError::BadEnds(_))));
        assert!(matches!(Version::parse("1.0-"), Err(VersionError::BadEnds(_))));
        assert!(matches!(Version::parse("1.0/2"), Err(VersionError::BadCharacter { found: '/', .. })));
        assert!(matches!(Version::parse("1.0_2"), Err(VersionError::BadCharacter { found: '_', .. })));
        assert!(matches!(Version::parse("1 0"), Err(VersionError::BadCharacter { found: ' ', .. })));
        assert!(matches!(Version::parse(&"1".repeat(101)), Err(VersionError::TooLong(_))));
    }

    fn version_strategy() -> impl Strategy<Value = Version> {
        let part = prop_oneof![
            "[0-9]{1,3}",
            Just("rc".to_owned()),
            Just("M".to_owned()),
            Just("alpha".to_owned()),
            Just("beta".to_owned()),
            Just("SNAPSHOT".to_owned()),
            Just("incubating".to_owned()),
            Just("ga".to_owned()),
            Just("Final".to_owned()),
            Just("sp".to_owned()),
            "0[0-9]{1,2}",
            "[a-z]{1,4}",
            "[0-9]{1,2}\\+[a-z0-9]{1,3}",
        ];
        (prop::collection::vec((part, prop_oneof![Just("."), Just("-"), Just("")]), 1..6)).prop_filter_map(
            "valid version",
            |parts| {
                let mut s = String::new();
                for (p, sep) in parts {
                    if !s.is_empty() {
                        s.push_str(if sep.is_empty() { "." } else { sep });
                    }
                    s.push_str(&p);
                }
                Version::parse(&s).ok()
            },
        )
    }

    proptest! {
        #[test]
        fn order_is_total_and_consistent(a in version_strategy(), b in version_strategy(), c in version_strategy()) {
            // Antisymmetric and consistent with equality.
            prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
            prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
            // Transitive.
            if a <= b && b <= c {
                prop_assert!(a <= c);
            }
        }

        #[test]
        fn sort_key_orders_like_the_versions(a in version_strategy(), b in version_strategy()) {
            prop_assert_eq!(a.sort_key().cmp(&b.sort_key()), a.cmp(&b));
        }

        #[test]
        fn a_further_number_is_newer(a in version_strategy(), n in 0u32..1000) {
            let longer = Version::parse(&format!("{a}.{n}")).unwrap();
            if !a.as_str().contains('+') {
                prop_assert!(longer > a);
            }
        }

        #[test]
        fn a_pre_release_is_older(a in "[1-9][0-9]{0,2}(\\.[0-9]{1,3}){0,3}", q in prop_oneof![Just("rc1"), Just("M2"), Just("alpha"), Just("beta-3")]) {
            let release = Version::parse(&a).unwrap();
            let pre = Version::parse(&format!("{a}-{q}")).unwrap();
            prop_assert!(pre < release);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Version::parse(&s);
        }
    }
}
