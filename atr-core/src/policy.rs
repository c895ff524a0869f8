//! Vote policy: what a vote needs, resolved field by field from release over product over
//! project over the foundation default, and snapshotted into a release when its vote starts.

use serde::{Deserialize, Serialize};

/// How votes are collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VoteMode {
    /// On the mailing list; replies are parsed and tallied.
    Email,
    /// Through ballots cast on the platform.
    Ballot,
    /// Tallied by the release manager by hand (for example an emergency vote).
    Manual,
}

/// The rule that decides whether a vote passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PassRule {
    /// Binding +1 votes needed (ASF: 3).
    pub min_binding_plus_one: u32,
    /// Whether binding +1 must outnumber binding -1 (ASF: yes).
    pub majority_of_binding: bool,
}

impl PassRule {
    /// The ASF rule: at least three binding +1 and more binding +1 than binding -1.
    pub const ASF: PassRule = PassRule { min_binding_plus_one: 3, majority_of_binding: true };
}

/// Every vote policy setting, all resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VotePolicy {
    /// Minimum hours a vote stays open: 0 (manual or emergency vote) or 72 to 144.
    pub min_hours: u32,
    pub mode: VoteMode,
    /// When set, a blocking check result stops a vote from starting.
    pub strict_checking: bool,
    /// The rule that decides the outcome.
    pub pass_rule: PassRule,
    /// Where the `[VOTE]` mail goes.
    pub vote_recipients: Vec<String>,
    /// Where the announcement goes.
    pub announce_recipients: Vec<String>,
    pub vote_subject_template: String,
    pub vote_body_template: String,
    pub result_subject_template: String,
    pub result_body_template: String,
    pub announce_subject_template: String,
    pub announce_body_template: String,
    /// Text shown to reviewers as the release checklist.
    pub checklist: String,
    /// Globs of binary artifacts, which skip the source-only checks.
    pub binary_globs: Vec<String>,
    /// Globs of source artifacts.
    pub source_globs: Vec<String>,
    /// Globs of files a source archive may hold although its git commit does not (generated
    /// files such as `configure`), matched against the path under the archive's root folder.
    #[serde(default = "default_generated_globs")]
    pub generated_globs: Vec<String>,
    /// Whether a vote resolves itself when its time is up.
    pub auto_resolve: bool,
    /// Whether release managers must confirm a pause before announcing.
    pub pause_before_announce: bool,
}

/// Files a release's source archive commonly holds that are generated from the repository, not
/// kept in it: the foundation's default of [`VotePolicy::generated_globs`].
pub fn default_generated_globs() -> Vec<String> {
    [
        "configure",
        "*/configure",
        "PKG-INFO",
        "*/PKG-INFO",
        "*.egg-info/*",
        "Makefile.in",
        "*/Makefile.in",
        "aclocal.m4",
        "config.h.in",
        "*/config.h.in",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// Longest template or checklist accepted, in bytes.
pub const MAX_TEMPLATE_LEN: usize = 64 * 1024;
/// Most recipients or globs in one list.
pub const MAX_LIST_LEN: usize = 100;

impl VotePolicy {
    /// The foundation default: the ASF rules of domain.md.
    pub fn foundation_default() -> Self {
        Self {
            min_hours: 72,
            mode: VoteMode::Email,
            strict_checking: false,
            pass_rule: PassRule::ASF,
            vote_recipients: vec![],
            announce_recipients: vec!["announce@apache.org".to_owned()],
            vote_subject_template: "[VOTE] Release {project_name} {version}".to_owned(),
            vote_body_template: concat!(
                "Hello {project_name} community,\n\n",
                "This is a call for a vote to release {project_name} {version}, revision {revision}.\n\n",
                "The release candidate is at:\n{review_url}\n\n",
                "The KEYS file to verify its signatures is at:\n{keys_url}\n\n",
                "The vote is open for at least {duration}.\n\n",
                "[ ] +1 Release this package\n[ ]  0 I don't feel strongly about it\n",
                "[ ] -1 Do not release this package because...\n\n",
                "{checklist}\n\nThanks,\n{rm_name} ({rm_id})\n"
            )
            .to_owned(),
            result_subject_template: "[RESULT] [VOTE] Release {project_name} {version}".to_owned(),
            result_body_template: "The vote to release {project_name} {version} has {outcome}.\n\n{tally}\n".to_owned(),
            announce_subject_template: "[ANNOUNCE] {project_name} {version} released".to_owned(),
            announce_body_template: concat!(
                "The {project_name} team is pleased to announce the release of {project_name} {version}.\n\n",
                "It can be downloaded from:\n{download_url}\n\n{rm_name} ({rm_id})\n"
            )
            .to_owned(),
            checklist: String::new(),
            binary_globs: vec![],
            source_globs: vec!["*-src.*".to_owned(), "*-source.*".to_owned()],
            generated_globs: default_generated_globs(),
            auto_resolve: false,
            pause_before_announce: false,
        }
    }

    /// Checks every setting; the error names the first field that is wrong.
    pub fn validate(&self) -> Result<(), PolicyError> {
        check_min_hours(self.min_hours)?;
        if self.pass_rule.min_binding_plus_one == 0 {
            return Err(PolicyError::PassRule);
        }
        for (field, list) in [
            ("vote_recipients", &self.vote_recipients),
            ("announce_recipients", &self.announce_recipients),
            ("binary_globs", &self.binary_globs),
            ("source_globs", &self.source_globs),
            ("generated_globs", &self.generated_globs),
        ] {
            if list.len() > MAX_LIST_LEN {
                return Err(PolicyError::ListTooLong { field, max: MAX_LIST_LEN });
            }
            if list.iter().any(|s| s.trim().is_empty()) {
                return Err(PolicyError::EmptyEntry { field });
            }
        }
        for address in self.vote_recipients.iter().chain(&self.announce_recipients) {
            if !looks_like_address(address) {
                return Err(PolicyError::Recipient(address.clone()));
            }
        }
        for (field, text) in [
            ("vote_subject_template", &self.vote_subject_template),
            ("vote_body_template", &self.vote_body_template),
            ("result_subject_template", &self.result_subject_template),
            ("result_body_template", &self.result_body_template),
            ("announce_subject_template", &self.announce_subject_template),
            ("announce_body_template", &self.announce_body_template),
            ("checklist", &self.checklist),
        ] {
            if text.len() > MAX_TEMPLATE_LEN {
                return Err(PolicyError::TemplateTooLong { field, max: MAX_TEMPLATE_LEN });
            }
        }
        for (field, subject) in [
            ("vote_subject_template", &self.vote_subject_template),
            ("result_subject_template", &self.result_subject_template),
            ("announce_subject_template", &self.announce_subject_template),
        ] {
            if subject.contains(['\r', '\n']) {
                return Err(PolicyError::SubjectLineBreak { field });
            }
        }
        Ok(())
    }
}

/// Allowed minimum durations: 0, or 72 to 144 hours.
pub fn check_min_hours(hours: u32) -> Result<(), PolicyError> {
    if hours == 0 || (72..=144).contains(&hours) { Ok(()) } else { Err(PolicyError::MinHours(hours)) }
}

fn looks_like_address(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        && !domain.contains('@')
}

/// Why a policy was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("min_hours {0} is not allowed: use 0 for a manual or emergency vote, otherwise 72 to 144")]
    MinHours(u32),
    #[error("pass_rule.min_binding_plus_one must be at least 1")]
    PassRule,
    #[error("{field} has more than {max} entries")]
    ListTooLong { field: &'static str, max: usize },
    #[error("{field} has an empty entry")]
    EmptyEntry { field: &'static str },
    #[error("recipient {0:?} is not a mail address")]
    Recipient(String),
    #[error("{field} is longer than {max} bytes")]
    TemplateTooLong { field: &'static str, max: usize },
    #[error("{field} must be one line")]
    SubjectLineBreak { field: &'static str },
}

/// Policy settings set at one level (project, product or release); `None` inherits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyOverrides {
    pub min_hours: Option<u32>,
    pub mode: Option<VoteMode>,
    pub strict_checking: Option<bool>,
    pub pass_rule: Option<PassRule>,
    pub vote_recipients: Option<Vec<String>>,
    pub announce_recipients: Option<Vec<String>>,
    pub vote_subject_template: Option<String>,
    pub vote_body_template: Option<String>,
    pub result_subject_template: Option<String>,
    pub result_body_template: Option<String>,
    pub announce_subject_template: Option<String>,
    pub announce_body_template: Option<String>,
    pub checklist: Option<String>,
    pub binary_globs: Option<Vec<String>>,
    pub source_globs: Option<Vec<String>>,
    pub generated_globs: Option<Vec<String>>,
    pub auto_resolve: Option<bool>,
    pub pause_before_announce: Option<bool>,
}

/// Where the value in force of a policy setting comes from: the level that set it last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicySource {
    /// Nobody overrides the foundation's default.
    Foundation,
    Project,
    Product,
    Release,
}

impl PolicySource {
    /// The level's name in words: `foundation`, `project`, `product` or `release`.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicySource::Foundation => "foundation",
            PolicySource::Project => "project",
            PolicySource::Product => "product",
            PolicySource::Release => "release",
        }
    }
}

/// A resolved policy with, for every setting (by its field name, in the order of
/// [`VotePolicy`]'s fields), the level its value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedPolicy {
    pub policy: VotePolicy,
    pub sources: Vec<(&'static str, PolicySource)>,
}

impl SourcedPolicy {
    /// The level the setting `field` comes from, `None` for a name that is no setting.
    pub fn source(&self, field: &str) -> Option<PolicySource> {
        self.sources.iter().find(|(name, _)| *name == field).map(|(_, source)| *source)
    }
}

macro_rules! resolve_fields {
    ($base:ident, $sources:ident, $layers:ident; $($field:ident),*) => {
        $(
            let mut from = PolicySource::Foundation;
            for (level, layer) in $layers {
                if let Some(value) = &layer.$field {
                    $base.$field = value.clone();
                    from = *level;
                }
            }
            $sources.push((stringify!($field), from));
        )*
    };
}

/// The vote policy in force for a release of `project` (and `product`): the foundation's default
/// under the project's, the product's and the release's own settings, validated. The one place
/// that resolution is written; everything that needs the policy in force calls it (or
/// [`effective_sourced`], which is the same resolution telling where each value comes from).
pub fn effective(
    foundation: &VotePolicy,
    project: &crate::model::Project,
    product: Option<&crate::types::ProductKey>,
    release: Option<&crate::model::Release>,
) -> Result<VotePolicy, PolicyError> {
    effective_sourced(foundation, project, product, release).map(|sourced| sourced.policy)
}

/// [`effective`] with the level each setting's value in force comes from.
pub fn effective_sourced(
    foundation: &VotePolicy,
    project: &crate::model::Project,
    product: Option<&crate::types::ProductKey>,
    release: Option<&crate::model::Release>,
) -> Result<SourcedPolicy, PolicyError> {
    let none = PolicyOverrides::default();
    let product = product.and_then(|p| project.product(p)).map_or(&none, |p| &p.policy);
    let own = release.map_or(&none, |r| &r.policy);
    PolicyOverrides::resolve_sourced(
        foundation,
        &[(PolicySource::Project, &project.policy), (PolicySource::Product, product), (PolicySource::Release, own)],
    )
}

impl PolicyOverrides {
    /// Applies the overrides of `layers`, lowest first (project, product, release), over `base`,
    /// field by field, and validates the result.
    pub fn resolve(base: &VotePolicy, layers: &[&PolicyOverrides]) -> Result<VotePolicy, PolicyError> {
        let levels = [PolicySource::Project, PolicySource::Product, PolicySource::Release];
        let layers: Vec<(PolicySource, &PolicyOverrides)> =
            layers.iter().enumerate().map(|(i, layer)| (levels[i.min(levels.len() - 1)], *layer)).collect();
        Self::resolve_sourced(base, &layers).map(|sourced| sourced.policy)
    }

    /// [`PolicyOverrides::resolve`] over layers named by their level, telling for every setting
    /// the level whose value is in force (the last layer that sets it, else the foundation).
    pub fn resolve_sourced(
        base: &VotePolicy,
        layers: &[(PolicySource, &PolicyOverrides)],
    ) -> Result<SourcedPolicy, PolicyError> {
        let mut policy = base.clone();
        let mut sources = Vec::with_capacity(18);
        resolve_fields!(policy, sources, layers;
            min_hours, mode, strict_checking, pass_rule, vote_recipients, announce_recipients,
            vote_subject_template, vote_body_template, result_subject_template, result_body_template,
            announce_subject_template, announce_body_template, checklist, binary_globs, source_globs,
            generated_globs, auto_resolve, pause_before_announce);
        policy.validate()?;
        Ok(SourcedPolicy { policy, sources })
    }

    /// Validates the settings this level sets, as far as they can be judged alone.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if let Some(hours) = self.min_hours {
            check_min_hours(hours)?;
        }
        // The other fields are validated once resolved, against a complete policy.
        PolicyOverrides::resolve(&VotePolicy::foundation_default(), &[self]).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_asf_and_valid() {
        let p = VotePolicy::foundation_default();
        assert_eq!(p.min_hours, 72);
        assert_eq!(p.pass_rule, PassRule::ASF);
        p.validate().unwrap();
    }

    #[test]
    fn min_hours_bounds() {
        for ok in [0, 72, 100, 144] {
            assert_eq!(check_min_hours(ok), Ok(()));
        }
        for bad in [1, 24, 71, 145, 1000] {
            assert_eq!(check_min_hours(bad), Err(PolicyError::MinHours(bad)));
        }
    }

    #[test]
    fn resolves_release_over_product_over_project_over_default() {
        let base = VotePolicy::foundation_default();
        let project = PolicyOverrides {
            min_hours: Some(96),
            strict_checking: Some(true),
            checklist: Some("project".into()),
            ..Default::default()
        };
        let product = PolicyOverrides { min_hours: Some(120), checklist: Some("product".into()), ..Default::default() };
        let release = PolicyOverrides { checklist: Some("release".into()), ..Default::default() };
        let p = PolicyOverrides::resolve(&base, &[&project, &product, &release]).unwrap();
        assert_eq!(p.min_hours, 120, "product overrides project");
        assert!(p.strict_checking, "project setting kept where nothing overrides it");
        assert_eq!(p.checklist, "release", "release overrides all");
        assert_eq!(p.mode, VoteMode::Email, "default where no level sets it");
        // An empty release layer changes nothing.
        let q = PolicyOverrides::resolve(&base, &[&project, &product, &PolicyOverrides::default()]).unwrap();
        assert_eq!(q.checklist, "product");
    }

    #[test]
    fn sources_name_the_level_in_force() {
        let base = VotePolicy::foundation_default();
        let project = PolicyOverrides { min_hours: Some(96), strict_checking: Some(true), ..Default::default() };
        let product = PolicyOverrides { min_hours: Some(120), ..Default::default() };
        let release = PolicyOverrides { checklist: Some("release".into()), ..Default::default() };
        let layers =
            [(PolicySource::Project, &project), (PolicySource::Product, &product), (PolicySource::Release, &release)];
        let sourced = PolicyOverrides::resolve_sourced(&base, &layers).unwrap();
        assert_eq!(sourced.policy, PolicyOverrides::resolve(&base, &[&project, &product, &release]).unwrap());
        assert_eq!(sourced.source("min_hours"), Some(PolicySource::Product));
        assert_eq!(sourced.source("strict_checking"), Some(PolicySource::Project));
        assert_eq!(sourced.source("checklist"), Some(PolicySource::Release));
        assert_eq!(sourced.source("mode"), Some(PolicySource::Foundation));
        assert_eq!(sourced.source("no_such_setting"), None);
        // Every field of the policy is named, in order.
        let names: Vec<&str> = sourced.sources.iter().map(|(n, _)| *n).collect();
        let json = serde_json::to_value(&sourced.policy).unwrap();
        let fields: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        let mut expected = fields.clone();
        expected.sort_unstable();
        assert_eq!(sorted, expected);
        assert_eq!(names.len(), 18);
    }

    #[test]
    fn resolution_validates() {
        let base = VotePolicy::foundation_default();
        let bad = PolicyOverrides { min_hours: Some(48), ..Default::default() };
        assert_eq!(PolicyOverrides::resolve(&base, &[&bad]), Err(PolicyError::MinHours(48)));
        assert_eq!(bad.validate(), Err(PolicyError::MinHours(48)));
        let bad = PolicyOverrides { vote_recipients: Some(vec!["not an address".into()]), ..Default::default() };
        assert_eq!(bad.validate(), Err(PolicyError::Recipient("not an address".into())));
        let bad = PolicyOverrides { vote_subject_template: Some("a\nBcc: x@y.z".into()), ..Default::default() };
        assert_eq!(bad.validate(), Err(PolicyError::SubjectLineBreak { field: "vote_subject_template" }));
        let bad = PolicyOverrides {
            pass_rule: Some(PassRule { min_binding_plus_one: 0, majority_of_binding: true }),
            ..Default::default()
        };
        assert_eq!(bad.validate(), Err(PolicyError::PassRule));
        let ok = PolicyOverrides { vote_recipients: Some(vec!["dev@httpd.apache.org".into()]), ..Default::default() };
        assert_eq!(ok.validate(), Ok(()));
    }
}
