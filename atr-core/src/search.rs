//! Search: the text people type into the search box, made into bounded, safe terms, and the
//! hits the search index answers.
//!
//! [`SearchTerms::parse`] is the one place user text becomes terms. A term holds only letters
//! and digits, with `.`, `-`, `_`, `@` and `+` inside (never at an end), in lower case, so no
//! character of a query language (`"`, `*`, `:`, `(`, `'`, `\`, NUL...) ever reaches storage:
//! those characters separate terms. An identifier is recognized whole: a fingerprint written in
//! groups (`A93D 62EC ...`) or with `0x` is one term, its hex digits. Every term matches as a
//! prefix (`http` finds `httpd`, `2.4` finds `2.4.68`), and a hit matches every term.

use std::fmt;

use crate::model::ReleaseKey;
use crate::types::{CveId, Fingerprint, KeyId, ProjectKey};

/// Longest search text accepted, in bytes.
pub const MAX_SEARCH_TEXT_LEN: usize = 200;
/// Most terms a search text may have.
pub const MAX_SEARCH_TERMS: usize = 8;
/// Most hits of each kind a search answers.
pub const MAX_SEARCH_HITS: u32 = 50;

/// Why a search text is refused, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("type something to search for")]
    Empty,
    #[error("the search text is {0} bytes long; at most {MAX_SEARCH_TEXT_LEN} are searched")]
    TooLong(usize),
    #[error("the search text has {0} words; at most {MAX_SEARCH_TERMS} are searched")]
    TooManyTerms(usize),
    #[error("the search text has no letter or digit to search for")]
    NoTerms,
}

/// Characters that may stand inside a term, between letters and digits.
fn inner(c: char) -> bool {
    matches!(c, '.' | '-' | '_' | '@' | '+')
}

/// The terms of a search: 1 to [`MAX_SEARCH_TERMS`] distinct, lower case, each of letters and
/// digits with `.`, `-`, `_`, `@` or `+` between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms(Vec<String>);

impl SearchTerms {
    /// Makes terms of `text`. Refuses a blank text, one over [`MAX_SEARCH_TEXT_LEN`] bytes, one
    /// with more than [`MAX_SEARCH_TERMS`] terms and one with no letter or digit at all.
    pub fn parse(text: &str) -> Result<Self, SearchError> {
        if text.len() > MAX_SEARCH_TEXT_LEN {
            return Err(SearchError::TooLong(text.len()));
        }
        let text = text.trim();
        if text.is_empty() {
            return Err(SearchError::Empty);
        }
        // A fingerprint, however it is written (groups of four, `0x`), is one term.
        if let Ok(fingerprint) = Fingerprint::parse(text) {
            return Ok(Self(vec![fingerprint.to_hex().to_ascii_lowercase()]));
        }
        let mut terms: Vec<String> = Vec::new();
        for piece in text.split(|c: char| !(c.is_alphanumeric() || inner(c))) {
            let piece = piece.trim_matches(inner);
            if piece.is_empty() {
                continue;
            }
            // A key id or fingerprint with `0x` is its hex digits.
            let term = match (KeyId::parse(piece), Fingerprint::parse(piece)) {
                (Ok(id), _) => id.to_hex().to_ascii_lowercase(),
                (_, Ok(fingerprint)) => fingerprint.to_hex().to_ascii_lowercase(),
                _ => piece.to_lowercase(),
            };
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
        match terms.len() {
            0 => Err(SearchError::NoTerms),
            n if n > MAX_SEARCH_TERMS => Err(SearchError::TooManyTerms(n)),
            _ => Ok(Self(terms)),
        }
    }

    /// The terms, in the order typed.
    pub fn terms(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for SearchTerms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

/// What a search found: a project, a release, a signing key or a CVE record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SearchSubject {
    Project(ProjectKey),
    Release(ReleaseKey),
    Key(Fingerprint),
    Cve(CveId),
}

/// The kinds of [`SearchSubject`], in the order a result page shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SearchKind {
    Project,
    Release,
    Key,
    Cve,
}

impl SearchKind {
    /// Every kind, in display order.
    pub const ALL: [SearchKind; 4] = [SearchKind::Project, SearchKind::Release, SearchKind::Key, SearchKind::Cve];

    /// The kind's name, as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchKind::Project => "project",
            SearchKind::Release => "release",
            SearchKind::Key => "key",
            SearchKind::Cve => "cve",
        }
    }
}

impl SearchSubject {
    pub fn kind(&self) -> SearchKind {
        match self {
            SearchSubject::Project(_) => SearchKind::Project,
            SearchSubject::Release(_) => SearchKind::Release,
            SearchSubject::Key(_) => SearchKind::Key,
            SearchSubject::Cve(_) => SearchKind::Cve,
        }
    }
}

/// One hit: what was found and a short label for it (a project's name, a release's stage or
/// phase, a key's first user id, a CVE's title), at most [`MAX_LABEL_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub subject: SearchSubject,
    pub label: String,
}

/// Longest label of a hit, in characters.
pub const MAX_LABEL_CHARS: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        SearchTerms::parse(text).unwrap().terms().to_vec()
    }

    #[test]
    fn words_become_lower_case_terms_without_query_syntax() {
        assert_eq!(terms("Apache  HTTPD"), ["apache", "httpd"]);
        assert_eq!(terms("2.4"), ["2.4"]);
        assert_eq!(terms("cve-2024-1234"), ["cve-2024-1234"]);
        assert_eq!(terms("\"httpd\"* OR (tomcat) ^x:y 'a' \\b"), ["httpd", "or", "tomcat", "x", "y", "a", "b"]);
        assert_eq!(terms("jane@apache.org."), ["jane@apache.org"]);
        assert_eq!(terms("-http- ..2.4.. http"), ["http", "2.4"]);
        assert_eq!(terms("nul\0byte"), ["nul", "byte"]);
        for text in SearchTerms::parse("a\"b*c:d-e(f)^'i\\j\0k").unwrap().terms() {
            assert!(text.chars().all(|c| c.is_alphanumeric() || inner(c)), "{text}");
        }
    }

    #[test]
    fn identifiers_are_one_term() {
        let hex = "a93d62ec00112233445566778899aabbccddeeff";
        assert_eq!(terms("A93D 62EC 0011 2233 4455  6677 8899 AABB CCDD EEFF"), [hex]);
        assert_eq!(terms(&format!("0x{}", hex.to_uppercase())), [hex]);
        assert_eq!(terms("0xCCDDEEFF00112233"), ["ccddeeff00112233"]);
        assert_eq!(terms("CCDDEEFF00112233"), ["ccddeeff00112233"]);
        assert_eq!(terms("CVE-2024-1234"), ["cve-2024-1234"]);
    }

    #[test]
    fn bounds_are_refused_in_words() {
        assert_eq!(SearchTerms::parse("   "), Err(SearchError::Empty));
        assert_eq!(SearchTerms::parse("\"*:()"), Err(SearchError::NoTerms));
        assert_eq!(SearchTerms::parse(&"a".repeat(201)), Err(SearchError::TooLong(201)));
        assert!(SearchTerms::parse(&"a".repeat(200)).is_ok());
        assert_eq!(SearchTerms::parse("a b c d e f g h i"), Err(SearchError::TooManyTerms(9)));
        assert_eq!(terms("a a a a a a a a a"), ["a"], "repeated words count once");
        let message = SearchError::TooLong(300).to_string();
        assert!(message.contains("300") && message.contains("200"), "{message}");
    }
}
