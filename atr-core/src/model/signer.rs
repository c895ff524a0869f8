//! The signer-identity rule: the key that made a good signature of a release should belong to a
//! person of the project's committee, named by a user id in the foundation's mail domain (such as
//! `jane@apache.org`), or be the committee's automated-signing key.
//!
//! The rule is pure: it reads the user ids of the key (as the OpenPGP adapter found them bound
//! and not revoked at signing time), the foundation's domain, the automated-signing addresses and,
//! when known, the committee's people. The Analyze task turns its verdict into findings.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::types::UserId;

/// The placeholder of an automated-signing address that stands for the committee's key, as in
/// `{committee}-release@apache.org`.
pub const COMMITTEE_PLACEHOLDER: &str = "{committee}";
/// Most automated-signing addresses a rule holds.
pub const MAX_AUTOMATED_SIGNERS: usize = 20;
/// Longest domain or address accepted, in bytes.
const MAX_ADDRESS_LEN: usize = 254;

/// The foundation's signer-identity rule: its mail domain and the addresses of automated signers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerRule {
    domain: String,
    automated: Vec<String>,
}

/// Why a signer-identity rule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerRuleError {
    #[error("signer domain {0:?} is not a domain name such as apache.org")]
    Domain(String),
    #[error("automated signer {0:?} is not a mail address (a {{committee}} placeholder may stand for the committee)")]
    Address(String),
    #[error("more than {MAX_AUTOMATED_SIGNERS} automated signers")]
    TooMany,
}

/// What the rule says about the key of one good signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerVerdict {
    /// A user id in the domain names a person of the committee.
    Committer { user: UserId, user_id: String },
    /// A user id is one of the committee's automated-signing addresses.
    Automated { user_id: String },
    /// A user id is in the domain, but the committee's people are not known to the caller.
    InDomain { user: UserId, user_id: String },
    /// User ids are in the domain, but none names a person of the committee.
    NotCommitter { users: Vec<UserId> },
    /// No user id is in the domain or an automated-signing address.
    OutsideDomain,
}

impl SignerVerdict {
    /// Whether the rule is met (a person of the committee, an automated signer, or in the domain
    /// when the committee's people are unknown).
    pub fn is_met(&self) -> bool {
        matches!(self, Self::Committer { .. } | Self::Automated { .. } | Self::InDomain { .. })
    }
}

fn is_domain(text: &str) -> bool {
    text.len() <= MAX_ADDRESS_LEN
        && text.contains('.')
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn is_address(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else { return false };
    let domain = domain.replace(COMMITTEE_PLACEHOLDER, "committee");
    text.len() <= MAX_ADDRESS_LEN
        && !local.is_empty()
        && !local.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '@' | ',' | ';'))
        && is_domain(&domain)
}

/// The mail address of an OpenPGP user id (`Name <mail>`, or a bare address), lower case.
pub fn user_id_address(user_id: &str) -> Option<String> {
    let address = match (user_id.rfind('<'), user_id.rfind('>')) {
        (Some(open), Some(close)) if open < close => &user_id[open + 1..close],
        (None, None) => user_id,
        _ => return None,
    };
    let address = address.trim();
    (address.contains('@') && !address.chars().any(char::is_whitespace)).then(|| address.to_ascii_lowercase())
}

impl SignerRule {
    /// A rule for the foundation's `domain` (such as `apache.org`; compared without regard to
    /// case) and its automated-signing addresses, each of which may hold a `{committee}`
    /// placeholder.
    pub fn parse(domain: &str, automated: &[String]) -> Result<Self, SignerRuleError> {
        let domain = domain.trim().to_ascii_lowercase();
        if !is_domain(&domain) {
            return Err(SignerRuleError::Domain(domain));
        }
        if automated.len() > MAX_AUTOMATED_SIGNERS {
            return Err(SignerRuleError::TooMany);
        }
        let mut addresses = Vec::new();
        for address in automated {
            let address = address.trim().to_ascii_lowercase();
            if address.is_empty() {
                continue;
            }
            if !is_address(&address) {
                return Err(SignerRuleError::Address(address));
            }
            if !addresses.contains(&address) {
                addresses.push(address);
            }
        }
        Ok(Self { domain, automated: addresses })
    }

    /// The foundation's mail domain, lower case.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The automated-signing addresses as configured, placeholders kept.
    pub fn automated(&self) -> &[String] {
        &self.automated
    }

    /// The automated-signing addresses of a committee: each placeholder replaced by its key.
    /// Without a committee, the addresses that hold a placeholder are left out.
    pub fn automated_for(&self, committee: Option<&str>) -> Vec<String> {
        self.automated
            .iter()
            .filter_map(|a| match committee {
                Some(key) => Some(a.replace(COMMITTEE_PLACEHOLDER, &key.to_ascii_lowercase())),
                None => (!a.contains(COMMITTEE_PLACEHOLDER)).then(|| a.clone()),
            })
            .collect()
    }

    /// Judges the key of a good signature by its `user_ids`. `committee` expands the
    /// placeholders of the automated-signing addresses; `people` are the committee's committers,
    /// PMC members and release managers, or `None` when the caller does not know them (then a
    /// user id in the domain is enough).
    pub fn judge(
        &self,
        user_ids: &[String],
        committee: Option<&str>,
        people: Option<&BTreeSet<UserId>>,
    ) -> SignerVerdict {
        let automated = self.automated_for(committee);
        if let Some(user_id) =
            user_ids.iter().find(|u| user_id_address(u).is_some_and(|address| automated.contains(&address)))
        {
            return SignerVerdict::Automated { user_id: user_id.clone() };
        }
        let suffix = format!("@{}", self.domain);
        let mut in_domain: Vec<(UserId, &String)> = Vec::new();
        for user_id in user_ids {
            let Some(address) = user_id_address(user_id) else { continue };
            let Some(local) = address.strip_suffix(&suffix) else { continue };
            if let Ok(user) = UserId::parse(local)
                && !in_domain.iter().any(|(u, _)| *u == user)
            {
                in_domain.push((user, user_id));
            }
        }
        let Some(people) = people else {
            return match in_domain.into_iter().next() {
                Some((user, user_id)) => SignerVerdict::InDomain { user, user_id: user_id.clone() },
                None => SignerVerdict::OutsideDomain,
            };
        };
        if let Some((user, user_id)) = in_domain.iter().find(|(u, _)| people.contains(u)) {
            return SignerVerdict::Committer { user: user.clone(), user_id: (*user_id).clone() };
        }
        if in_domain.is_empty() {
            SignerVerdict::OutsideDomain
        } else {
            SignerVerdict::NotCommitter { users: in_domain.into_iter().map(|(u, _)| u).collect() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|&s| s.to_owned()).collect()
    }

    fn rule() -> SignerRule {
        SignerRule::parse("Apache.org", &["{committee}-release@apache.org".to_owned()]).unwrap()
    }

    #[test]
    fn a_committer_user_id_meets_the_rule() {
        let people = BTreeSet::from([uid("jane")]);
        let verdict = rule().judge(&ids(&["Jane <jane@example.org>", "Jane <Jane@APACHE.org>"]), None, Some(&people));
        assert_eq!(verdict, SignerVerdict::Committer { user: uid("jane"), user_id: "Jane <Jane@APACHE.org>".into() });
        assert!(verdict.is_met());
    }

    #[test]
    fn in_the_domain_but_not_of_the_committee() {
        let people = BTreeSet::from([uid("jane")]);
        let verdict = rule().judge(&ids(&["Bob <bob@apache.org>"]), Some("httpd"), Some(&people));
        assert_eq!(verdict, SignerVerdict::NotCommitter { users: vec![uid("bob")] });
        assert!(!verdict.is_met());
    }

    #[test]
    fn outside_the_domain() {
        let people = BTreeSet::from([uid("jane")]);
        for user_ids in [
            ids(&["Jane <jane@example.org>"]),
            ids(&["jane@apache.org.evil.example <x@evil.example>"]),
            ids(&["Jane <jane@sub.apache.org>"]),
            ids(&[]),
        ] {
            assert_eq!(rule().judge(&user_ids, Some("httpd"), Some(&people)), SignerVerdict::OutsideDomain);
        }
    }

    #[test]
    fn the_committees_automated_address() {
        let user_ids = ids(&["HTTPD release bot <httpd-release@apache.org>"]);
        let verdict = rule().judge(&user_ids, Some("httpd"), Some(&BTreeSet::new()));
        assert_eq!(verdict, SignerVerdict::Automated { user_id: user_ids[0].clone() });
        // Another committee's bot is not this committee's.
        let verdict = rule().judge(&user_ids, Some("tomcat"), Some(&BTreeSet::new()));
        assert_eq!(verdict, SignerVerdict::NotCommitter { users: vec![uid("httpd-release")] });
    }

    #[test]
    fn without_the_committees_people_the_domain_is_enough() {
        let verdict = rule().judge(&ids(&["Bob <bob@apache.org>"]), None, None);
        assert_eq!(verdict, SignerVerdict::InDomain { user: uid("bob"), user_id: "Bob <bob@apache.org>".into() });
        assert_eq!(rule().automated_for(None), Vec::<String>::new());
    }

    #[test]
    fn refuses_what_is_not_a_domain_or_an_address() {
        assert_eq!(SignerRule::parse("apache", &[]), Err(SignerRuleError::Domain("apache".into())));
        assert!(matches!(SignerRule::parse("a..org", &[]), Err(SignerRuleError::Domain(_))));
        assert!(matches!(SignerRule::parse("apache.org", &["no address".into()]), Err(SignerRuleError::Address(_))));
        let many: Vec<String> = (0..21).map(|i| format!("bot{i}@apache.org")).collect();
        assert_eq!(SignerRule::parse("apache.org", &many), Err(SignerRuleError::TooMany));
        assert_eq!(user_id_address("Jane Doe"), None);
        assert_eq!(user_id_address("jane@apache.org").as_deref(), Some("jane@apache.org"));
    }
}
