//! Safe relative paths of files inside a release.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest path accepted, in bytes.
pub const MAX_PATH_LEN: usize = 1024;
/// Longest segment accepted, in bytes.
pub const MAX_SEGMENT_LEN: usize = 255;
/// Deepest path accepted, in segments.
pub const MAX_PATH_DEPTH: usize = 16;

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path is empty")]
    Empty,
    #[error("path is longer than {MAX_PATH_LEN} bytes")]
    TooLong,
    #[error("path has more than {MAX_PATH_DEPTH} segments")]
    TooDeep,
    #[error("path {0:?} is absolute; paths inside a release are relative")]
    Absolute(String),
    #[error("path {0:?} has an empty segment")]
    EmptySegment(String),
    #[error("path {0:?} has a '.' or '..' segment")]
    DotSegment(String),
    #[error("path {path:?} has a segment starting with a dot ({segment:?}); dotfiles are not allowed")]
    Dotfile { path: String, segment: String },
    #[error("path segment {0:?} is longer than {MAX_SEGMENT_LEN} bytes")]
    SegmentTooLong(String),
    #[error("path {path:?} contains {found:?}; allowed are ASCII letters, digits and . _ - + ~ @ = ,")]
    BadCharacter { path: String, found: char },
}

/// A relative path of a file or folder inside a release, such as `httpd-2.4.68.tar.gz` or
/// `binaries/win64/app.zip`.
///
/// Holding a `ReleasePath` proves the path cannot escape its release: it is relative, its
/// segments are separated by `/` only, none is empty, `.`, `..` or starts with a dot, and it uses only
/// ASCII letters, digits and `. _ - + ~ @ = ,`, so no control character, backslash, colon or
/// percent sign can reach a file system or a URL. Length and depth are bounded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReleasePath(String);

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '~' | '@' | '=' | ',')
}

impl ReleasePath {
    /// Parses a relative path; see the type's documentation for the rules.
    pub fn parse(value: &str) -> Result<Self, PathError> {
        if value.is_empty() {
            return Err(PathError::Empty);
        }
        if value.len() > MAX_PATH_LEN {
            return Err(PathError::TooLong);
        }
        if value.starts_with('/') {
            return Err(PathError::Absolute(value.to_owned()));
        }
        if let Some(found) = value.chars().find(|c| *c != '/' && !allowed(*c)) {
            return Err(PathError::BadCharacter { path: value.to_owned(), found });
        }
        let mut depth = 0;
        for segment in value.split('/') {
            depth += 1;
            if segment.is_empty() {
                return Err(PathError::EmptySegment(value.to_owned()));
            }
            if segment == "." || segment == ".." {
                return Err(PathError::DotSegment(value.to_owned()));
            }
            if segment.starts_with('.') {
                return Err(PathError::Dotfile { path: value.to_owned(), segment: segment.to_owned() });
            }
            if segment.len() > MAX_SEGMENT_LEN {
                return Err(PathError::SegmentTooLong(segment.to_owned()));
            }
        }
        if depth > MAX_PATH_DEPTH {
            return Err(PathError::TooDeep);
        }
        Ok(Self(value.to_owned()))
    }

    /// The path as text, segments separated by `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments of the path.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The path of the parent folder, if the path has more than one segment.
    pub fn parent(&self) -> Option<ReleasePath> {
        self.0.rsplit_once('/').map(|(parent, _)| ReleasePath(parent.to_owned()))
    }

    /// True if the path is a single segment at the top of the release.
    pub fn is_top_level(&self) -> bool {
        !self.0.contains('/')
    }

    /// This path with `suffix` appended to its last segment (`a.tar.gz` + `.asc`).
    pub fn with_suffix(&self, suffix: &str) -> Result<ReleasePath, PathError> {
        ReleasePath::parse(&format!("{}{suffix}", self.0))
    }

    /// The path with `suffix` removed from its end, if it ends with it and something is left.
    pub fn strip_suffix(&self, suffix: &str) -> Option<ReleasePath> {
        self.0.strip_suffix(suffix).filter(|s| !s.is_empty() && !s.ends_with('/')).map(|s| ReleasePath(s.to_owned()))
    }

    /// Joins a relative path under this one.
    pub fn join(&self, child: &ReleasePath) -> Result<ReleasePath, PathError> {
        ReleasePath::parse(&format!("{}/{}", self.0, child.0))
    }
}

impl fmt::Display for ReleasePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ReleasePath {
    type Error = PathError;
    fn try_from(value: String) -> Result<Self, PathError> {
        Self::parse(&value)
    }
}

impl From<ReleasePath> for String {
    fn from(value: ReleasePath) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_release_files() {
        for p in ["httpd-2.4.68.tar.gz", "httpd-2.4.68.tar.gz.asc", "binaries/win64/app-1.0+b1.zip", "a~b@c=d,e"] {
            assert_eq!(ReleasePath::parse(p).unwrap().as_str(), p);
        }
    }

    #[test]
    fn refuses_escapes() {
        use PathError as E;
        assert_eq!(ReleasePath::parse(""), Err(E::Empty));
        assert!(matches!(ReleasePath::parse("/etc/passwd"), Err(E::Absolute(_))));
        assert!(matches!(ReleasePath::parse("../x"), Err(E::DotSegment(_))));
        assert!(matches!(ReleasePath::parse("a/../../x"), Err(E::DotSegment(_))));
        assert!(matches!(ReleasePath::parse("a/./x"), Err(E::DotSegment(_))));
        assert!(matches!(ReleasePath::parse("a//x"), Err(E::EmptySegment(_))));
        assert!(matches!(ReleasePath::parse("a/"), Err(E::EmptySegment(_))));
        assert!(matches!(ReleasePath::parse(".htaccess"), Err(E::Dotfile { .. })));
        assert!(matches!(ReleasePath::parse("a/.git/config"), Err(E::Dotfile { .. })));
        assert!(matches!(ReleasePath::parse("a\\..\\b"), Err(E::BadCharacter { found: '\\', .. })));
        assert!(matches!(ReleasePath::parse("a%2f..%2fb"), Err(E::BadCharacter { found: '%', .. })));
        assert!(matches!(ReleasePath::parse("a\0b"), Err(E::BadCharacter { found: '\0', .. })));
        assert!(matches!(ReleasePath::parse("a\nb"), Err(E::BadCharacter { .. })));
        assert!(matches!(ReleasePath::parse("c:x"), Err(E::BadCharacter { found: ':', .. })));
        assert!(matches!(ReleasePath::parse("caf\u{e9}"), Err(E::BadCharacter { .. })));
        assert!(matches!(ReleasePath::parse(&"a/".repeat(16).add_x()), Err(E::TooDeep)));
        assert!(matches!(ReleasePath::parse(&"a".repeat(256)), Err(E::SegmentTooLong(_))));
        assert!(matches!(ReleasePath::parse(&"a".repeat(1025)), Err(E::TooLong)));
    }

    trait AddX {
        fn add_x(self) -> String;
    }
    impl AddX for String {
        fn add_x(mut self) -> String {
            self.push('x');
            self
        }
    }

    #[test]
    fn helpers() {
        let p = ReleasePath::parse("dir/f.tar.gz").unwrap();
        assert_eq!(p.file_name(), "f.tar.gz");
        assert_eq!(p.parent().unwrap().as_str(), "dir");
        assert!(!p.is_top_level());
        assert_eq!(p.with_suffix(".asc").unwrap().as_str(), "dir/f.tar.gz.asc");
        assert_eq!(p.with_suffix(".asc").unwrap().strip_suffix(".asc").unwrap(), p);
        assert_eq!(ReleasePath::parse(".asc").ok(), None);
        assert_eq!(ReleasePath::parse("x.asc").unwrap().strip_suffix("x.asc"), None);
    }

    proptest! {
        /// Whatever is accepted, joined under a base folder, stays under that folder.
        #[test]
        fn accepted_paths_never_escape(s in "[a-z./\\\\%:~-]{0,30}") {
            if let Ok(p) = ReleasePath::parse(&s) {
                let mut depth: i32 = 0;
                for segment in p.segments() {
                    prop_assert!(!segment.is_empty() && !segment.starts_with('.'));
                    depth += if segment == ".." { -1 } else { 1 };
                    prop_assert!(depth > 0);
                }
                prop_assert!(!p.as_str().contains('\\') && !p.as_str().contains('%') && !p.as_str().starts_with('/'));
            }
        }

        #[test]
        fn round_trips(segments in prop::collection::vec("[a-zA-Z0-9][a-zA-Z0-9._+~-]{0,20}", 1..6)) {
            let joined = segments.join("/");
            let p = ReleasePath::parse(&joined).unwrap();
            prop_assert_eq!(p.as_str(), joined.as_str());
            prop_assert_eq!(p.to_string().parse::<String>().unwrap(), joined);
        }
    }
}
