//! Conditional requests and byte ranges (RFC 9110, sections 13 and 14), as pure functions.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use axum::http::header::{IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, RANGE};

/// Longest `Range` header considered; a longer one is ignored (the whole file is sent).
const MAX_RANGE_HEADER: usize = 200;

/// What to send of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    /// The whole file (no range, an ignored range, or several ranges).
    Whole,
    /// The bytes `start..=end`.
    Range { start: u64, end: u64 },
    /// The range asked for is outside the file: 416.
    Unsatisfiable,
}

/// True if the request's validators say the client's copy is current, so the answer is 304.
/// `If-None-Match` wins over `If-Modified-Since` when both are present.
pub(super) fn not_modified(headers: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    if let Some(value) = headers.get(IF_NONE_MATCH) {
        return value.to_str().is_ok_and(|list| none_match_hits(list, etag));
    }
    headers
        .get(IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .is_some_and(|since| seconds(modified) <= seconds(since))
}

/// True if the request's `If-None-Match` names `etag` (for answers without a date).
pub(super) fn not_modified_by_tag(headers: &HeaderMap, etag: &str) -> bool {
    headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|list| none_match_hits(list, etag))
}

/// `If-None-Match`: `*`, or a list of entity tags compared weakly (a `W/` prefix is ignored).
fn none_match_hits(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// The part of a file of `len` bytes to send for the request's `Range` (and `If-Range`).
pub(super) fn part(headers: &HeaderMap, len: u64, etag: &str, modified: SystemTime) -> Part {
    let Some(range) = headers.get(RANGE).and_then(|v| v.to_str().ok()) else {
        return Part::Whole;
    };
    if let Some(condition) = headers.get(IF_RANGE)
        && !condition.to_str().is_ok_and(|c| if_range_holds(c.trim(), etag, modified))
    {
        return Part::Whole;
    }
    parse_range(range, len)
}

/// `If-Range`: an entity tag compared strongly, or the exact `Last-Modified` date.
fn if_range_holds(condition: &str, etag: &str, modified: SystemTime) -> bool {
    if condition.starts_with('"') || condition.starts_with("W/") {
        return condition == etag;
    }
    httpdate::parse_http_date(condition).is_ok_and(|date| seconds(date) == seconds(modified))
}

/// Parses `bytes=a-b`, `bytes=a-` or `bytes=-n` for a file of `len` bytes. Several ranges and
/// anything malformed give [`Part::Whole`], as the RFC allows (a `Range` may be ignored).
pub(super) fn parse_range(value: &str, len: u64) -> Part {
    if value.len() > MAX_RANGE_HEADER {
        return Part::Whole;
    }
    let Some((unit, spec)) = value.split_once('=') else {
        return Part::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return Part::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Part::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    match (number(first), number(last)) {
        // bytes=-n: the last n bytes.
        (None, Some(suffix)) if first.is_empty() => {
            if suffix == 0 || len == 0 {
                Part::Unsatisfiable
            } else {
                Part::Range { start: len.saturating_sub(suffix), end: len - 1 }
            }
        }
        // bytes=a-
        (Some(start), None) if last.is_empty() => {
            if start >= len {
                Part::Unsatisfiable
            } else {
                Part::Range { start, end: len - 1 }
            }
        }
        // bytes=a-b
        (Some(start), Some(end)) if start <= end => {
            if start >= len {
                Part::Unsatisfiable
            } else {
                Part::Range { start, end: end.min(len - 1) }
            }
        }
        _ => Part::Whole,
    }
}

/// A decimal number; one too large for `u64` counts as `u64::MAX` (it is past any file's end).
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

/// Whole seconds since the epoch: HTTP dates have no finer resolution.
fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const TAG: &str = "\"sha512-abc\"";

    fn headers(pairs: &[(axum::http::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Part::Range { start: 0, end: 9 });
        assert_eq!(parse_range("bytes=90-200", 100), Part::Range { start: 90, end: 99 });
        assert_eq!(parse_range("bytes=10-", 100), Part::Range { start: 10, end: 99 });
        assert_eq!(parse_range("bytes=-10", 100), Part::Range { start: 90, end: 99 });
        assert_eq!(parse_range("bytes=-1000", 100), Part::Range { start: 0, end: 99 });
        assert_eq!(parse_range("BYTES = 5-5", 100), Part::Range { start: 5, end: 5 });
        assert_eq!(parse_range("bytes=99999999999999999999999-", 100), Part::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-99999999999999999999999", 100), Part::Range { start: 0, end: 99 });
        assert_eq!(parse_range("bytes=100-", 100), Part::Unsatisfiable);
        assert_eq!(parse_range("bytes=100-200", 100), Part::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Part::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Part::Unsatisfiable);
        assert_eq!(parse_range("bytes=-5", 0), Part::Unsatisfiable);
        for ignored in ["bytes=0-1,5-6", "bytes=5-1", "bytes=-", "bytes=a-b", "items=0-1", "bytes 0-1", "bytes=+1-2"] {
            assert_eq!(parse_range(ignored, 100), Part::Whole, "{ignored}");
        }
        assert_eq!(parse_range(&format!("bytes=0-{}", "9".repeat(300)), 100), Part::Whole);
    }

    #[test]
    fn if_none_match_lists_star_and_weak_tags() {
        let modified = at(1_000_000);
        assert!(not_modified(&headers(&[(IF_NONE_MATCH, TAG)]), TAG, modified));
        assert!(not_modified(&headers(&[(IF_NONE_MATCH, "\"x\", \"sha512-abc\"")]), TAG, modified));
        assert!(not_modified(&headers(&[(IF_NONE_MATCH, "W/\"sha512-abc\"")]), TAG, modified));
        assert!(not_modified(&headers(&[(IF_NONE_MATCH, "*")]), TAG, modified));
        assert!(!not_modified(&headers(&[(IF_NONE_MATCH, "\"sha512-abd\"")]), TAG, modified));
        assert!(!not_modified(&HeaderMap::new(), TAG, modified));
    }

    #[test]
    fn if_modified_since_only_without_if_none_match() {
        let modified = at(1_000_000);
        let same = httpdate::fmt_http_date(modified);
        let earlier = httpdate::fmt_http_date(at(999_999));
        assert!(not_modified(&headers(&[(IF_MODIFIED_SINCE, &same)]), TAG, modified));
        assert!(!not_modified(&headers(&[(IF_MODIFIED_SINCE, &earlier)]), TAG, modified));
        assert!(!not_modified(&headers(&[(IF_MODIFIED_SINCE, "yesterday")]), TAG, modified));
        let both = headers(&[(IF_NONE_MATCH, "\"other\""), (IF_MODIFIED_SINCE, &same)]);
        assert!(!not_modified(&both, TAG, modified));
    }

    #[test]
    fn if_range_needs_the_same_strong_tag_or_date() {
        let modified = at(1_000_000);
        let range = |condition: &str| part(&headers(&[(RANGE, "bytes=0-0"), (IF_RANGE, condition)]), 10, TAG, modified);
        assert_eq!(range(TAG), Part::Range { start: 0, end: 0 });
        assert_eq!(range(&httpdate::fmt_http_date(modified)), Part::Range { start: 0, end: 0 });
        assert_eq!(range("\"old\""), Part::Whole);
        assert_eq!(range("W/\"sha512-abc\""), Part::Whole);
        assert_eq!(range(&httpdate::fmt_http_date(at(5))), Part::Whole);
        assert_eq!(part(&HeaderMap::new(), 10, TAG, modified), Part::Whole);
    }
}
