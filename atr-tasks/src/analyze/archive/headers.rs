//! Which files must carry a license header, and the globs that exclude files from the license audit.

/// Extensions of the files that must carry a header.
const SOURCE_EXTENSIONS: &[&str] = &[
    "java", "kt", "kts", "scala", "groovy", "gradle", "clj", "c", "h", "cc", "cpp", "cxx", "hh", "hpp", "hxx", "m",
    "mm", "cs", "fs", "go", "rs", "swift", "py", "pyx", "pxd", "rb", "pl", "pm", "php", "lua", "tcl", "r", "sh",
    "bash", "zsh", "ps1", "bat", "cmd", "js", "mjs", "cjs", "jsx", "ts", "tsx", "vue", "xml", "xsl", "xslt", "xsd",
    "wsdl", "html", "htm", "xhtml", "jsp", "css", "scss", "sass", "less", "sql", "proto", "thrift", "avsc", "awk",
    "erl", "ex", "exs", "hs", "ml", "d", "dart", "jl", "yaml", "yml",
];

/// Whether the member (by its file name) is a source file to check.
pub(super) fn is_source(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".min.js") || lower.ends_with(".min.css") || lower.ends_with("-min.js") {
        return false;
    }
    match lower.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => SOURCE_EXTENSIONS.contains(&ext),
        _ => false,
    }
}

/// Longest pattern and path compared; longer ones never match.
const MAX_GLOB: usize = 1024;

/// Whether `text` matches the glob `pattern`: `*` matches within a segment, `**` across segments,
/// `?` one character other than `/`. Failed states are remembered, so a match costs at most the
/// product of the two lengths whatever the pattern.
pub(super) fn glob(pattern: &str, text: &str) -> bool {
    struct Matcher<'a> {
        p: &'a [u8],
        t: &'a [u8],
        failed: Vec<bool>,
    }
    impl Matcher<'_> {
        fn go(&mut self, pi: usize, ti: usize) -> bool {
            let cell = pi * (self.t.len() + 1) + ti;
            if self.failed[cell] {
                return false;
            }
            let (p, t) = (self.p, self.t);
            let matched = match &p[pi..] {
                [] => ti == t.len(),
                // `**/` matches no folder or any number of whole folders.
                [b'*', b'*', b'/', ..] => (ti..=t.len()).any(|i| (i == ti || t[i - 1] == b'/') && self.go(pi + 3, i)),
                [b'*', b'*', ..] => (ti..=t.len()).any(|i| self.go(pi + 2, i)),
                [b'*', ..] => {
                    let end = t[ti..].iter().position(|c| *c == b'/').map_or(t.len(), |i| ti + i);
                    (ti..=end).any(|i| self.go(pi + 1, i))
                }
                [b'?', ..] => t.get(ti).is_some_and(|c| *c != b'/') && self.go(pi + 1, ti + 1),
                [c, ..] => t.get(ti) == Some(c) && self.go(pi + 1, ti + 1),
            };
            if !matched {
                self.failed[cell] = true;
            }
            matched
        }
    }
    let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
    if pattern.len() > MAX_GLOB || text.len() > MAX_GLOB {
        return false;
    }
    let mut matcher = Matcher {
        p: pattern.as_bytes(),
        t: text.as_bytes(),
        failed: vec![false; (pattern.len() + 1) * (text.len() + 1)],
    };
    matcher.go(0, 0)
}

/// Whether a member is excluded by any of `patterns`. `relative` is its path under the root folder,
/// `full` its path in the archive. A pattern matches the path, any folder holding it, or, when it has
/// no `/`, any single segment (so `target` or `*.json` work as in `.rat-excludes`).
pub(super) fn excluded(patterns: &[String], relative: &str, full: &str) -> bool {
    patterns.iter().any(|pattern| {
        let pattern = pattern.trim_start_matches('/');
        let whole = |path: &str| glob(pattern, path) || path.match_indices('/').any(|(i, _)| glob(pattern, &path[..i]));
        whole(relative) || whole(full) || (!pattern.contains('/') && relative.split('/').any(|s| glob(pattern, s)))
    })
}
