//! Downloads by coordinates: the JSON listing of a release's folder.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::releases::Stage;

/// The release a listing is of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListedRelease {
    pub project: String,
    pub product: Option<String>,
    pub version: String,
    pub stage: Stage,
}

/// A folder entry's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    File,
    Folder,
}

/// One entry of a folder: a file with its size and SHA-512, or a sub-folder with the total size
/// of the files under it (and no digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListingEntry {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: EntryKind,
    pub size: u64,
    /// Lowercase hex; `null` for a folder.
    pub sha512: Option<String>,
}

/// A path ending in `/`: the folder of the release, from its revision's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FolderListing {
    pub release: ListedRelease,
    /// The revision served, as five digits (`00003`).
    pub revision: String,
    /// The folder listed, ending in `/`; empty for the release's root.
    pub path: String,
    /// Sorted by name.
    pub entries: Vec<ListingEntry>,
}
