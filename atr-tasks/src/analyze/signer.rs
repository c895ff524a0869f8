//! The signer-identity check: the key of each good signature belongs to a person of the project's
//! committee, named by a user id in the foundation's mail domain, or is the committee's
//! automated-signing key ([`atr_core::model::signer`] holds the rule).
//!
//! It reads only what the signature check found: the user ids bound to each good signer's key, and
//! not revoked, when it signed. A good signature whose key fails the rule is a
//! [`Warning`](CheckStatus::Warning) with the reason; the signature still counts.

use std::collections::BTreeSet;

use atr_core::model::{CheckStatus, SignerRule, SignerVerdict};
use atr_core::types::{Fingerprint, ReleasePath, UserId};

use super::Finding;

/// The checker name of signer-identity findings.
pub const CHECKER: &str = "signer-identity";
/// How many user ids a message lists.
const LISTED: usize = 3;
/// Longest user id shown, in characters.
const SHOWN: usize = 100;

/// What the check needs: the rule, and what is known of the project's committee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerCheck {
    pub rule: SignerRule,
    /// The committee's key: it names the committee in messages and fills the `{committee}`
    /// placeholder of the automated-signing addresses.
    pub committee: Option<String>,
    /// The committee's committers, PMC members and release managers; `None` when they are not
    /// known (`atr check`): then a user id in the domain is enough.
    pub people: Option<BTreeSet<UserId>>,
}

fn shown(text: &str) -> String {
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if clean.chars().count() <= SHOWN { clean } else { format!("{}…", clean.chars().take(SHOWN).collect::<String>()) }
}

fn listed(user_ids: &[String]) -> String {
    if user_ids.is_empty() {
        return "it has no valid user id".to_owned();
    }
    let mut text: Vec<String> = user_ids.iter().take(LISTED).map(|u| format!("\"{}\"", shown(u))).collect();
    if user_ids.len() > LISTED {
        text.push(format!("and {} more", user_ids.len() - LISTED));
    }
    format!("its user ids are {}", text.join(", "))
}

/// Judges the key of every good signature over `artifact`.
pub fn check(artifact: &ReleasePath, signers: &[(Fingerprint, Vec<String>)], check: &SignerCheck) -> Vec<Finding> {
    let domain = check.rule.domain();
    let committee = check.committee.as_deref();
    let of = committee.map_or_else(|| "the project".to_owned(), |c| format!("the committee {c}"));
    let file = artifact.file_name();
    signers
        .iter()
        .map(|(fingerprint, user_ids)| {
            let key = format!("The key {fingerprint} that signed {file}");
            let (status, message) = match check.rule.judge(user_ids, committee, check.people.as_ref()) {
                SignerVerdict::Committer { user, user_id } => (
                    CheckStatus::Success,
                    format!("{key} belongs to {user}, a person of {of} (user id \"{}\")", shown(&user_id)),
                ),
                SignerVerdict::Automated { user_id } => (
                    CheckStatus::Success,
                    format!("{key} is the automated-signing key of {of} (user id \"{}\")", shown(&user_id)),
                ),
                SignerVerdict::InDomain { user, user_id } => (
                    CheckStatus::Success,
                    format!(
                        "{key} has the user id \"{}\" in {domain}; whether {user} is a committer of the project is \
                         not known here (the Analyze task of the service checks it against the committee)",
                        shown(&user_id)
                    ),
                ),
                SignerVerdict::NotCommitter { users } => {
                    let names: Vec<String> = users.iter().take(LISTED).map(ToString::to_string).collect();
                    (
                        CheckStatus::Warning,
                        format!(
                            "{key} is in {domain} ({}), but no committer, PMC member or release manager of {of} has \
                             that user id; if the signer is one, add them to the committee, otherwise a person of \
                             the committee should sign the release",
                            names.join(", ")
                        ),
                    )
                }
                SignerVerdict::OutsideDomain => (
                    CheckStatus::Warning,
                    format!(
                        "{key} has no user id in {domain}, so it cannot be tied to a committer of {of} ({}); add a \
                         user id with your {domain} address to the key and refresh it in KEYS",
                        listed(user_ids)
                    ),
                ),
            };
            Finding::new(CHECKER, artifact, status, message)
        })
        .collect()
}
