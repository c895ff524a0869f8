//! OpenPGP signing keys of people, linked to committees.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::committee::Committee;
use crate::types::{CommitteeKey, Fingerprint, Timestamp, UserId};

/// A public signing key, as parsed by the OpenPGP adapter and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    pub fingerprint: Fingerprint,
    /// The person the key belongs to, from an `@apache.org` user id or set by an admin.
    pub owner: Option<UserId>,
    /// Algorithm as OpenPGP names it, such as `RSA` or `EdDSA`.
    pub algorithm: String,
    pub bits: Option<u32>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked: bool,
    /// The key's user ids (`Name <email>`).
    pub user_ids: Vec<String>,
    /// The ASCII-armored public key, as it goes into KEYS.
    pub armored: String,
    /// The committees the key is linked to; its owner's releases for them may be signed with it.
    pub committees: BTreeSet<CommitteeKey>,
    pub added_at: Timestamp,
}

impl SigningKey {
    /// The ASF user id named by an `@apache.org` user id of the key, if any.
    pub fn apache_uid(&self) -> Option<UserId> {
        self.user_ids.iter().find_map(|uid| {
            let start = uid.rfind('<').map_or(0, |i| i + 1);
            let email = uid[start..].trim_end_matches('>').trim();
            let local = email.strip_suffix("@apache.org")?;
            UserId::parse(&local.to_ascii_lowercase()).ok()
        })
    }
}

/// What the OpenPGP reader said about one key (or one unreadable block) of a body of keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyReading {
    /// The key's fingerprint, when the key could be read that far.
    pub fingerprint: Option<Fingerprint>,
    /// The key's user ids (`Name <email>`), when they could be read.
    pub user_ids: Vec<String>,
    /// True if the key is among the usable keys read.
    pub usable: bool,
    /// Why, in a sentence: for a usable key, anything a release manager should know (where it
    /// starts, expired, revoked, SHA-1); for another, why it cannot be used.
    pub reason: String,
}

/// A body of OpenPGP keys (one key, or a whole KEYS file) as the OpenPGP adapter read it: the
/// usable keys as plain values (no owner or committee yet), and a reading of every block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadKeys {
    pub keys: Vec<SigningKey>,
    pub readings: Vec<KeyReading>,
}

impl ReadKeys {
    /// The readings of the blocks that gave no usable key.
    pub fn unusable(&self) -> impl Iterator<Item = &KeyReading> {
        self.readings.iter().filter(|r| !r.usable)
    }

    /// What the reader noted about the usable key `fingerprint`, if anything.
    pub fn note_of(&self, fingerprint: &Fingerprint) -> Option<&str> {
        self.readings
            .iter()
            .find(|r| r.usable && r.fingerprint.as_ref() == Some(fingerprint))
            .map(|r| r.reason.as_str())
    }
}

/// A committee's KEYS file: a header, then each key's armored block preceded by comment lines in
/// the style of `gpg --list-keys`. Names and user ids cannot forge lines: control characters in
/// them become spaces.
pub fn keys_file(committee: &Committee, keys: &[SigningKey]) -> String {
    let mut out = String::new();
    let _ =
        writeln!(out, "This file contains the OpenPGP keys of {} ({}).", comment_text(&committee.name), committee.key);
    out.push_str(
        "Use them to verify the signatures of its releases; import them with `gpg --import KEYS`.\n\
         It is generated from the committee's keys in ATR: change the keys there, not here.\n\n",
    );
    for key in keys {
        let mut flags = String::new();
        if key.revoked {
            flags.push_str(" [revoked]");
        }
        if let Some(expires) = key.expires_at {
            let _ = write!(flags, " [expires: {}]", date(expires));
        }
        let bits = key.bits.map_or_else(String::new, |b| b.to_string());
        let algorithm = comment_text(&key.algorithm.to_ascii_lowercase());
        let _ = writeln!(out, "pub   {algorithm}{bits} {}{flags}", date(key.created_at));
        let _ = writeln!(out, "      {}", key.fingerprint);
        for uid in &key.user_ids {
            let _ = writeln!(out, "uid   {}", comment_text(uid));
        }
        out.push('\n');
        out.push_str(key.armored.trim_end());
        out.push_str("\n\n");
    }
    out
}

/// Text safe for a comment line of a KEYS file: control characters (a line break in a user id
/// could forge an armor line) become spaces.
fn comment_text(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The date part of a timestamp, `YYYY-MM-DD`.
fn date(at: Timestamp) -> String {
    let text = at.to_string();
    text.split('T').next().unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(armored: &str, user_ids: &[&str]) -> SigningKey {
        SigningKey {
            fingerprint: Fingerprint::parse(&"AB".repeat(20)).unwrap(),
            owner: None,
            algorithm: "RSA".into(),
            bits: Some(4096),
            created_at: Timestamp::from_unix(1_546_300_800),
            expires_at: Some(Timestamp::from_unix(1_704_067_200)),
            revoked: true,
            user_ids: user_ids.iter().map(|&u| u.to_owned()).collect(),
            armored: armored.into(),
            committees: BTreeSet::new(),
            added_at: Timestamp::from_unix(0),
        }
    }

    #[test]
    fn keys_file_comments_each_key() {
        let httpd = Committee::new(CommitteeKey::parse("httpd").unwrap(), "Apache HTTP Server");
        let armored = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n";
        let text = keys_file(&httpd, &[key(armored, &["Jane <jane@apache.org>"])]);
        assert!(text.starts_with("This file contains the OpenPGP keys of Apache HTTP Server (httpd).\n"));
        let expected = format!(
            "pub   rsa4096 2019-01-01 [revoked] [expires: 2024-01-01]\n      {}\nuid   Jane <jane@apache.org>\n\n{armored}\n",
            "AB".repeat(20)
        );
        assert!(text.ends_with(&expected), "{text}");
    }

    #[test]
    fn user_ids_cannot_forge_lines() {
        let httpd = Committee::new(CommitteeKey::parse("httpd").unwrap(), "HTTP\nServer");
        let text = keys_file(&httpd, &[key("", &["x\n-----BEGIN PGP PUBLIC KEY BLOCK-----"])]);
        assert!(text.lines().all(|l| !l.starts_with("-----BEGIN")), "{text}");
        assert!(text.contains("uid   x -----BEGIN PGP PUBLIC KEY BLOCK-----\n"));
        assert!(text.starts_with("This file contains the OpenPGP keys of HTTP Server (httpd).\n"));
    }

    #[test]
    fn finds_apache_uid() {
        let mut key = SigningKey {
            fingerprint: Fingerprint::parse(&"A1".repeat(20)).unwrap(),
            owner: None,
            algorithm: "RSA".into(),
            bits: Some(4096),
            created_at: Timestamp::from_unix(0),
            expires_at: None,
            revoked: false,
            user_ids: vec!["Jane Doe <jane@example.org>".into(), "Jane Doe <JDoe@apache.org>".into()],
            armored: String::new(),
            committees: BTreeSet::new(),
            added_at: Timestamp::from_unix(0),
        };
        assert_eq!(key.apache_uid().unwrap().as_str(), "jdoe");
        key.user_ids = vec!["someone@apache.org.evil <x@evil.org>".into()];
        assert_eq!(key.apache_uid(), None);
    }
}
