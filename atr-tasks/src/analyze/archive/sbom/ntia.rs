//! The NTIA minimum elements of an SBOM ("The Minimum Elements For a Software Bill of Materials",
//! NTIA, 2021): for each component its supplier, name, version, unique identifiers and dependency
//! relationships, and for the document its author and timestamp.
//!
//! Where each element is read:
//!
//! | element | CycloneDX | SPDX 2 |
//! |---|---|---|
//! | supplier | `supplier.name` or `.url`, `publisher`, `manufacturer.name` | `supplier` (not `NOASSERTION`) |
//! | component name | `name` | `name` |
//! | version | `version` | `versionInfo` |
//! | unique identifiers | `purl`, `cpe`, `swid.tagId`, `omniborId`, `swhid` | `externalRefs` of type `purl`, `cpe22Type`, `cpe23Type`, `swid`, `gitoid`, `swh` |
//! | dependency relationships | the component's `bom-ref` in `dependencies` (as `ref` or in `dependsOn`), or nested components | the package's `SPDXID` in `relationships` or `documentDescribes` |
//! | author | `metadata.authors`, `metadata.manufacturer` or `metadata.manufacture` | a `Person:` or `Organization:` in `creationInfo.creators` |
//! | timestamp | `metadata.timestamp` | `creationInfo.created` |
//!
//! The components are CycloneDX's `metadata.component` and every component under `components`
//! (nested ones too), and SPDX's `packages`. Every count read from the document is bounded.

use std::collections::HashSet;

use serde_json::Value;

use super::Format;

/// Most components examined.
pub(super) const MAX_COMPONENTS: usize = 100_000;
/// Deepest nesting of CycloneDX components followed.
const MAX_DEPTH: usize = 32;
/// Most dependency or relationship entries, and identifiers of one entry, read.
const MAX_RELATIONS: usize = 1_000_000;
/// How many components a message names per element.
const NAMED: usize = 3;
/// Longest component name shown, in characters.
const SHOWN: usize = 60;

/// The seven elements, in the order messages list them.
const ELEMENTS: [&str; 7] =
    ["supplier", "component name", "version", "unique identifiers", "dependency relationships", "author", "timestamp"];

/// What one component has of the per-component elements.
#[derive(Debug, Default)]
struct Component {
    label: String,
    has: [bool; 5],
}

/// What the document has of the elements.
#[derive(Debug, Default)]
pub(super) struct Elements {
    components: Vec<Component>,
    /// More components than [`MAX_COMPONENTS`] were listed.
    truncated: bool,
    author: bool,
    timestamp: bool,
    /// Where the document-level elements are read, for the message.
    author_field: &'static str,
    timestamp_field: &'static str,
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn shown(text: &str) -> String {
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if clean.chars().count() <= SHOWN { clean } else { format!("{}…", clean.chars().take(SHOWN).collect::<String>()) }
}

fn label(item: &Value, version_key: &str, index: usize) -> String {
    match (text(item, "name"), text(item, version_key)) {
        (Some(name), Some(version)) => shown(&format!("{name}@{version}")),
        (Some(name), None) => shown(name),
        _ => format!("component #{}", index + 1),
    }
}

fn array<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value.get(key).and_then(Value::as_array).into_iter().flatten()
}

impl Elements {
    /// Reads the elements of a document that validated against its schema.
    pub(super) fn of(format: Format, document: &Value) -> Self {
        match format {
            Format::CycloneDx => cyclonedx(document),
            Format::Spdx => spdx(document),
        }
    }

    /// How many of the seven elements are present: a per-component element when every component has it.
    fn present(&self) -> [bool; 7] {
        let all = |i: usize| !self.components.is_empty() && self.components.iter().all(|c| c.has[i]);
        [all(0), all(1), all(2), all(3), all(4), self.author, self.timestamp]
    }

    /// The finding's status and message: `NTIA minimum elements: N of 7 (P%)`, then what is missing.
    pub(super) fn verdict(&self) -> (bool, String) {
        let present = self.present();
        let count = present.iter().filter(|p| **p).count();
        let score = format!("NTIA minimum elements: {count} of 7 ({}%)", count * 100 / 7);
        let total = self.components.len();
        let examined =
            if self.truncated { format!(" (only the first {MAX_COMPONENTS} were examined)") } else { String::new() };
        if count == 7 {
            return (
                true,
                format!(
                    "{score}: every one of its {total} components{examined} has a supplier, name, version, unique \
                     identifier and dependency relationships, and the document names its author and timestamp."
                ),
            );
        }
        let mut missing = Vec::new();
        for (i, element) in ELEMENTS.iter().enumerate().take(5) {
            if present[i] {
                continue;
            }
            if total == 0 {
                missing.push(format!("{element} (the SBOM lists no component)"));
                continue;
            }
            let lacking: Vec<&Component> = self.components.iter().filter(|c| !c.has[i]).collect();
            let mut names: Vec<String> = lacking.iter().take(NAMED).map(|c| c.label.clone()).collect();
            if lacking.len() > NAMED {
                names.push(format!("and {} more", lacking.len() - NAMED));
            }
            missing.push(format!("{element} for {} of {total} components ({})", lacking.len(), names.join(", ")));
        }
        if !self.author {
            missing.push(format!("author (none in {})", self.author_field));
        }
        if !self.timestamp {
            missing.push(format!("timestamp (no {})", self.timestamp_field));
        }
        (
            false,
            format!(
                "{score}{examined}. Missing: {}. Add them to the SBOM so that its users can tell who made each \
                 component and trace it.",
                missing.join("; ")
            ),
        )
    }
}

fn cyclonedx(document: &Value) -> Elements {
    let mut refs: HashSet<&str> = HashSet::new();
    for entry in array(document, "dependencies").take(MAX_RELATIONS) {
        if let Some(r) = text(entry, "ref") {
            refs.insert(r);
        }
        for target in array(entry, "dependsOn").take(MAX_RELATIONS) {
            if let Some(t) = target.as_str() {
                refs.insert(t);
            }
        }
        if refs.len() >= MAX_RELATIONS {
            break;
        }
    }
    let mut elements = Elements {
        author_field: "metadata.authors or metadata.manufacturer",
        timestamp_field: "metadata.timestamp",
        ..Elements::default()
    };
    let metadata = document.get("metadata");
    let named = |v: &Value| text(v, "name").is_some() || text(v, "email").is_some() || text(v, "url").is_some();
    elements.author = metadata.is_some_and(|m| {
        array(m, "authors").any(named)
            || m.get("manufacturer").is_some_and(named)
            || m.get("manufacture").is_some_and(named)
    });
    elements.timestamp = metadata.and_then(|m| text(m, "timestamp")).is_some();
    // Each component to look at, with whether it is nested in or holds other components.
    let mut stack: Vec<(&Value, usize, bool)> = Vec::new();
    for component in array(document, "components").collect::<Vec<_>>().into_iter().rev() {
        stack.push((component, 0, false));
    }
    if let Some(primary) = metadata.and_then(|m| m.get("component")) {
        stack.push((primary, 0, false));
    }
    while let Some((component, depth, nested)) = stack.pop() {
        if elements.components.len() >= MAX_COMPONENTS {
            elements.truncated = true;
            break;
        }
        let children: Vec<&Value> = array(component, "components").collect();
        let index = elements.components.len();
        let supplier =
            component.get("supplier").is_some_and(|s| text(s, "name").is_some() || array(s, "url").next().is_some())
                || text(component, "publisher").is_some()
                || component.get("manufacturer").is_some_and(|m| text(m, "name").is_some());
        let identifier = ["purl", "cpe", "omniborId", "swhid"].iter().any(|k| {
            text(component, k).is_some()
                || array(component, k).any(|v| v.as_str().is_some_and(|s| !s.trim().is_empty()))
        }) || component.get("swid").is_some_and(|s| text(s, "tagId").is_some());
        let related = nested || !children.is_empty() || text(component, "bom-ref").is_some_and(|r| refs.contains(r));
        elements.components.push(Component {
            label: label(component, "version", index),
            has: [
                supplier,
                text(component, "name").is_some(),
                text(component, "version").is_some(),
                identifier,
                related,
            ],
        });
        if depth < MAX_DEPTH {
            for child in children.into_iter().rev() {
                stack.push((child, depth + 1, true));
            }
        }
    }
    elements
}

/// SPDX external reference types that identify a package beyond the document.
const SPDX_IDENTIFIERS: [&str; 6] = ["purl", "cpe22Type", "cpe23Type", "swid", "gitoid", "swh"];

fn spdx(document: &Value) -> Elements {
    let mut ids: HashSet<&str> = HashSet::new();
    for relationship in array(document, "relationships").take(MAX_RELATIONS) {
        for side in ["spdxElementId", "relatedSpdxElement"] {
            if let Some(id) = text(relationship, side) {
                ids.insert(id);
            }
        }
    }
    for described in array(document, "documentDescribes").take(MAX_RELATIONS) {
        if let Some(id) = described.as_str() {
            ids.insert(id);
        }
    }
    let creation = document.get("creationInfo");
    let mut elements = Elements {
        author_field: "creationInfo.creators, as a Person or an Organization",
        timestamp_field: "creationInfo.created",
        ..Elements::default()
    };
    elements.author = creation.is_some_and(|c| {
        array(c, "creators").take(MAX_RELATIONS).filter_map(Value::as_str).any(|creator| {
            let creator = creator.trim_start();
            (creator.starts_with("Person:") || creator.starts_with("Organization:"))
                && creator.split_once(':').is_some_and(|(_, who)| !who.trim().is_empty())
        })
    });
    elements.timestamp = creation.and_then(|c| text(c, "created")).is_some();
    for (index, package) in array(document, "packages").enumerate() {
        if index >= MAX_COMPONENTS {
            elements.truncated = true;
            break;
        }
        let supplier = text(package, "supplier").is_some_and(|s| s != "NOASSERTION");
        let identifier = array(package, "externalRefs").take(MAX_RELATIONS).any(|r| {
            text(r, "referenceType").is_some_and(|t| SPDX_IDENTIFIERS.contains(&t))
                && text(r, "referenceLocator").is_some()
        });
        let related = text(package, "SPDXID").is_some_and(|id| ids.contains(id));
        elements.components.push(Component {
            label: label(package, "versionInfo", index),
            has: [
                supplier,
                text(package, "name").is_some(),
                text(package, "versionInfo").is_some(),
                identifier,
                related,
            ],
        });
    }
    elements
}
