// The foundation's license categories, as SPDX license and exception identifiers.
//
// This file holds nothing but the tables, so that `atr-tasks`' build script can include it to
// build its license detector from exactly these licenses; `atr_core::model::license` is where
// they are used and documented.

/// Category A: licenses whose code may be included in a release, in source or binary form.
pub const APPROVED: &[&str] = &[
    "Apache-2.0",
    "Apache-1.1",
    "0BSD",
    "AFL-3.0",
    "BlueOak-1.0.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSL-1.0",
    "bzip2-1.0.6",
    "CC-PDDC",
    "CC0-1.0",
    "ICU",
    "ISC",
    "libpng-2.0",
    "Libpng",
    "MIT",
    "MIT-0",
    "MS-PL",
    "MulanPSL-2.0",
    "NCSA",
    "PHP-3.01",
    "PostgreSQL",
    "PSF-2.0",
    "Python-2.0",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Unlicense",
    "UPL-1.0",
    "W3C",
    "WTFPL",
    "X11",
    "Xnet",
    "Zlib",
];

/// Category B: licenses whose code may be included in binary form only, appropriately labelled;
/// in a source release it needs a reviewer's look.
pub const RESTRICTED: &[&str] = &[
    "CC-BY-2.5",
    "CC-BY-3.0",
    "CC-BY-4.0",
    "CC-BY-SA-2.5",
    "CC-BY-SA-3.0",
    "CC-BY-SA-4.0",
    "CDDL-1.0",
    "CDDL-1.1",
    "CPL-1.0",
    "EPL-1.0",
    "EPL-2.0",
    "ErlPL-1.1",
    "IPA",
    "IPL-1.0",
    "MPL-1.0",
    "MPL-1.1",
    "MPL-2.0",
    "OFL-1.1",
    "OSL-3.0",
    "Ruby",
    "SPL-1.0",
];

/// Category X: licenses whose code may not be included in a release at all.
pub const PROHIBITED: &[&str] = &[
    "AGPL-1.0-only",
    "AGPL-1.0-or-later",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "BSD-4-Clause",
    "BUSL-1.1",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CPOL-1.02",
    "Elastic-2.0",
    "GPL-1.0-only",
    "GPL-1.0-or-later",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "JSON",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "NPL-1.1",
    "QPL-1.0",
    "Sleepycat",
    "SSPL-1.0",
];

/// Exceptions that let a file under a prohibited (GNU) license ship with a release: the files that
/// build tools generate or copy into a source tree (Autoconf, Libtool, Bison).
pub const BUILD_TOOL_EXCEPTIONS: &[&str] = &[
    "Autoconf-exception-2.0",
    "Autoconf-exception-3.0",
    "Autoconf-exception-generic",
    "Autoconf-exception-generic-3.0",
    "Autoconf-exception-macro",
    "Bison-exception-1.24",
    "Bison-exception-2.2",
    "Libtool-exception",
];
