//! Whether an SBOM describes an artifact of its release: by digest, by file name, or by name and
//! version.
//!
//! The subject of a CycloneDX document is its `metadata.component`; those of an SPDX document are
//! the packages it describes (`documentDescribes`, or a `DESCRIBES` relationship from the document,
//! or a `DESCRIBED_BY` one to it).

use std::collections::HashSet;

use atr_core::types::ReleasePath;
use serde_json::Value;

use super::Format;

/// Most subjects, and digests of one subject, read.
const MAX_SUBJECTS: usize = 1_000;
/// Most relationships read to find the subjects.
const MAX_RELATIONS: usize = 1_000_000;
/// How many artifacts or subjects a message names.
const NAMED: usize = 3;
/// Longest name shown, in characters.
const SHOWN: usize = 60;

/// What the SBOM check knows of the release its SBOM is in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SbomRelease {
    /// The release's version, when known (the Analyze task knows it; `atr check` does not).
    pub version: Option<String>,
    /// The release's artifacts other than SBOMs. When empty, the SBOM's subject is not matched.
    pub artifacts: Vec<ReleaseArtifact>,
}

/// An artifact of the release, with the digests computed of it, if it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseArtifact {
    pub path: ReleasePath,
    pub sha512: Option<Vec<u8>>,
    pub sha256: Option<Vec<u8>>,
}

/// One thing the SBOM says it describes.
#[derive(Debug, Default)]
struct Subject {
    name: Option<String>,
    version: Option<String>,
    file_name: Option<String>,
    /// `(algorithm, lower-case hex)`, algorithm as upper case without `-`.
    digests: Vec<(String, String)>,
}

impl Subject {
    fn label(&self) -> String {
        let text = match (&self.name, &self.version, &self.file_name) {
            (_, _, Some(file)) => file.clone(),
            (Some(name), Some(version), None) => format!("{name} {version}"),
            (Some(name), None, None) => name.clone(),
            (None, _, None) => "an unnamed component".to_owned(),
        };
        shown(&text)
    }
}

fn shown(text: &str) -> String {
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if clean.chars().count() <= SHOWN { clean } else { format!("{}…", clean.chars().take(SHOWN).collect::<String>()) }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn array<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn digest(algorithm: &str, value: &str) -> (String, String) {
    (algorithm.to_ascii_uppercase().replace('-', ""), value.trim().to_ascii_lowercase())
}

fn subjects(format: Format, document: &Value) -> Vec<Subject> {
    match format {
        Format::CycloneDx => document
            .pointer("/metadata/component")
            .map(|c| Subject {
                name: text(c, "name"),
                version: text(c, "version"),
                file_name: None,
                digests: array(c, "hashes")
                    .take(MAX_SUBJECTS)
                    .filter_map(|h| Some(digest(&text(h, "alg")?, &text(h, "content")?)))
                    .collect(),
            })
            .into_iter()
            .collect(),
        Format::Spdx => {
            let document_id = text(document, "SPDXID").unwrap_or_else(|| "SPDXRef-DOCUMENT".to_owned());
            let mut described: HashSet<String> = array(document, "documentDescribes")
                .take(MAX_SUBJECTS)
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            for relationship in array(document, "relationships").take(MAX_RELATIONS) {
                let (Some(from), Some(kind), Some(to)) = (
                    text(relationship, "spdxElementId"),
                    text(relationship, "relationshipType"),
                    text(relationship, "relatedSpdxElement"),
                ) else {
                    continue;
                };
                if described.len() >= MAX_SUBJECTS {
                    break;
                }
                if kind == "DESCRIBES" && from == document_id {
                    described.insert(to);
                } else if kind == "DESCRIBED_BY" && to == document_id {
                    described.insert(from);
                }
            }
            array(document, "packages")
                .filter(|p| text(p, "SPDXID").is_some_and(|id| described.contains(&id)))
                .take(MAX_SUBJECTS)
                .map(|p| Subject {
                    name: text(p, "name"),
                    version: text(p, "versionInfo"),
                    file_name: text(p, "packageFileName"),
                    digests: array(p, "checksums")
                        .take(MAX_SUBJECTS)
                        .filter_map(|c| Some(digest(&text(c, "algorithm")?, &text(c, "checksumValue")?)))
                        .collect(),
                })
                .collect()
        }
    }
}

/// How a subject matches an artifact, if it does.
fn matches(subject: &Subject, artifact: &ReleaseArtifact, version: Option<&str>) -> Option<&'static str> {
    let by_digest = subject.digests.iter().any(|(algorithm, value)| {
        let ours = match algorithm.as_str() {
            "SHA512" => artifact.sha512.as_deref(),
            "SHA256" => artifact.sha256.as_deref(),
            _ => None,
        };
        ours.is_some_and(|ours| crate::analyze::text::hex(ours) == *value)
    });
    if by_digest {
        return Some("by digest");
    }
    let file = artifact.path.file_name().to_ascii_lowercase();
    if subject.file_name.as_ref().is_some_and(|f| {
        let f = f.to_ascii_lowercase();
        f == file || f == artifact.path.as_str().to_ascii_lowercase()
    }) {
        return Some("by file name");
    }
    let name = subject.name.as_ref()?.to_ascii_lowercase().replace(' ', "-");
    let subject_version = subject.version.as_ref()?;
    let version_ok = file.contains(&subject_version.to_ascii_lowercase()) || version == Some(subject_version.as_str());
    (file.contains(&name) && version_ok).then_some("by name and version")
}

/// `(is it described, message)` for an SBOM whose release has artifacts.
pub(super) fn describes(format: Format, document: &Value, file: &str, release: &SbomRelease) -> (bool, String) {
    let subjects = subjects(format, document);
    if subjects.is_empty() {
        let field = match format {
            Format::CycloneDx => "metadata.component",
            Format::Spdx => "documentDescribes or a DESCRIBES relationship",
        };
        return (
            false,
            format!(
                "{file} does not say what it describes (no {field}), so it cannot be tied to an artifact of this \
                 release; name the release's artifact as its subject."
            ),
        );
    }
    for subject in &subjects {
        for artifact in &release.artifacts {
            if let Some(how) = matches(subject, artifact, release.version.as_deref()) {
                return (true, format!("{file} describes {}, an artifact of this release ({how}).", artifact.path));
            }
        }
    }
    let mut described: Vec<String> = subjects.iter().take(NAMED).map(Subject::label).collect();
    if subjects.len() > NAMED {
        described.push(format!("and {} more", subjects.len() - NAMED));
    }
    let mut artifacts: Vec<String> = release.artifacts.iter().take(NAMED).map(|a| a.path.to_string()).collect();
    if release.artifacts.len() > NAMED {
        artifacts.push(format!("and {} more", release.artifacts.len() - NAMED));
    }
    (
        false,
        format!(
            "{file} describes {}, which matches none of this release's artifacts ({}) by name and version or by \
             digest. An SBOM in a release should describe the release's own artifact: check that it was generated \
             for this version.",
            described.join(", "),
            artifacts.join(", ")
        ),
    )
}
