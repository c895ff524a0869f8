//! Text that people read in check results: control characters escaped, lengths bounded, long lists
//! summarised with a count.
//!
//! Every [`Finding`](super::Finding) goes through [`escape`] and [`bound`] when it is made, so no
//! checker can put a raw header byte, a newline or a 3,000-character list into a result. The
//! helpers here are for the checkers that want to say it better than a cut would: [`list`] names
//! the first few items of a list and counts the rest, [`shorten`] keeps the start and end of a long
//! path, and [`detail`] makes a library's error text fit inside a sentence.

use std::fmt::Write as _;

/// Most characters of a finding's message.
pub const MAX_MESSAGE: usize = 600;
/// Most characters of a finding's archive member name.
pub const MAX_MEMBER: usize = 1024;
/// Most characters of a library's error text quoted inside a message.
pub const MAX_DETAIL: usize = 200;
/// How many items [`list`] names before it counts the rest.
pub const LISTED: usize = 5;

/// Whether `c` would change how a message reads or prints: a control character (C0, DEL, C1) or
/// a Unicode bidirectional control, which can make text display in another order than it is.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character written as an escape (`\n`, `\t`, `\r`, `\0`, `\x1b`,
/// `\u{202e}`), so a message is one line that prints as it reads. Other characters are kept.
pub fn escape(text: &str) -> String {
    if !text.chars().any(is_unsafe) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if is_unsafe(c) && u32::from(c) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// `text` cut to at most `max` characters, on a character boundary, ending with `…` when cut.
pub fn bound(text: &str, max: usize) -> String {
    if text.char_indices().nth(max).is_none() {
        return text.to_owned();
    }
    let end = text.char_indices().nth(max.saturating_sub(1)).map_or(text.len(), |(i, _)| i);
    format!("{}…", text[..end].trim_end())
}

/// `text` of at most `max` characters, keeping its start and its end with `…` between them: for
/// paths, whose last segments say most.
pub fn shorten(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_owned();
    }
    let head = max.saturating_sub(1) / 2;
    let tail = max.saturating_sub(1) - head;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(count - tail).collect();
    format!("{start}…{end}")
}

/// A library's error text made fit for the middle of a sentence: escaped (it may quote the raw
/// bytes it could not read) and bounded to [`MAX_DETAIL`] characters.
pub fn detail(error: &str) -> String {
    let error = error.trim();
    if error.is_empty() { "no detail given".to_owned() } else { bound(&escape(error), MAX_DETAIL) }
}

/// The items as one phrase: `a`, `a and b`, `a, b and c`, or the first [`LISTED`] and how many
/// more: `a, b, c, d, e and 7 more`. Each item is escaped and shortened to 120 characters.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    list_of(items.iter().map(AsRef::as_ref), items.len())
}

/// Like [`list`], for an iterator of `total` items of which only the first are read.
pub fn list_of<'a>(items: impl Iterator<Item = &'a str>, total: usize) -> String {
    let shown: Vec<String> = items.take(LISTED).map(|item| shorten(&escape(item), 120)).collect();
    let more = total.saturating_sub(shown.len());
    match (shown.as_slice(), more) {
        ([], _) => "none".to_owned(),
        ([one], 0) => one.clone(),
        (items, 0) => {
            let (last, rest) = items.split_last().unwrap_or((&items[0], &[]));
            format!("{} and {last}", rest.join(", "))
        }
        (items, more) => format!("{} and {more} more", items.join(", ")),
    }
}

/// Like [`list`], naming as many items as fit in `max` characters (at least one) rather than
/// [`LISTED`]: for a finding whose list is the point of it, such as the files missing a header.
pub fn list_within<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let mut shown: Vec<String> = Vec::new();
    let mut used = 0;
    for item in items {
        let item = shorten(&escape(item.as_ref()), 120);
        // Room for the item, its separator and the " and N more" that may follow.
        let cost = item.chars().count() + 2;
        if !shown.is_empty() && used + cost + 16 > max {
            break;
        }
        used += cost;
        shown.push(item);
    }
    let more = items.len() - shown.len();
    match (shown.as_slice(), more) {
        ([], _) => "none".to_owned(),
        ([one], 0) => one.clone(),
        (all, 0) => {
            let (last, rest) = all.split_last().unwrap_or((&all[0], &[]));
            format!("{} and {last}", rest.join(", "))
        }
        (some, more) => format!("{} and {more} more", some.join(", ")),
    }
}

/// Bytes as lowercase hexadecimal, as digests are written in checksum files and SBOMs.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut text, b| {
        use std::fmt::Write as _;
        let _ = write!(text, "{b:02x}");
        text
    })
}

/// `count` and the noun, singular for one: `1 member`, `3 members`.
pub fn count(count: usize, singular: &str, plural: &str) -> String {
    if count == 1 { format!("1 {singular}") } else { format!("{count} {plural}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escape("plain é ✓ text"), "plain é ✓ text");
        assert_eq!(escape("a\nb\tc\r\0d\x1be\u{7f}"), "a\\nb\\tc\\r\\0d\\x1be\\x7f");
        assert_eq!(escape("x\u{202e}y\u{85}"), "x\\u{202e}y\\x85");
        assert!(!escape("\x01\x02\n").chars().any(char::is_control));
    }

    #[test]
    fn bounds_cut_on_a_character_boundary() {
        assert_eq!(bound("short", 10), "short");
        assert_eq!(bound("exactly10!", 10), "exactly10!");
        let cut = bound(&"é".repeat(700), 600);
        assert_eq!(cut.chars().count(), 600);
        assert!(cut.ends_with('…'));
        assert!(cut.starts_with("éé"));
        assert_eq!(shorten("abcdefghij", 5), "ab…ij");
        assert_eq!(shorten("abc", 5), "abc");
        let long = format!("root/{}file.txt", "deep/".repeat(200));
        let short = shorten(&long, 80);
        assert_eq!(short.chars().count(), 80);
        assert!(short.starts_with("root/deep/") && short.ends_with("deep/file.txt"), "{short}");
    }

    #[test]
    fn details_are_escaped_and_bounded() {
        assert_eq!(detail("bad header\nmore text\n"), "bad header\\nmore text");
        assert_eq!(detail("numeric field was not a number: \x00\x07ab"), "numeric field was not a number: \\0\\x07ab");
        assert_eq!(detail(&"x".repeat(1000)).chars().count(), MAX_DETAIL);
        assert_eq!(detail(""), "no detail given");
    }

    #[test]
    fn lists_are_summarised_with_a_count() {
        assert_eq!(list::<&str>(&[]), "none");
        assert_eq!(list(&["a"]), "a");
        assert_eq!(list(&["a", "b"]), "a and b");
        assert_eq!(list(&["a", "b", "c"]), "a, b and c");
        let twelve: Vec<String> = (1..=12).map(|i| format!("f{i}")).collect();
        assert_eq!(list(&twelve), "f1, f2, f3, f4, f5 and 7 more");
        assert_eq!(list(&["line\nbreak"]), "line\\nbreak");
        let within = list_within(&twelve, 30);
        assert!(within.starts_with("f1, f2") && within.ends_with("more"), "{within}");
        assert!(within.chars().count() <= 30, "{within}");
        assert_eq!(list_within(&["a", "b"], 100), "a and b");
        assert_eq!(list_within(&[&"x".repeat(50)], 10).chars().count(), 50);
        assert_eq!(count(1, "key", "keys"), "1 key");
        assert_eq!(count(25, "key", "keys"), "25 keys");
    }
}
