//! Projects and their products: creation, descriptive metadata, products with their own
//! metadata and policy overrides, and a project with its effective vote policy.

use super::{ServiceError, ServiceResult, Services, actor};
use crate::auth::{self, Activity, Principal, Target};
use crate::model::{CheckIgnore, Committee, EventKind, Metadata, NewEvent, Product, Project, SigningKey};
use crate::policy::{PolicyOverrides, SourcedPolicy, VotePolicy};
use crate::ports::{Change, PageRequest, Write};
use crate::types::{ProductKey, ProjectKey, Timestamp};

/// Longest display name accepted, in bytes.
pub const MAX_METADATA_NAME_LEN: usize = 200;
/// Longest description accepted, in bytes.
pub const MAX_METADATA_DESCRIPTION_LEN: usize = 16 * 1024;
/// Longest link accepted, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// A project with the vote policy in force for it: the foundation default under its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectView {
    pub project: Project,
    pub effective_vote_policy: VotePolicy,
    /// For every setting of the policy in force (by its field name), the level its value comes
    /// from: the foundation's default or the project's own setting.
    pub policy_sources: Vec<(&'static str, crate::policy::PolicySource)>,
}

/// The vote policy in force for the releases of one product, with where each value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPolicy {
    /// `None` for the main product.
    pub product: Option<ProductKey>,
    pub policy: SourcedPolicy,
}

/// What a project's configuration page shows: the project with its products, its committee (and
/// so its release managers), the vote policy in force for each product with the level each value
/// comes from, the check ignores and the committee's signing keys.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectConfig {
    pub project: Project,
    pub committee: Committee,
    /// The main product first, then the products in the project's order.
    pub policies: Vec<ProductPolicy>,
    pub ignores: Vec<CheckIgnore>,
    /// The committee's keys, by fingerprint (its KEYS file).
    pub keys: Vec<SigningKey>,
}

/// A product to add.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub key: ProductKey,
    pub metadata: Metadata,
    /// Overrides of the project's policy; setting any also needs `manage policy`.
    pub policy: Option<PolicyOverrides>,
}

/// A change of a product: new metadata (needs `manage metadata`), new policy overrides replacing
/// the product's (needs `manage policy`), or both.
#[derive(Debug, Clone, Default)]
pub struct ProductUpdate {
    pub metadata: Option<Metadata>,
    pub policy: Option<PolicyOverrides>,
}

/// The metadata with its display name trimmed, or the refusal naming the field (with `prefix`,
/// such as `metadata.`): a display name of 1 to [`MAX_METADATA_NAME_LEN`] bytes, a description
/// of at most [`MAX_METADATA_DESCRIPTION_LEN`], and links that are `http(s)` URLs of at most
/// [`MAX_URL_LEN`] bytes without spaces or control characters.
pub fn check_metadata(metadata: Metadata, prefix: &str) -> ServiceResult<Metadata> {
    let display_name = metadata.display_name.trim().to_owned();
    if display_name.is_empty() || display_name.len() > MAX_METADATA_NAME_LEN {
        return Err(ServiceError::field(
            format!("{prefix}display_name"),
            format!("must be 1 to {MAX_METADATA_NAME_LEN} bytes"),
        ));
    }
    if metadata.description.as_ref().is_some_and(|d| d.len() > MAX_METADATA_DESCRIPTION_LEN) {
        return Err(ServiceError::field(
            format!("{prefix}description"),
            format!("is longer than {MAX_METADATA_DESCRIPTION_LEN} bytes"),
        ));
    }
    for (field, value) in [
        ("homepage", &metadata.homepage),
        ("repository", &metadata.repository),
        ("issue_tracker", &metadata.issue_tracker),
    ] {
        if let Some(url) = value {
            let web = url.starts_with("https://") || url.starts_with("http://");
            if !web || url.len() > MAX_URL_LEN || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(ServiceError::field(
                    format!("{prefix}{field}"),
                    format!("must be an http(s) URL of at most {MAX_URL_LEN} bytes"),
                ));
            }
        }
    }
    Ok(Metadata { display_name, ..metadata })
}

fn product_event(
    now: Timestamp,
    principal: &Principal,
    project: &ProjectKey,
    product: &ProductKey,
    kind: EventKind,
) -> NewEvent {
    let mut event = NewEvent::for_project(now, actor(principal), project, kind);
    event.product = Some(product.clone());
    event
}

impl Services {
    /// Checks a product's policy overrides on their own and in force over the project's.
    fn check_product_policy(
        &self,
        project: &Project,
        product: &ProductKey,
        policy: &PolicyOverrides,
    ) -> ServiceResult<()> {
        policy.validate().map_err(|e| ServiceError::field("policy", e))?;
        let mut candidate = project.clone();
        match candidate.products.iter_mut().find(|p| &p.key == product) {
            Some(existing) => existing.policy = policy.clone(),
            None => candidate.products.push(Product {
                key: product.clone(),
                metadata: Metadata::default(),
                policy: policy.clone(),
            }),
        }
        self.effective_policy(&candidate, Some(product), None).map_err(|e| match e {
            ServiceError::Policy(e) => ServiceError::field("policy", e),
            other => other,
        })?;
        Ok(())
    }

    /// Projects ordered by key, after the cursor.
    pub async fn list_projects(&self, page: PageRequest<ProjectKey>) -> ServiceResult<Vec<Project>> {
        Ok(self.ports.projects.list(page).await?)
    }

    /// A project with its products and its effective vote policy.
    pub async fn get_project(&self, key: &ProjectKey) -> ServiceResult<ProjectView> {
        let project =
            self.ports.projects.get(key).await?.ok_or_else(|| ServiceError::NotFound(format!("project {key}")))?;
        let sourced = self.effective_policy_sourced(&project, None, None).map_err(|e| {
            ServiceError::Store(format!("the stored vote policy of project {key} does not resolve: {e}"))
        })?;
        Ok(ProjectView { project, effective_vote_policy: sourced.policy, policy_sources: sourced.sources })
    }

    /// A project's configuration (see [`ProjectConfig`]). Everyone may read it, as they may read
    /// the project and the committee's KEYS file. A stored policy that does not resolve is a
    /// storage failure, as for [`Services::get_project`].
    pub async fn project_config(&self, key: &ProjectKey) -> ServiceResult<ProjectConfig> {
        let super::Scope { project, committee } = self.scope(key).await?;
        let products = std::iter::once(None).chain(project.products.iter().map(|p| Some(p.key.clone())));
        let mut policies = Vec::with_capacity(project.products.len() + 1);
        for product in products {
            let policy = self.effective_policy_sourced(&project, product.as_ref(), None).map_err(|e| {
                ServiceError::Store(format!("the stored vote policy of project {key} does not resolve: {e}"))
            })?;
            policies.push(ProductPolicy { product, policy });
        }
        let ignores = self.ports.projects.ignores(key).await?;
        let keys = self.ports.keys.by_committee(&committee.key).await?;
        Ok(ProjectConfig { project, committee, policies, ignores, keys })
    }

    /// Creates a project. Needs `create project`. `Conflict` if the key exists, `NotFound` if its
    /// committee does not.
    pub async fn create_project(
        &self,
        principal: &Principal,
        project: Project,
        now: Timestamp,
    ) -> ServiceResult<Project> {
        auth::authorize(principal, Activity::CreateProject, &Target::Foundation, now)?;
        project.policy.validate().map_err(|e| ServiceError::field("policy", e))?;
        self.commit(Change::new().write(Write::CreateProject(project.clone()))).await?;
        Ok(project)
    }

    /// Replaces the project's descriptive metadata (see [`check_metadata`]). Needs
    /// `manage metadata`.
    pub async fn set_project_metadata(
        &self,
        principal: &Principal,
        project: &ProjectKey,
        metadata: Metadata,
        now: Timestamp,
    ) -> ServiceResult<Project> {
        let scope = self.authorized_project(principal, Activity::ManageMetadata, project, now).await?;
        let mut updated = scope.project;
        updated.metadata = check_metadata(metadata, "")?;
        let event = NewEvent::for_project(now, actor(principal), project, EventKind::MetadataChanged);
        self.commit(Change::new().write(Write::UpdateProject(updated.clone())).event(event)).await?;
        Ok(updated)
    }

    /// Adds a product to the project. Needs `manage metadata`, and `manage policy` too when it
    /// sets policy overrides. `Conflict` if the project has the product already or a release of
    /// the main product has a version named like it.
    pub async fn add_product(
        &self,
        principal: &Principal,
        project: &ProjectKey,
        new: NewProduct,
        now: Timestamp,
    ) -> ServiceResult<Product> {
        let scope = self.authorized_project(principal, Activity::ManageMetadata, project, now).await?;
        let policy = new.policy.unwrap_or_default();
        let sets_policy = policy != PolicyOverrides::default();
        if sets_policy {
            auth::authorize(principal, Activity::ManagePolicy, &scope.target(), now)?;
        }
        let metadata = check_metadata(new.metadata, "metadata.")?;
        self.check_product_policy(&scope.project, &new.key, &policy)?;
        if scope.project.has_product(&new.key) {
            return Err(ServiceError::Conflict(format!("project {project} already has a product {}", new.key)));
        }
        let product = Product { key: new.key.clone(), metadata, policy };
        let mut updated = scope.project;
        updated.products.push(product.clone());
        let mut change = Change::new().write(Write::UpdateProject(updated)).event(product_event(
            now,
            principal,
            project,
            &new.key,
            EventKind::MetadataChanged,
        ));
        if sets_policy {
            change = change.event(product_event(now, principal, project, &new.key, EventKind::PolicyChanged));
        }
        self.commit(change).await?;
        Ok(product)
    }

    /// Replaces a product's metadata, its policy overrides, or both (see [`ProductUpdate`]).
    pub async fn update_product(
        &self,
        principal: &Principal,
        project: &ProjectKey,
        product: &ProductKey,
        update: ProductUpdate,
        now: Timestamp,
    ) -> ServiceResult<Product> {
        if update.metadata.is_none() && update.policy.is_none() {
            return Err(ServiceError::Invalid("send metadata, policy, or both".into()));
        }
        let first = if update.metadata.is_some() { Activity::ManageMetadata } else { Activity::ManagePolicy };
        let scope = self.authorized_project(principal, first, project, now).await?;
        if update.metadata.is_some() && update.policy.is_some() {
            auth::authorize(principal, Activity::ManagePolicy, &scope.target(), now)?;
        }
        let metadata = update.metadata.map(|m| check_metadata(m, "metadata.")).transpose()?;
        if let Some(policy) = &update.policy {
            self.check_product_policy(&scope.project, product, policy)?;
        }
        let mut updated = scope.project;
        let Some(stored) = updated.products.iter_mut().find(|p| &p.key == product) else {
            return Err(ServiceError::NotFound(format!("product {product} of project {project}")));
        };
        let changed_metadata = metadata.is_some();
        if let Some(metadata) = metadata {
            stored.metadata = metadata;
        }
        let changed_policy = update.policy.is_some();
        if let Some(policy) = update.policy {
            stored.policy = policy;
        }
        let changed = stored.clone();
        let mut change = Change::new().write(Write::UpdateProject(updated));
        if changed_metadata {
            change = change.event(product_event(now, principal, project, product, EventKind::MetadataChanged));
        }
        if changed_policy {
            change = change.event(product_event(now, principal, project, product, EventKind::PolicyChanged));
        }
        self.commit(change).await?;
        Ok(changed)
    }
}
