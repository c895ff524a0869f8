//! A release folder as a browser sees it: an HTML listing with sizes, links to each artifact's
//! signature and checksum and to the committee's KEYS, and how to verify a download.

use askama::Template;

use super::view::size;

/// One entry of a folder.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) folder: bool,
    pub(crate) size: u64,
}

struct Row {
    name: String,
    href: String,
    size: String,
    kind: &'static str,
}

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingPage {
    layout: super::Layout,
    heading: String,
    revision: String,
    stage: String,
    revoked: Option<String>,
    parent: Option<String>,
    rows: Vec<Row>,
    keys_url: String,
    release_url: String,
    example: Option<String>,
}

/// What the listing shows.
#[derive(Debug)]
pub(crate) struct Folder<'a> {
    pub(crate) release: &'a atr_core::model::Release,
    pub(crate) stage: &'a str,
    pub(crate) revision: String,
    /// The folder inside the release, ending in `/`, or empty for its root.
    pub(crate) prefix: &'a str,
    pub(crate) entries: Vec<Entry>,
}

/// What a file is, by its suffix.
fn kind(name: &str) -> &'static str {
    let suffix = name.rsplit_once('.').map(|(_, s)| s.to_ascii_lowercase()).unwrap_or_default();
    match suffix.as_str() {
        "asc" => "signature",
        "sha512" | "sha256" => "checksum",
        _ => "file",
    }
}

/// The HTML of a folder listing.
pub(crate) fn render(folder: &Folder<'_>) -> Result<String, askama::Error> {
    let key = &folder.release.key;
    let name = match &key.product {
        Some(product) => format!("{} {product} {}", key.project, key.version),
        None => format!("{} {}", key.project, key.version),
    };
    let rows = folder
        .entries
        .iter()
        .map(|e| Row {
            href: if e.folder { format!("{}/", e.name) } else { e.name.clone() },
            name: if e.folder { format!("{}/", e.name) } else { e.name.clone() },
            size: size(e.size),
            kind: if e.folder { "folder" } else { kind(&e.name) },
        })
        .collect();
    let example = folder
        .entries
        .iter()
        .find(|e| !e.folder && folder.entries.iter().any(|s| s.name == format!("{}.asc", e.name)))
        .map(|e| e.name.clone());
    let page = ListingPage {
        layout: super::Layout::bare(format!("{name} ({})", folder.stage)),
        heading: format!("{name}/{}", folder.prefix),
        revision: folder.revision.clone(),
        stage: folder.stage.to_owned(),
        revoked: folder.release.revocation.as_ref().map(|r| r.reason.clone()),
        parent: (!folder.prefix.is_empty()).then(|| "../".to_owned()),
        rows,
        keys_url: format!("/api/committees/{}/KEYS", folder.release.committee),
        release_url: super::release_url(key),
        example,
    };
    page.render()
}
