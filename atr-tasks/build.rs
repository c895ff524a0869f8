//! Builds the license detector's store for the license audit (`src/analyze/archive/audit.rs`).
//!
//! The `spdx` crate embeds the SPDX license list as a detection store of about 700 licenses, which
//! takes about half a second to load. The audit needs only the licenses the foundation's policy
//! names (`atr-core/src/model/license_table.rs`), so this script loads the full store once, at
//! build time, and writes two small stores into `OUT_DIR` that the audit loads in milliseconds:
//!
//! * `licenses.store`: each listed license's standard headers, and its full text when that is
//!   short enough to sit near the top of a file (a long text can only be recognised by its
//!   header, since the audit reads the first lines of each file);
//! * `exceptions.store`: the texts of the build-tool exceptions (Autoconf, Libtool, Bison).

use std::path::PathBuf;

use spdx::detection::{LicenseEntry, Store, TextData};

include!("../atr-core/src/model/license_table.rs");

/// Longest license text kept in full, in bytes: about the 40 lines the audit reads.
const MAX_FULL_TEXT: usize = 4000;

fn main() {
    println!("cargo::rerun-if-changed=../atr-core/src/model/license_table.rs");
    println!("cargo::rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let full = Store::load_inline().expect("the spdx crate's embedded store loads");
    let listed: Vec<&str> = APPROVED.iter().chain(RESTRICTED).chain(PROHIBITED).copied().collect();
    let mut licenses = Store::new();
    for (name, entry) in full.iter() {
        let names_listed =
            listed.contains(&name.as_str()) || entry.aliases.iter().any(|a| listed.contains(&a.as_str()));
        if !names_listed {
            continue;
        }
        let short = spdx::text::LICENSE_TEXTS
            .iter()
            .find(|(id, _)| id == name)
            .is_some_and(|(_, text)| text.len() <= MAX_FULL_TEXT);
        if !short && entry.headers.is_empty() {
            continue;
        }
        let mut kept = LicenseEntry::new(if short { entry.original.clone() } else { TextData::new("") });
        kept.headers.clone_from(&entry.headers);
        if short {
            kept.alternates.clone_from(&entry.alternates);
        }
        kept.aliases.clone_from(&entry.aliases);
        licenses.insert_entry(name.clone(), kept);
    }
    let mut exceptions = Store::new();
    for id in BUILD_TOOL_EXCEPTIONS {
        let Some((_, text)) = spdx::text::EXCEPTION_TEXTS.iter().find(|(name, _)| name == id) else {
            panic!("the spdx crate has no text for the exception {id}");
        };
        exceptions.add_license((*id).to_owned(), TextData::new(text).without_text());
    }
    for (store, file) in [(&licenses, "licenses.store"), (&exceptions, "exceptions.store")] {
        let mut bytes = Vec::new();
        store.to_cache(&mut bytes).expect("the store serializes");
        #[expect(clippy::disallowed_methods, reason = "a build script writes its output into OUT_DIR")]
        std::fs::write(out.join(file), bytes).expect("OUT_DIR is writable");
    }
}
