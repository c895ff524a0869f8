//! The dependency rules of ARCHITECTURE.md, read from `cargo metadata`.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// The resolved graph: package id -> (name, normal dependencies' package ids).
struct Graph {
    names: BTreeMap<String, String>,
    normal_deps: BTreeMap<String, Vec<String>>,
}

fn graph() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--manifest-path", manifest])
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let names = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap().to_owned(), p["name"].as_str().unwrap().to_owned()))
        .collect();
    let normal_deps = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            let deps = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                // Only dependencies used by the library itself: not dev- or build-dependencies.
                .filter(|d| d["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].is_null()))
                .map(|d| d["pkg"].as_str().unwrap().to_owned())
                .collect();
            (node["id"].as_str().unwrap().to_owned(), deps)
        })
        .collect();
    Graph { names, normal_deps }
}

impl Graph {
    fn id_of(&self, name: &str) -> &str {
        self.names.iter().find(|(_, n)| *n == name).map(|(id, _)| id.as_str()).expect("package in workspace")
    }

    /// Names of every package `name` depends on, directly or not, through normal dependencies.
    fn closure(&self, name: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![self.id_of(name).to_owned()];
        while let Some(id) = stack.pop() {
            for dep in &self.normal_deps[&id] {
                if seen.insert(dep.clone()) {
                    stack.push(dep.clone());
                }
            }
        }
        seen.into_iter().map(|id| self.names[&id].clone()).collect()
    }

    fn direct(&self, name: &str) -> BTreeSet<String> {
        self.normal_deps[self.id_of(name)].iter().map(|id| self.names[id].clone()).collect()
    }
}

#[test]
fn core_has_no_io_dependencies() {
    let closure = graph().closure("atr-core");
    let forbidden = ["tokio", "sqlx", "sqlx-core", "axum", "hyper", "pyo3", "sequoia-openpgp", "mockall", "reqwest"];
    let found: Vec<_> = forbidden.iter().filter(|f| closure.contains(**f)).collect();
    assert!(found.is_empty(), "atr-core must stay pure, but depends on {found:?} (closure: {closure:?})");
    // The closure is not empty: the test really reads the graph.
    assert!(closure.contains("serde"), "atr-core's closure should contain serde: {closure:?}");
}

#[test]
fn arrows_point_one_way() {
    let g = graph();
    let workspace = ["atr-core", "atr-api", "atr-store", "atr-tasks", "atr-http", "atr-cli", "atr-py", "atr-testkit"];
    let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("atr-core", &[][..]),
        ("atr-api", &["atr-core"][..]),
        ("atr-store", &["atr-core"][..]),
        ("atr-tasks", &["atr-core", "atr-store"][..]),
        ("atr-http", &["atr-core", "atr-api", "atr-store", "atr-tasks"][..]),
        ("atr-cli", &["atr-core", "atr-api", "atr-store", "atr-tasks", "atr-http"][..]),
        ("atr-py", &["atr-core", "atr-api", "atr-store", "atr-tasks"][..]),
        // Test support: the service and its storage, set up the way the service does.
        ("atr-testkit", &["atr-core", "atr-store", "atr-http"][..]),
    ]);
    for krate in workspace {
        for dep in g.direct(krate) {
            if workspace.contains(&dep.as_str()) {
                assert!(allowed[krate].contains(&dep.as_str()), "{krate} must not depend on {dep}");
            }
        }
    }
}

/// The wire contract is plain data: the service and its clients share it, so it brings no
/// runtime, no database and no HTTP stack of its own; and both frontends speak it.
#[test]
fn the_wire_contract_is_shared_and_plain() {
    let g = graph();
    let closure = g.closure("atr-api");
    let forbidden = ["tokio", "sqlx", "sqlx-core", "axum", "hyper", "reqwest", "atr-store", "atr-tasks"];
    let found: Vec<_> = forbidden.iter().filter(|f| closure.contains(**f)).collect();
    assert!(found.is_empty(), "atr-api must stay plain data, but depends on {found:?}");
    assert!(closure.contains("utoipa"), "atr-api describes itself with utoipa: {closure:?}");
    for frontend in ["atr-http", "atr-cli"] {
        assert!(g.direct(frontend).contains("atr-api"), "{frontend} speaks the wire contract of atr-api");
    }
}

/// SQL is written in `atr-store` only: no other crate of the workspace can even name sqlx.
#[test]
fn only_the_store_speaks_sql() {
    let g = graph();
    for krate in ["atr-core", "atr-api", "atr-tasks", "atr-http", "atr-cli", "atr-py"] {
        let direct = g.direct(krate);
        let found: Vec<_> = ["sqlx", "sqlx-core"].into_iter().filter(|s| direct.contains(*s)).collect();
        assert!(found.is_empty(), "{krate} must reach the database through atr-store, but depends on {found:?}");
    }
    assert!(g.direct("atr-store").contains("sqlx"), "the test really reads the graph");
}
