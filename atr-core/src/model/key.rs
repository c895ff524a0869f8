//! OpenPGP signing keys of people, linked to committees.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;

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
