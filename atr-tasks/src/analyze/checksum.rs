//! Checksum files: every shape release managers write, compared in constant time.
//!
//! Accepted shapes (one file may hold several lines):
//! - `HASH`
//! - `HASH  filename` and `HASH *filename` (coreutils, text and binary mode)
//! - `SHA512 (filename) = HASH` (BSD)
//! - `filename: 1234ABCD 5678...` (`gpg --print-md`), the digest split into groups and possibly
//!   continued on indented lines
//!
//! Hex is accepted in either case. A line naming another file does not count for the artifact.

use subtle::ConstantTimeEq;

use super::{Finding, text};
use atr_core::model::CheckStatus;
use atr_core::types::ReleasePath;

/// Largest checksum file read.
pub const MAX_CHECKSUM_FILE: usize = 64 * 1024;

/// One digest found in a checksum file, with the file name it was written for, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumEntry {
    pub file_name: Option<String>,
    pub digest: Vec<u8>,
}

/// Why a checksum file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecksumError {
    #[error("the checksum file is larger than {MAX_CHECKSUM_FILE} bytes")]
    TooLarge,
    #[error("the checksum file is not text")]
    NotText,
    #[error("no digest of {expected_len} hex digits found in the checksum file")]
    NoDigest { expected_len: usize },
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes hex with optional spaces between groups; `None` if anything else appears or the
/// length is not `digest_len` bytes.
fn decode(text: &str, digest_len: usize) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() != digest_len * 2 {
        return None;
    }
    digits.chunks(2).map(|pair| Some(hex_value(pair[0])? << 4 | hex_value(pair[1])?)).collect()
}

/// Reads every digest of `digest_len` bytes in a checksum file.
pub fn parse(content: &[u8], digest_len: usize) -> Result<Vec<ChecksumEntry>, ChecksumError> {
    if content.len() > MAX_CHECKSUM_FILE {
        return Err(ChecksumError::TooLarge);
    }
    let text = std::str::from_utf8(content).map_err(|_| ChecksumError::NotText)?;
    let mut entries = Vec::new();
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        i += 1;
        if line.is_empty() {
            continue;
        }
        // BSD: `ALGO (name) = HASH`.
        if let Some((left, hash)) = line.rsplit_once(") = ")
            && let Some((_, name)) = left.split_once(" (")
            && let Some(digest) = decode(hash, digest_len)
        {
            entries.push(ChecksumEntry { file_name: Some(name.to_owned()), digest });
            continue;
        }
        // `HASH`, `HASH  name`, `HASH *name`.
        let mut words = line.splitn(2, char::is_whitespace);
        if let Some(first) = words.next()
            && let Some(digest) = decode(first, digest_len)
        {
            let name = words.next().map(|n| n.trim().trim_start_matches('*').to_owned()).filter(|n| !n.is_empty());
            entries.push(ChecksumEntry { file_name: name, digest });
            continue;
        }
        // gpg --print-md: `name: GROUPS`, continued on the following lines while they are hex.
        if let Some((name, rest)) = line.split_once(':') {
            let mut hex = rest.to_owned();
            while decode(&hex, digest_len).is_none()
                && i < lines.len()
                && !lines[i].trim().is_empty()
                && lines[i].trim().bytes().all(|b| hex_value(b).is_some() || b == b' ')
            {
                hex.push(' ');
                hex.push_str(lines[i].trim());
                i += 1;
            }
            if let Some(digest) = decode(&hex, digest_len) {
                entries.push(ChecksumEntry { file_name: Some(name.trim().to_owned()), digest });
            }
        }
    }
    if entries.is_empty() {
        return Err(ChecksumError::NoDigest { expected_len: digest_len * 2 });
    }
    Ok(entries)
}

/// Compares the artifact's digest with its checksum file: a Success, or a Blocker saying why.
pub fn check(checksum_path: &ReleasePath, artifact: &ReleasePath, content: &[u8], actual: &[u8]) -> Finding {
    let name = artifact.file_name();
    let algorithm = if actual.len() == 64 { "SHA-512" } else { "SHA-256" };
    let finding = |status, message: String| Finding::new("checksum", checksum_path, status, message);
    let entries = match parse(content, actual.len()) {
        Ok(entries) => entries,
        Err(error) => return finding(CheckStatus::Blocker, format!("{checksum_path}: {error}")),
    };
    let mine: Vec<&ChecksumEntry> = entries
        .iter()
        .filter(|e| e.file_name.as_deref().is_none_or(|n| n == name || n.rsplit('/').next() == Some(name)))
        .collect();
    if mine.is_empty() {
        return finding(CheckStatus::Blocker, names_another_file(checksum_path, name, algorithm, &entries, actual));
    }
    if mine.iter().any(|e| bool::from(e.digest.ct_eq(actual))) {
        finding(CheckStatus::Success, format!("{algorithm} of {name} matches {checksum_path}"))
    } else {
        finding(
            CheckStatus::Blocker,
            format!(
                "the {algorithm} of {name} does not match {checksum_path}: the file changed or the checksum is wrong"
            ),
        )
    }
}

/// Why a checksum file whose every digest names another file does not count for `name`, and
/// whether one of those digests is the artifact's all the same (a file renamed after summing).
fn names_another_file(
    checksum_path: &ReleasePath,
    name: &str,
    algorithm: &str,
    entries: &[ChecksumEntry],
    actual: &[u8],
) -> String {
    let mut others: Vec<&str> = Vec::new();
    for other in entries.iter().filter_map(|e| e.file_name.as_deref()) {
        if !others.contains(&other) {
            others.push(other);
        }
    }
    let named = match others.as_slice() {
        [one] => format!("names another file, {one}"),
        many => format!("names other files ({})", text::list(many)),
    };
    let matching = entries.iter().find(|e| bool::from(e.digest.ct_eq(actual))).and_then(|e| e.file_name.as_deref());
    match matching {
        Some(other) => format!(
            "{checksum_path} {named}, not {name}; its {algorithm} digest for {other} matches {name}, so the file was \
             probably renamed after it was summed. Write {name} in {checksum_path}."
        ),
        None => format!(
            "{checksum_path} {named}, not {name}, and no digest in it matches the {algorithm} of {name}. Write the \
             digest of {name} under its own name in {checksum_path}."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "de3d6e2dd37a600b99b63b6740a06348d6f7642109f3c35e7eb1b82088ade8a5da9145b52c232587b9c2604c33ae908d0009ada4ea3168679e7f061b3135112d";

    fn digest() -> Vec<u8> {
        decode(D, 64).unwrap()
    }

    fn p(s: &str) -> ReleasePath {
        ReleasePath::parse(s).unwrap()
    }

    #[test]
    fn every_shape_is_read() {
        let upper = D.to_uppercase();
        let groups: Vec<String> = upper.as_bytes().chunks(8).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
        let gpg = format!(
            "httpd-2.4.68.tar.gz: {}\n                      {}\n",
            groups[..8].join(" "),
            groups[8..].join(" ")
        );
        for content in [
            D.to_owned(),
            format!("{D}  httpd-2.4.68.tar.gz\n"),
            format!("{D} *httpd-2.4.68.tar.gz\r\n"),
            format!("SHA512 (httpd-2.4.68.tar.gz) = {D}\n"),
            gpg,
            format!("{D}  other.zip\n{D}  httpd-2.4.68.tar.gz\n"),
        ] {
            let f = check(&p("httpd-2.4.68.tar.gz.sha512"), &p("httpd-2.4.68.tar.gz"), content.as_bytes(), &digest());
            assert_eq!(f.status, CheckStatus::Success, "{content}: {}", f.message);
        }
    }

    #[test]
    fn a_wrong_or_missing_digest_blocks() {
        let mut wrong = digest();
        wrong[10] ^= 1;
        let f = check(&p("a.tar.gz.sha512"), &p("a.tar.gz"), D.as_bytes(), &wrong);
        assert_eq!(f.status, CheckStatus::Blocker);
        assert!(f.message.contains("does not match"), "{}", f.message);
        let f = check(&p("a.tar.gz.sha512"), &p("a.tar.gz"), format!("{D}  b.tar.gz").as_bytes(), &digest());
        assert_eq!(f.status, CheckStatus::Blocker);
        assert!(f.message.contains("names another file, b.tar.gz, not a.tar.gz"), "{}", f.message);
        let f = check(&p("a.tar.gz.sha512"), &p("a.tar.gz"), b"not a digest", &digest());
        assert!(f.message.contains("no digest of 128 hex digits"), "{}", f.message);
        let f = check(&p("a.tar.gz.sha512"), &p("a.tar.gz"), &[0xff, 0xfe], &digest());
        assert!(f.message.contains("not text"), "{}", f.message);
        // A SHA-256 file holding a SHA-512 digest is not read as one.
        assert!(parse(D.as_bytes(), 32).is_err());
    }

    #[test]
    fn a_checksum_file_naming_another_file_says_so_and_whether_the_digest_matches() {
        let sum = p("demo-1.0.tar.gz.sha512");
        let artifact = p("demo-1.0.tar.gz");
        // The right digest under an old name: the file was renamed after summing.
        let f = check(&sum, &artifact, format!("{D}  demo-1.0-rc1.tar.gz\n").as_bytes(), &digest());
        assert_eq!(f.status, CheckStatus::Blocker);
        assert_eq!(
            f.message,
            "demo-1.0.tar.gz.sha512 names another file, demo-1.0-rc1.tar.gz, not demo-1.0.tar.gz; its SHA-512 \
             digest for demo-1.0-rc1.tar.gz matches demo-1.0.tar.gz, so the file was probably renamed after it was \
             summed. Write demo-1.0.tar.gz in demo-1.0.tar.gz.sha512."
        );
        // Another file's digest under another file's name.
        let mut wrong = digest();
        wrong[0] ^= 1;
        let f = check(&sum, &artifact, format!("SHA512 (other.zip) = {D}\n").as_bytes(), &wrong);
        assert_eq!(f.status, CheckStatus::Blocker);
        assert!(
            f.message.contains("names another file, other.zip, not demo-1.0.tar.gz, and no digest in it matches"),
            "{}",
            f.message
        );
        assert!(!f.message.contains("renamed"), "{}", f.message);
        // Several other names are listed.
        let f = check(&sum, &artifact, format!("{D}  x.zip\n{D}  y.zip\n").as_bytes(), &wrong);
        assert!(f.message.contains("names other files (x.zip and y.zip)"), "{}", f.message);
    }
}
