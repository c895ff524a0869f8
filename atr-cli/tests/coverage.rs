//! Every operation of the API has a client command: each operation id in
//! `atr_api::endpoints::ENDPOINTS` is called by name somewhere in the client's source, or is in
//! the short list of exceptions below, each with its reason.

use std::collections::{BTreeMap, BTreeSet};

/// Operations no client command calls by name, and why.
const EXCEPTIONS: &[(&str, &str)] = &[
    ("openapi", "the API's own description, read by tools (`/api/openapi.json`), not a task of a person"),
    ("download_candidate", "`atr download` reaches the stages by the coordinates it is given (STAGE/PROJECT/...)"),
    ("download_current", "`atr download` reaches the stages by the coordinates it is given (STAGE/PROJECT/...)"),
    ("download_revoked", "`atr download` reaches the stages by the coordinates it is given (STAGE/PROJECT/...)"),
    ("candidate_root", "the root of a stage names no project: it only ever answers 400"),
    ("current_root", "the root of a stage names no project: it only ever answers 400"),
    ("revoked_root", "the root of a stage names no project: it only ever answers 400"),
    (
        "healthz",
        "the liveness probe of orchestrators; `atr status` reads `/readyz`, which answers only when the process does",
    ),
    ("metrics", "the exposition for Prometheus scrapers, read by them and not by people (docs/operations.md)"),
];

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The operations declared in the catalogue's source: type name to operation id, from lines
/// such as `StartRelease = "start_release": Post "/api/..." {`.
fn declared() -> BTreeMap<String, String> {
    let source = read("../atr-api/src/endpoints.rs");
    let mut found = BTreeMap::new();
    for line in source.lines() {
        let Some((name, rest)) = line.trim().split_once(" = \"") else { continue };
        let Some((id, rest)) = rest.split_once("\": ") else { continue };
        let is_method = ["Get ", "Post ", "Put ", "Delete "].iter().any(|m| rest.starts_with(m));
        if is_method && name.chars().all(|c| c.is_ascii_alphanumeric()) {
            found.insert(name.to_owned(), id.to_owned());
        }
    }
    found
}

/// The client's source files.
fn client_sources() -> String {
    let dir = format!("{}/src/client", env!("CARGO_MANIFEST_DIR"));
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            text.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    text
}

/// Whether `source` names the operation type `name` (as `op::Name`, `endpoints::Name` or a
/// `use` of it), as a whole word.
fn names(source: &str, name: &str) -> bool {
    source.match_indices(name).any(|(at, _)| {
        let before = &source[..at];
        let after = source[at + name.len()..].chars().next();
        let whole = !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        whole && (before.ends_with("op::") || before.ends_with("endpoints::"))
    })
}

#[test]
fn every_api_operation_has_a_client_command() {
    let declared = declared();
    let ids: BTreeSet<&str> = atr_api::ENDPOINTS.iter().map(|e| e.id).collect();
    let parsed: BTreeSet<&str> = declared.values().map(String::as_str).collect();
    assert_eq!(parsed, ids, "the operations read from endpoints.rs are not those of ENDPOINTS");

    let source = client_sources();
    let exceptions: BTreeMap<&str, &str> = EXCEPTIONS.iter().copied().collect();
    let mut missing = Vec::new();
    for (name, id) in &declared {
        let used = names(&source, name);
        match (used, exceptions.get(id.as_str())) {
            (true, Some(_)) => panic!("{id} is used by a command: take it off the exceptions"),
            (true, None) | (false, Some(_)) => {}
            (false, None) => missing.push(format!("{id} ({name})")),
        }
    }
    assert!(missing.is_empty(), "operations without a client command: {missing:?}");
    for (id, reason) in EXCEPTIONS {
        assert!(ids.contains(id), "the exception {id} is not an operation");
        assert!(!reason.is_empty());
    }
}

#[test]
fn the_source_scan_tells_a_use_from_a_longer_name() {
    assert!(names("let x = api.op(op::GetRelease, &path)", "GetRelease"));
    assert!(!names("let x = api.op(op::GetReleases, &path)", "GetRelease"));
    assert!(!names("GetRelease is mentioned in a comment", "GetRelease"));
}
