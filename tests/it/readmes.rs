//! Every crate's README is its crate documentation, and none of them is stale.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Phrases that READMEs written before the code said, and that the code has made untrue.
const STALE: [&str; 3] = ["not built yet", "no subcommands", "nothing is implemented yet"];

/// Each workspace package: its name, its folder, its `readme` as the manifest says, and the
/// source file of each of its library and binary targets.
fn packages() -> Vec<(String, PathBuf, Option<String>, Vec<PathBuf>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--locked", "--manifest-path", manifest])
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let members: Vec<&str> =
        meta["workspace_members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| members.contains(&p["id"].as_str().unwrap()))
        .map(|p| {
            let dir = Path::new(p["manifest_path"].as_str().unwrap()).parent().unwrap().to_path_buf();
            let roots = p["targets"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| {
                    t["kind"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| matches!(k.as_str(), Some("lib" | "rlib" | "cdylib" | "bin")))
                })
                .map(|t| PathBuf::from(t["src_path"].as_str().unwrap()))
                .collect();
            (p["name"].as_str().unwrap().to_owned(), dir, p["readme"].as_str().map(str::to_owned), roots)
        })
        .collect()
}

#[test]
fn every_crate_documents_itself_with_its_readme() {
    let packages = packages();
    assert!(packages.len() >= 6, "the workspace's packages were not all found: {packages:?}");
    for (name, dir, readme, roots) in packages {
        let readme_path = dir.join("README.md");
        let text = std::fs::read_to_string(&readme_path).unwrap_or_else(|e| panic!("{name} has no README.md: {e}"));
        assert!(text.starts_with(&format!("# {name}\n")), "{name}'s README starts with its name");
        let lower = text.to_lowercase();
        for stale in STALE {
            assert!(!lower.contains(stale), "{name}'s README says {stale:?}");
        }
        if let Some(readme) = readme {
            assert_eq!(dir.join(readme), readme_path, "{name}'s manifest names another README");
        }
        assert!(!roots.is_empty(), "{name} has no library or binary");
        for root in roots {
            let source = std::fs::read_to_string(&root).unwrap();
            let include = source
                .lines()
                .find_map(|line| line.trim().strip_prefix("#![doc = include_str!(\"")?.strip_suffix("\")]"))
                .unwrap_or_else(|| panic!("{} does not include its README as the crate documentation", root.display()));
            let included = root.parent().unwrap().join(include);
            assert_eq!(
                included.canonicalize().unwrap(),
                readme_path.canonicalize().unwrap(),
                "{} includes {include}, not its crate's README",
                root.display()
            );
            assert!(
                source.lines().all(|l| !l.trim_start().starts_with("//!")),
                "{}: the crate documentation is the README alone",
                root.display()
            );
        }
    }
}
