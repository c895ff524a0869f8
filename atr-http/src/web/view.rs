//! Words and numbers as pages show them.

use std::time::{Duration, UNIX_EPOCH};

use atr_core::model::CheckStatus;
use serde_json::Value;

/// Bytes as lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// A time as an HTTP date (`Wed, 02 Dec 2026 05:18:32 GMT`).
pub(crate) fn time(unix: i64) -> String {
    let seconds = u64::try_from(unix).unwrap_or(0);
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(seconds))
}

/// A size in bytes, in the largest unit that keeps it above 1 (`1.2 MiB`), with the exact byte
/// count for small files.
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes;
    let mut unit = 0;
    // Tenths of the unit, computed in integers.
    let mut tenths = 0;
    while value >= 1024 * 1024 && unit + 1 < UNITS.len() {
        value /= 1024;
        unit += 1;
    }
    if value >= 1024 {
        tenths = (value % 1024) * 10 / 1024;
        value /= 1024;
    }
    format!("{value}.{tenths} {}", UNITS[unit])
}

/// How long until `closes_at`, in words, or that the time is up.
pub(crate) fn time_left(closes_at: i64, now: i64) -> String {
    let left = closes_at.saturating_sub(now);
    if left <= 0 {
        return "the minimum voting time is over".to_owned();
    }
    let (days, hours, minutes) = (left / 86_400, (left % 86_400) / 3600, (left % 3600) / 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} day{}", if days == 1 { "" } else { "s" }));
    }
    if hours > 0 {
        parts.push(format!("{hours} hour{}", if hours == 1 { "" } else { "s" }));
    }
    if days == 0 && minutes > 0 {
        parts.push(format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" }));
    }
    if parts.is_empty() {
        parts.push("less than a minute".to_owned());
    }
    format!("{} left", parts.join(" "))
}

/// A check status's name and how severe it is (lower first on a page).
pub(crate) fn status(status: CheckStatus) -> (&'static str, u8) {
    match status {
        CheckStatus::Blocker => ("blocker", 0),
        CheckStatus::Exception => ("exception", 1),
        CheckStatus::Warning => ("warning", 2),
        CheckStatus::Note => ("note", 3),
        CheckStatus::Success => ("success", 4),
    }
}

/// A wire value in words: `{"type": "vote_started", "revision": 3}` becomes
/// (`vote started`, `revision 3`).
pub(crate) fn tagged(value: &Value) -> (String, String) {
    let Value::Object(map) = value else {
        return (plain(value), String::new());
    };
    let name = map.get("type").map(plain).unwrap_or_default().replace('_', " ");
    let details: Vec<String> = map
        .iter()
        .filter(|(key, _)| key.as_str() != "type")
        .map(|(key, value)| format!("{}: {}", key.replace('_', " "), plain(value)))
        .collect();
    (name, details.join(", "))
}

/// A JSON value as short text: strings bare, objects as `key value` pairs.
pub(crate) fn plain(value: &Value) -> String {
    match value {
        Value::Null => "none".to_owned(),
        Value::String(s) => s.clone(),
        Value::Object(map) => {
            map.iter().map(|(k, v)| format!("{} {}", k.replace('_', " "), plain(v))).collect::<Vec<_>>().join(", ")
        }
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1024), "1.0 KiB");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(10 * 1024 * 1024 + 512 * 1024), "10.5 MiB");
        assert_eq!(size(3 << 30), "3.0 GiB");
    }

    #[test]
    fn time_left_in_words() {
        assert_eq!(time_left(100, 200), "the minimum voting time is over");
        assert_eq!(time_left(72 * 3600, 0), "3 days left");
        assert_eq!(time_left(90 * 60, 0), "1 hour 30 minutes left");
        assert_eq!(time_left(30, 0), "less than a minute left");
    }

    #[test]
    fn tagged_values_in_words() {
        let value = serde_json::json!({"type": "vote_started", "revision": 3, "round": "committee"});
        assert_eq!(tagged(&value), ("vote started".to_owned(), "revision: 3, round: committee".to_owned()));
        assert_eq!(plain(&serde_json::json!({"user": "rm"})), "user rm");
    }
}
