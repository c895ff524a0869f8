//! Projects and their products.

use serde::{Deserialize, Serialize};

use crate::policy::PolicyOverrides;
use crate::types::{CommitteeKey, ProductKey, ProjectKey};

/// Descriptive metadata of a project or product.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Display name, such as "Apache HTTP Server".
    pub display_name: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub repository: Option<String>,
    pub issue_tracker: Option<String>,
}

/// A project of a committee. Its key is the second segment of every coordinate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub key: ProjectKey,
    /// The committee that owns the project; its people hold the project's roles.
    pub committee: CommitteeKey,
    pub metadata: Metadata,
    /// The project's vote policy settings; unset fields fall back to the foundation default.
    pub policy: PolicyOverrides,
    /// The sub-products; the main product has no entry.
    pub products: Vec<Product>,
}

impl Project {
    /// True if the project has a product with this key.
    pub fn has_product(&self, key: &ProductKey) -> bool {
        self.products.iter().any(|p| &p.key == key)
    }

    /// The product with this key.
    pub fn product(&self, key: &ProductKey) -> Option<&Product> {
        self.products.iter().find(|p| &p.key == key)
    }
}

/// A sub-product of a project, released on its own (`/current/tomcat/server/...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub key: ProductKey,
    pub metadata: Metadata,
    /// Overrides of the project's policy, field by field.
    pub policy: PolicyOverrides,
}
