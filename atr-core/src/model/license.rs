//! License categories: which licenses a release may contain.
//!
//! The model is the ASF's third-party license policy: category A licenses are approved, category B
//! licenses are restricted (binary inclusion only, so a source file under one needs a reviewer's
//! look) and category X licenses are prohibited. Licenses are named by their SPDX identifiers. A
//! license in none of the three lists is *unlisted*: known to SPDX but not yet judged, which the
//! license audit reports for a person to decide.
//!
//! GNU licenses are prohibited, but a file under one of them with a build-tool exception
//! ([`BUILD_TOOL_EXCEPTIONS`]: Autoconf, Libtool, Bison) is what those tools put into every
//! autotools source tree, and is accepted: [`category_with_exception`].

use serde::{Deserialize, Serialize};

include!("license_table.rs");

/// The category of a license under the foundation's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseCategory {
    /// Category A: may be included in source or binary form.
    Approved,
    /// Category B: binary form only, labelled.
    Restricted,
    /// Category X: may not be included.
    Prohibited,
}

impl LicenseCategory {
    /// The category's name in the ASF's policy.
    pub fn letter(self) -> &'static str {
        match self {
            Self::Approved => "A",
            Self::Restricted => "B",
            Self::Prohibited => "X",
        }
    }
}

/// The category of the license with SPDX identifier `id` (exact, as SPDX spells it), if listed.
pub fn category(id: &str) -> Option<LicenseCategory> {
    if APPROVED.contains(&id) {
        Some(LicenseCategory::Approved)
    } else if RESTRICTED.contains(&id) {
        Some(LicenseCategory::Restricted)
    } else if PROHIBITED.contains(&id) {
        Some(LicenseCategory::Prohibited)
    } else {
        None
    }
}

/// The category of `id` with the SPDX exception `exception`: a prohibited license with a build-tool
/// exception is approved; any other exception leaves the license's category as it is.
pub fn category_with_exception(id: &str, exception: &str) -> Option<LicenseCategory> {
    match category(id) {
        Some(LicenseCategory::Prohibited) if BUILD_TOOL_EXCEPTIONS.contains(&exception) => {
            Some(LicenseCategory::Approved)
        }
        other => other,
    }
}

/// Every listed license, in no particular order.
pub fn listed() -> impl Iterator<Item = &'static str> {
    APPROVED.iter().chain(RESTRICTED).chain(PROHIBITED).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_license_has_one_category() {
        let mut all: Vec<&str> = listed().collect();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count, "a license is listed twice");
        assert_eq!(category("Apache-2.0"), Some(LicenseCategory::Approved));
        assert_eq!(category("MIT"), Some(LicenseCategory::Approved));
        assert_eq!(category("MPL-2.0"), Some(LicenseCategory::Restricted));
        assert_eq!(category("GPL-3.0-or-later"), Some(LicenseCategory::Prohibited));
        assert_eq!(category("Spencer-94"), None);
        // Case matters: SPDX identifiers are matched as SPDX spells them.
        assert_eq!(category("mit"), None);
    }

    #[test]
    fn only_build_tool_exceptions_lift_a_prohibition() {
        assert_eq!(
            category_with_exception("GPL-3.0-or-later", "Autoconf-exception-generic"),
            Some(LicenseCategory::Approved)
        );
        assert_eq!(category_with_exception("GPL-2.0-or-later", "Libtool-exception"), Some(LicenseCategory::Approved));
        assert_eq!(
            category_with_exception("GPL-2.0-only", "Classpath-exception-2.0"),
            Some(LicenseCategory::Prohibited)
        );
        assert_eq!(category_with_exception("MPL-2.0", "Libtool-exception"), Some(LicenseCategory::Restricted));
        assert_eq!(LicenseCategory::Restricted.letter(), "B");
    }
}
