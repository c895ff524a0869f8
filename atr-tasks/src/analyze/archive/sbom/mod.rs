//! SBOM documents: CycloneDX JSON (`*.cdx.json`) and SPDX 2 JSON (`*.spdx.json`), validated against
//! their official schemas, embedded from `assets/sbom` (see its README for where each comes from).
//! Every `$ref` resolves to an embedded schema; nothing is fetched.
//!
//! A document that validates is then judged on its quality, each a finding of its own:
//!
//! * the NTIA minimum elements ([`ntia`]: supplier, component name, version, unique identifiers,
//!   dependency relationships, author, timestamp), with a score such as
//!   `NTIA minimum elements: 5 of 7 (71%)` and, per element missing, how many components lack it
//!   and the first few of them: a [`Warning`](CheckStatus::Warning) unless all seven are there;
//! * whether it describes an artifact of its release ([`subject`]: by digest, file name, or name
//!   and version), a [`Warning`](CheckStatus::Warning) when it does not, checked when the release's
//!   artifacts are known ([`check_sbom_in`]).

use std::sync::OnceLock;

use atr_core::model::CheckStatus;
use atr_core::types::ReleasePath;
use jsonschema::{Registry, Validator};
use serde_json::Value;

use crate::analyze::Finding;

mod ntia;
mod subject;

pub use subject::{ReleaseArtifact, SbomRelease};

/// The checker name of SBOM findings.
const CHECKER: &str = atr_core::model::revision::SBOM_CHECKER;
/// Largest SBOM read, in bytes.
pub const MAX_SBOM_SIZE: usize = 64 * 1024 * 1024;
/// How many schema errors a finding lists.
const LISTED_ERRORS: usize = 10;
/// How many subjects [`sbom_subjects`] returns at most.
const MAX_SUBJECTS: usize = 10_000;

/// Where the CycloneDX schemas live; their `$ref`s are relative to it.
const CYCLONEDX_BASE: &str = "http://cyclonedx.org/schema/";

/// The CycloneDX versions validated, with their schemas.
const CYCLONEDX: [(&str, &str); 6] = [
    ("1.2", include_str!("../../../../assets/sbom/bom-1.2.SNAPSHOT.schema.json")),
    ("1.3", include_str!("../../../../assets/sbom/bom-1.3.SNAPSHOT.schema.json")),
    ("1.4", include_str!("../../../../assets/sbom/bom-1.4.SNAPSHOT.schema.json")),
    ("1.5", include_str!("../../../../assets/sbom/bom-1.5.SNAPSHOT.schema.json")),
    ("1.6", include_str!("../../../../assets/sbom/bom-1.6.SNAPSHOT.schema.json")),
    ("1.7", include_str!("../../../../assets/sbom/bom-1.7.SNAPSHOT.schema.json")),
];

/// The schemas the CycloneDX schemas refer to, by file name under [`CYCLONEDX_BASE`].
const CYCLONEDX_REFERENCED: [(&str, &str); 3] = [
    ("spdx.SNAPSHOT.schema.json", include_str!("../../../../assets/sbom/spdx.SNAPSHOT.schema.json")),
    ("jsf-0.82.SNAPSHOT.schema.json", include_str!("../../../../assets/sbom/jsf-0.82.SNAPSHOT.schema.json")),
    (
        "cryptography-defs.SNAPSHOT.schema.json",
        include_str!("../../../../assets/sbom/cryptography-defs.SNAPSHOT.schema.json"),
    ),
];

/// The mandatory fields of an SPDX 2.2 or 2.3 JSON document, as a schema written for this
/// project from the SPDX 2.3 specification (the official schema is not shipped by any package
/// this build can use); it checks what must be there and its types, not every optional field.
const SPDX_2_3: &str = include_str!("../../../../assets/sbom/spdx-2-document.schema.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    CycloneDx,
    Spdx,
}

impl Format {
    fn of_name(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".cdx.json") {
            Some(Self::CycloneDx)
        } else if lower.ends_with(".spdx.json") {
            Some(Self::Spdx)
        } else {
            None
        }
    }

    fn of_document(document: &Value) -> Option<Self> {
        if document.get("bomFormat").is_some() {
            Some(Self::CycloneDx)
        } else if document.get("spdxVersion").is_some() {
            Some(Self::Spdx)
        } else {
            None
        }
    }
}

/// Compiles one embedded schema, with every referenced schema registered.
fn compile(schema: &str) -> Result<Validator, String> {
    let schema: Value = serde_json::from_str(schema).map_err(|e| format!("embedded schema is not JSON: {e}"))?;
    let mut builder = Registry::new();
    for (name, text) in CYCLONEDX_REFERENCED {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("embedded schema {name} is not JSON: {e}"))?;
        builder = builder.add(format!("{CYCLONEDX_BASE}{name}"), value).map_err(|e| e.to_string())?;
    }
    let registry = builder.prepare().map_err(|e| e.to_string())?;
    jsonschema::options().offline().with_registry(&registry).build(&schema).map_err(|e| e.to_string())
}

/// The compiled validator of a CycloneDX version or of SPDX 2, compiled once.
fn validator(format: Format, version: &str) -> Option<&'static Result<Validator, String>> {
    static CYCLONEDX_VALIDATORS: [OnceLock<Result<Validator, String>>; 6] = [const { OnceLock::new() }; 6];
    static SPDX_VALIDATOR: OnceLock<Result<Validator, String>> = OnceLock::new();
    match format {
        Format::CycloneDx => {
            let index = CYCLONEDX.iter().position(|(v, _)| *v == version)?;
            Some(CYCLONEDX_VALIDATORS[index].get_or_init(|| compile(CYCLONEDX[index].1)))
        }
        Format::Spdx => Some(SPDX_VALIDATOR.get_or_init(|| compile(SPDX_2_3))),
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Checks one SBOM file: it parses as JSON and validates against the schema of its format and version.
///
/// The format comes from the name (`*.cdx.json`, `*.spdx.json`), else from the document. CycloneDX
/// 1.2 to 1.7 and SPDX 2.2 and 2.3 are read; anything else, a file over [`MAX_SBOM_SIZE`], non-JSON, or
/// a document breaking its schema is a Blocker, the latter listing the first errors by JSON pointer.
///
/// A valid document then gets its NTIA minimum elements finding (see the module documentation). Whether it
/// describes an artifact of its release is judged by [`check_sbom_in`], which knows the release.
pub fn check_sbom(path: &ReleasePath, bytes: &[u8]) -> Vec<Finding> {
    check_sbom_in(path, bytes, &SbomRelease::default())
}

/// [`check_sbom`], and for a valid document whether it describes one of `release`'s artifacts (unless
/// `release` lists none).
pub fn check_sbom_in(path: &ReleasePath, bytes: &[u8], release: &SbomRelease) -> Vec<Finding> {
    let file = path.file_name();
    let blocker = |message: String| vec![Finding::new(CHECKER, path, CheckStatus::Blocker, message)];
    if bytes.len() > MAX_SBOM_SIZE {
        return blocker(format!(
            "{file} is larger than {} MiB, the most an SBOM may hold here.",
            MAX_SBOM_SIZE / (1024 * 1024)
        ));
    }
    let document: Value = match serde_json::from_slice(bytes) {
        Ok(document) => document,
        Err(e) => {
            return blocker(format!(
                "{file} is not valid JSON (line {}, column {}: {e}). An SBOM must be a JSON document.",
                e.line(),
                e.column()
            ));
        }
    };
    let Some(format) = Format::of_name(file).or_else(|| Format::of_document(&document)) else {
        return blocker(format!("{file} is neither a CycloneDX nor an SPDX JSON document."));
    };
    let (label, version, count) = match format {
        Format::CycloneDx => {
            let version = document.get("specVersion").and_then(Value::as_str).unwrap_or_default();
            let count = document.get("components").and_then(Value::as_array).map_or(0, Vec::len);
            (format!("CycloneDX {version}"), version.to_owned(), format!("{count} components"))
        }
        Format::Spdx => {
            let version = document.get("spdxVersion").and_then(Value::as_str).unwrap_or_default();
            let count = document.get("packages").and_then(Value::as_array).map_or(0, Vec::len);
            (version.replace('-', " "), version.to_owned(), format!("{count} packages"))
        }
    };
    let validator = match format {
        Format::CycloneDx => validator(format, &version),
        Format::Spdx if matches!(version.as_str(), "SPDX-2.2" | "SPDX-2.3") => validator(format, &version),
        Format::Spdx => None,
    };
    let Some(validator) = validator else {
        let (field, known) = match format {
            Format::CycloneDx => ("/specVersion", "1.2 to 1.7"),
            Format::Spdx => ("/spdxVersion", "SPDX-2.2 and SPDX-2.3"),
        };
        return blocker(format!(
            "{file}: {field} is {}, but only {known} can be validated. Write the SBOM in a supported version.",
            document.pointer(field).map_or_else(|| "missing".to_owned(), |v| shorten(&v.to_string(), 40))
        ));
    };
    let validator = match validator {
        Ok(validator) => validator,
        Err(e) => {
            return vec![Finding::new(
                CHECKER,
                path,
                CheckStatus::Exception,
                format!("The {label} schema could not be compiled: {e}"),
            )];
        }
    };
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .take(LISTED_ERRORS + 1)
        .map(|error| {
            let pointer = error.instance_path().as_str();
            let pointer = if pointer.is_empty() { "/" } else { pointer };
            format!("{pointer}: {}", shorten(&error.to_string(), 200))
        })
        .collect();
    if errors.is_empty() {
        let mut findings = vec![Finding::new(
            CHECKER,
            path,
            CheckStatus::Success,
            format!("{file} is a valid {label} document ({count})."),
        )];
        let (complete, message) = ntia::Elements::of(format, &document).verdict();
        let status = if complete { CheckStatus::Success } else { CheckStatus::Warning };
        findings.push(Finding::new(CHECKER, path, status, message));
        if !release.artifacts.is_empty() {
            let (described, message) = subject::describes(format, &document, file, release);
            let status = if described { CheckStatus::Success } else { CheckStatus::Warning };
            findings.push(Finding::new(CHECKER, path, status, message));
        }
        return findings;
    }
    let more = if errors.len() > LISTED_ERRORS { "; and more" } else { "" };
    blocker(format!(
        "{file} does not follow the {label} schema: {}{more}. Fix the SBOM and upload it again.",
        errors.iter().take(LISTED_ERRORS).cloned().collect::<Vec<_>>().join("; ")
    ))
}

/// What an SBOM describes, to match against the release's artifacts: for CycloneDX, `name@version` (or
/// `name`) of the metadata component and of the top-level components; for SPDX, each package's
/// `packageFileName`, else its `name@versionInfo`. Empty when the bytes are not a readable SBOM.
pub fn sbom_subjects(bytes: &[u8]) -> Vec<String> {
    if bytes.len() > MAX_SBOM_SIZE {
        return Vec::new();
    }
    let Ok(document) = serde_json::from_slice::<Value>(bytes) else {
        return Vec::new();
    };
    let named = |item: &Value, version_key: &str| {
        let name = item.get("name").and_then(Value::as_str)?;
        Some(match item.get(version_key).and_then(Value::as_str) {
            Some(version) => format!("{name}@{version}"),
            None => name.to_owned(),
        })
    };
    let mut subjects: Vec<String> = Vec::new();
    let mut push = |subject: Option<String>| {
        if let Some(subject) = subject
            && subjects.len() < MAX_SUBJECTS
            && !subjects.contains(&subject)
        {
            subjects.push(subject);
        }
    };
    match Format::of_document(&document) {
        Some(Format::CycloneDx) => {
            push(document.pointer("/metadata/component").and_then(|c| named(c, "version")));
            for component in document.get("components").and_then(Value::as_array).into_iter().flatten() {
                push(named(component, "version"));
            }
        }
        Some(Format::Spdx) => {
            for package in document.get("packages").and_then(Value::as_array).into_iter().flatten() {
                let file_name = package.get("packageFileName").and_then(Value::as_str).map(str::to_owned);
                push(file_name.or_else(|| named(package, "versionInfo")));
            }
        }
        None => {}
    }
    subjects
}
