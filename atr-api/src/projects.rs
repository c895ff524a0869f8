//! Projects, their products, metadata and vote policy settings.

use atr_core::{model, policy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::text;

/// Descriptive metadata of a project or product.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Metadata {
    /// Display name, such as "Apache HTTP Server".
    pub display_name: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub repository: Option<String>,
    pub issue_tracker: Option<String>,
}

impl From<&model::Metadata> for Metadata {
    fn from(m: &model::Metadata) -> Self {
        Self {
            display_name: m.display_name.clone(),
            description: m.description.clone(),
            homepage: m.homepage.clone(),
            repository: m.repository.clone(),
            issue_tracker: m.issue_tracker.clone(),
        }
    }
}

/// A project of a committee: its key is the second segment of every download path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Project {
    /// Lowercase letters, digits and single `-` between them.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    pub key: String,
    /// The committee that owns the project; its people hold the project's roles.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    pub committee: String,
    pub metadata: Metadata,
    /// The project's vote policy settings; unset fields fall back to the foundation default.
    pub policy: PolicyOverrides,
    /// The sub-products; the main product has no entry.
    pub products: Vec<Product>,
}

impl From<&model::Project> for Project {
    fn from(p: &model::Project) -> Self {
        Self {
            key: text(&p.key),
            committee: text(&p.committee),
            metadata: (&p.metadata).into(),
            policy: (&p.policy).into(),
            products: p.products.iter().map(Product::from).collect(),
        }
    }
}

/// A sub-product of a project, released on its own (`/current/tomcat/server/...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Product {
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    pub key: String,
    pub metadata: Metadata,
    /// Overrides of the project's policy, field by field.
    pub policy: PolicyOverrides,
}

impl From<&model::Product> for Product {
    fn from(p: &model::Product) -> Self {
        Self { key: text(&p.key), metadata: (&p.metadata).into(), policy: (&p.policy).into() }
    }
}

/// A project with the vote policy in force for its main product (the foundation default under
/// the project's settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectDetails {
    pub project: Project,
    pub effective_vote_policy: VotePolicy,
    /// For every setting of `effective_vote_policy`, by its name, the level its value comes from.
    pub vote_policy_sources: std::collections::BTreeMap<String, PolicyLevel>,
}

/// Where a setting of the vote policy in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PolicyLevel {
    /// Nobody overrides the foundation's default.
    Foundation,
    Project,
    Product,
    Release,
}

impl From<policy::PolicySource> for PolicyLevel {
    fn from(source: policy::PolicySource) -> Self {
        match source {
            policy::PolicySource::Foundation => Self::Foundation,
            policy::PolicySource::Project => Self::Project,
            policy::PolicySource::Product => Self::Product,
            policy::PolicySource::Release => Self::Release,
        }
    }
}

/// How votes are collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VoteMode {
    /// On the mailing list; replies are parsed and tallied.
    Email,
    /// Through ballots cast on the platform.
    Ballot,
    /// Tallied by the release manager by hand.
    Manual,
}

impl From<policy::VoteMode> for VoteMode {
    fn from(mode: policy::VoteMode) -> Self {
        match mode {
            policy::VoteMode::Email => Self::Email,
            policy::VoteMode::Ballot => Self::Ballot,
            policy::VoteMode::Manual => Self::Manual,
        }
    }
}

/// The rule that decides whether a vote passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct PassRule {
    /// Binding +1 votes needed (ASF: 3).
    pub min_binding_plus_one: u32,
    /// Whether binding +1 must outnumber binding -1 (ASF: yes).
    pub majority_of_binding: bool,
}

impl From<policy::PassRule> for PassRule {
    fn from(rule: policy::PassRule) -> Self {
        Self { min_binding_plus_one: rule.min_binding_plus_one, majority_of_binding: rule.majority_of_binding }
    }
}

/// Every vote policy setting, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VotePolicy {
    /// Minimum hours a vote stays open: 0 (manual or emergency vote) or 72 to 144.
    pub min_hours: u32,
    pub mode: VoteMode,
    /// When set, a blocking check result stops a vote from starting.
    pub strict_checking: bool,
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
    /// Globs of generated files a source archive may hold although its git commit does not.
    #[serde(default)]
    pub generated_globs: Vec<String>,
    /// Whether a vote resolves itself when its time is up.
    pub auto_resolve: bool,
    /// Whether release managers must confirm a pause before announcing.
    pub pause_before_announce: bool,
}

impl From<&policy::VotePolicy> for VotePolicy {
    fn from(p: &policy::VotePolicy) -> Self {
        Self {
            min_hours: p.min_hours,
            mode: p.mode.into(),
            strict_checking: p.strict_checking,
            pass_rule: p.pass_rule.into(),
            vote_recipients: p.vote_recipients.clone(),
            announce_recipients: p.announce_recipients.clone(),
            vote_subject_template: p.vote_subject_template.clone(),
            vote_body_template: p.vote_body_template.clone(),
            result_subject_template: p.result_subject_template.clone(),
            result_body_template: p.result_body_template.clone(),
            announce_subject_template: p.announce_subject_template.clone(),
            announce_body_template: p.announce_body_template.clone(),
            checklist: p.checklist.clone(),
            binary_globs: p.binary_globs.clone(),
            source_globs: p.source_globs.clone(),
            generated_globs: p.generated_globs.clone(),
            auto_resolve: p.auto_resolve,
            pause_before_announce: p.pause_before_announce,
        }
    }
}

/// Vote policy settings set at one level (project, product or release): a field left out or
/// `null` inherits from the level below, and at the bottom from the foundation default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyOverrides {
    /// 0 (manual or emergency vote) or 72 to 144.
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

impl From<&policy::PolicyOverrides> for PolicyOverrides {
    fn from(p: &policy::PolicyOverrides) -> Self {
        Self {
            min_hours: p.min_hours,
            mode: p.mode.map(VoteMode::from),
            strict_checking: p.strict_checking,
            pass_rule: p.pass_rule.map(PassRule::from),
            vote_recipients: p.vote_recipients.clone(),
            announce_recipients: p.announce_recipients.clone(),
            vote_subject_template: p.vote_subject_template.clone(),
            vote_body_template: p.vote_body_template.clone(),
            result_subject_template: p.result_subject_template.clone(),
            result_body_template: p.result_body_template.clone(),
            announce_subject_template: p.announce_subject_template.clone(),
            announce_body_template: p.announce_body_template.clone(),
            checklist: p.checklist.clone(),
            binary_globs: p.binary_globs.clone(),
            source_globs: p.source_globs.clone(),
            generated_globs: p.generated_globs.clone(),
            auto_resolve: p.auto_resolve,
            pause_before_announce: p.pause_before_announce,
        }
    }
}

/// `PUT /api/projects/{project}/metadata`, and a product's metadata: the descriptive fields,
/// checked (a display name of 1 to 200 bytes, http(s) links).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetadataUpdate {
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_tracker: Option<String>,
}

/// `POST /api/projects/{project}/products`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    /// The product's key, such as `mod-tools`.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    pub key: String,
    pub metadata: MetadataUpdate,
    /// Overrides of the project's policy; setting any also needs `manage_policy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyOverrides>,
}

/// `PUT /api/projects/{project}/products/{product}`: new metadata (needs `manage_metadata`),
/// new policy overrides replacing the product's (needs `manage_policy`), or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataUpdate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyOverrides>,
}

impl From<&atr_core::services::ProjectView> for ProjectDetails {
    fn from(view: &atr_core::services::ProjectView) -> Self {
        Self {
            project: (&view.project).into(),
            effective_vote_policy: (&view.effective_vote_policy).into(),
            vote_policy_sources: view
                .policy_sources
                .iter()
                .map(|(name, level)| ((*name).to_owned(), (*level).into()))
                .collect(),
        }
    }
}

impl From<VoteMode> for policy::VoteMode {
    fn from(mode: VoteMode) -> Self {
        match mode {
            VoteMode::Email => Self::Email,
            VoteMode::Ballot => Self::Ballot,
            VoteMode::Manual => Self::Manual,
        }
    }
}

impl From<PassRule> for policy::PassRule {
    fn from(rule: PassRule) -> Self {
        Self { min_binding_plus_one: rule.min_binding_plus_one, majority_of_binding: rule.majority_of_binding }
    }
}

/// A request's settings, as the core reads them (the core checks their values).
impl From<PolicyOverrides> for policy::PolicyOverrides {
    fn from(p: PolicyOverrides) -> Self {
        Self {
            min_hours: p.min_hours,
            mode: p.mode.map(policy::VoteMode::from),
            strict_checking: p.strict_checking,
            pass_rule: p.pass_rule.map(policy::PassRule::from),
            vote_recipients: p.vote_recipients,
            announce_recipients: p.announce_recipients,
            vote_subject_template: p.vote_subject_template,
            vote_body_template: p.vote_body_template,
            result_subject_template: p.result_subject_template,
            result_body_template: p.result_body_template,
            announce_subject_template: p.announce_subject_template,
            announce_body_template: p.announce_body_template,
            checklist: p.checklist,
            binary_globs: p.binary_globs,
            source_globs: p.source_globs,
            generated_globs: p.generated_globs,
            auto_resolve: p.auto_resolve,
            pause_before_announce: p.pause_before_announce,
        }
    }
}

impl From<Metadata> for model::Metadata {
    fn from(m: Metadata) -> Self {
        Self {
            display_name: m.display_name,
            description: m.description,
            homepage: m.homepage,
            repository: m.repository,
            issue_tracker: m.issue_tracker,
        }
    }
}

impl TryFrom<Project> for model::Project {
    type Error = crate::FieldError;

    /// A project as a request describes it; its keys are checked here, its settings by the core.
    fn try_from(p: Project) -> Result<Self, crate::FieldError> {
        use atr_core::types::{CommitteeKey, ProductKey, ProjectKey};
        let products = p
            .products
            .into_iter()
            .map(|product| {
                Ok(model::Product {
                    key: ProductKey::parse(&product.key).map_err(|e| crate::FieldError::new("products.key", e))?,
                    metadata: product.metadata.into(),
                    policy: product.policy.into(),
                })
            })
            .collect::<Result<_, crate::FieldError>>()?;
        Ok(Self {
            key: ProjectKey::parse(&p.key).map_err(|e| crate::FieldError::new("key", e))?,
            committee: CommitteeKey::parse(&p.committee).map_err(|e| crate::FieldError::new("committee", e))?,
            metadata: p.metadata.into(),
            policy: p.policy.into(),
            products,
        })
    }
}

impl From<MetadataUpdate> for model::Metadata {
    fn from(m: MetadataUpdate) -> Self {
        Self {
            display_name: m.display_name,
            description: m.description,
            homepage: m.homepage,
            repository: m.repository,
            issue_tracker: m.issue_tracker,
        }
    }
}
