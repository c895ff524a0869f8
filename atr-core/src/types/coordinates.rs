//! Coordinates: the public path of every released file.
//!
//! ```text
//! /<stage>/<project>/<version>/<file>
//! /<stage>/<project>/latest/<file>
//! /<stage>/<project>/<product>/<version>/<file>
//! /<stage>/<project>/<product>/latest/<file>
//! ```
//!
//! The third segment is a product only when the project has a product of that name (the caller
//! says so through [`Coordinates::parse`]'s `is_product`); otherwise it is the version. A project
//! therefore cannot have a product named like one of its versions, and the store refuses to create
//! one (see `ProjectRepository`).

use std::fmt;

use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};

use super::names::{NameError, ProductKey, ProjectKey};
use super::path::{PathError, ReleasePath};
use super::version::{Version, VersionError};

/// A public stage of a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Under vote.
    Candidate,
    /// Released and supported.
    Current,
    /// Withdrawn, end-of-life or moved to the attic. Files stay downloadable.
    Revoked,
}

impl Stage {
    /// Every stage.
    pub const ALL: [Stage; 3] = [Stage::Candidate, Stage::Current, Stage::Revoked];

    /// The stage as its URL segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Candidate => "candidate",
            Stage::Current => "current",
            Stage::Revoked => "revoked",
        }
    }

    /// Parses a URL segment.
    pub fn parse(value: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version in coordinates: an exact one, or the newest of the stage.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionRef {
    /// This exact version.
    Exact(Version),
    /// The newest version in the stage, by [`Version`]'s order.
    Latest,
}

impl fmt::Display for VersionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionRef::Exact(v) => v.fmt(f),
            VersionRef::Latest => f.write_str("latest"),
        }
    }
}

/// Why a coordinate path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoordinatesError {
    #[error("coordinates must start with '/'")]
    NotAbsolute,
    #[error("coordinates need /<stage>/<project>/[<product>/]<version>/<file>; too few segments")]
    TooShort,
    #[error("unknown stage {0:?}; expected candidate, current or revoked")]
    UnknownStage(String),
    #[error("segment {0:?} is not valid percent-encoded UTF-8")]
    BadEncoding(String),
    #[error("segment {0:?} decodes to a '/', '\\\\' or control character")]
    EncodedSeparator(String),
    #[error("bad project: {0}")]
    Project(NameError),
    #[error("bad product: {0}")]
    Product(NameError),
    #[error("bad version: {0}")]
    Version(VersionError),
    #[error("bad file path: {0}")]
    Path(PathError),
}

/// The coordinates of one file of a release.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Coordinates {
    stage: Stage,
    project: ProjectKey,
    product: Option<ProductKey>,
    version: VersionRef,
    path: ReleasePath,
}

fn decode(segment: &str) -> Result<String, CoordinatesError> {
    let decoded = percent_decode_str(segment)
        .decode_utf8()
        .map_err(|_| CoordinatesError::BadEncoding(segment.to_owned()))?
        .into_owned();
    if decoded.chars().any(|c| c == '/' || c == '\\' || c.is_control()) {
        return Err(CoordinatesError::EncodedSeparator(segment.to_owned()));
    }
    Ok(decoded)
}

impl Coordinates {
    /// Builds coordinates from parts that are already valid.
    pub fn new(
        stage: Stage,
        project: ProjectKey,
        product: Option<ProductKey>,
        version: VersionRef,
        path: ReleasePath,
    ) -> Self {
        Self { stage, project, product, version, path }
    }

    /// Parses a URL path (still percent-encoded) in one of the four forms.
    ///
    /// `is_product(project, name)` answers whether `project` has a product called `name`; it
    /// decides whether the third segment is a product or a version. Each segment is
    /// percent-decoded on its own, and a segment that decodes to a separator or a control
    /// character is refused, so `%2F` can never smuggle in a path.
    pub fn parse(
        url_path: &str,
        is_product: impl Fn(&ProjectKey, &ProductKey) -> bool,
    ) -> Result<Self, CoordinatesError> {
        let rest = url_path.strip_prefix('/').ok_or(CoordinatesError::NotAbsolute)?;
        let segments = rest.split('/').map(decode).collect::<Result<Vec<_>, _>>()?;
        if segments.len() < 4 {
            return Err(CoordinatesError::TooShort);
        }
        let stage = Stage::parse(&segments[0]).ok_or_else(|| CoordinatesError::UnknownStage(segments[0].clone()))?;
        let project = ProjectKey::parse(&segments[1]).map_err(CoordinatesError::Project)?;
        let mut next = 2;
        let product = match ProductKey::parse(&segments[2]) {
            Ok(product) if segments.len() >= 5 && is_product(&project, &product) => {
                next = 3;
                Some(product)
            }
            _ => None,
        };
        let version = if segments[next] == "latest" {
            VersionRef::Latest
        } else {
            VersionRef::Exact(Version::parse(&segments[next]).map_err(CoordinatesError::Version)?)
        };
        let path = ReleasePath::parse(&segments[next + 1..].join("/")).map_err(CoordinatesError::Path)?;
        Ok(Self { stage, project, product, version, path })
    }

    /// The stage.
    pub fn stage(&self) -> Stage {
        self.stage
    }
    /// The project.
    pub fn project(&self) -> &ProjectKey {
        &self.project
    }
    /// The product, if not the project's main one.
    pub fn product(&self) -> Option<&ProductKey> {
        self.product.as_ref()
    }
    /// The version or `latest`.
    pub fn version(&self) -> &VersionRef {
        &self.version
    }
    /// The file inside the release.
    pub fn path(&self) -> &ReleasePath {
        &self.path
    }

    /// The same coordinates with `latest` replaced by an exact version.
    #[must_use]
    pub fn with_version(&self, version: Version) -> Self {
        Self { version: VersionRef::Exact(version), ..self.clone() }
    }
}

/// Formats as the URL path. Every character a [`ReleasePath`], key or version may hold is safe
/// in a URL path, so no percent-encoding is needed.
impl fmt::Display for Coordinates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/{}/", self.stage, self.project)?;
        if let Some(product) = &self.product {
            write!(f, "{product}/")?;
        }
        write!(f, "{}/{}", self.version, self.path)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn products(_: &ProjectKey, p: &ProductKey) -> bool {
        p.as_str() == "server" || p.as_str() == "cli"
    }

    fn parse(s: &str) -> Result<Coordinates, CoordinatesError> {
        Coordinates::parse(s, products)
    }

    #[test]
    fn the_four_forms() {
        let c = parse("/current/httpd/2.4.68/httpd-2.4.68.tar.gz").unwrap();
        assert_eq!((c.stage(), c.project().as_str(), c.product()), (Stage::Current, "httpd", None));
        assert_eq!(c.version(), &VersionRef::Exact(Version::parse("2.4.68").unwrap()));
        assert_eq!(c.path().as_str(), "httpd-2.4.68.tar.gz");

        let c = parse("/candidate/httpd/latest/httpd.tar.gz").unwrap();
        assert_eq!(c.version(), &VersionRef::Latest);
        assert_eq!(c.product(), None);

        let c = parse("/current/tomcat/server/11.0.0/bin/a.zip").unwrap();
        assert_eq!(c.product().unwrap().as_str(), "server");
        assert_eq!(c.path().as_str(), "bin/a.zip");

        let c = parse("/revoked/tomcat/cli/latest/a.zip").unwrap();
        assert_eq!(
            (c.stage(), c.product().unwrap().as_str(), c.version()),
            (Stage::Revoked, "cli", &VersionRef::Latest)
        );

        // Not a product of the project: the third segment is the version, the rest a folder path.
        let c = parse("/current/tomcat/other/1.0/a.zip").unwrap();
        assert_eq!(c.version().to_string(), "other");
        assert_eq!(c.path().as_str(), "1.0/a.zip");
        // A product name with nothing after the version is a version with a file.
        let c = parse("/current/tomcat/server/a.zip").unwrap();
        assert_eq!((c.product(), c.version().to_string()), (None, "server".to_owned()));
    }

    #[test]
    fn refusals() {
        use CoordinatesError as E;
        assert_eq!(parse("current/httpd/1/a"), Err(E::NotAbsolute));
        assert_eq!(parse("/current/httpd/1"), Err(E::TooShort));
        assert_eq!(parse("/draft/httpd/1/a"), Err(E::UnknownStage("draft".into())));
        assert!(matches!(parse("/current/HTTPD/1/a"), Err(E::Project(_))));
        assert!(matches!(parse("/current/httpd/1..0/a"), Err(E::Version(_))));
        assert!(matches!(parse("/current/httpd/1.0/../a"), Err(E::Path(_))));
        assert!(matches!(parse("/current/httpd/1.0/a/"), Err(E::Path(_))));
        assert!(matches!(parse("/current/httpd/1.0/.htaccess"), Err(E::Path(_))));
        assert!(matches!(parse("/current/httpd/1.0/a%2f..%2fb"), Err(E::EncodedSeparator(_))));
        assert!(matches!(parse("/current/httpd/1.0/a%5cb"), Err(E::EncodedSeparator(_))));
        assert!(matches!(parse("/current/httpd/1.0/a%00b"), Err(E::EncodedSeparator(_))));
        assert!(matches!(parse("/current/httpd/1.0/%ff"), Err(E::BadEncoding(_))));
        assert!(matches!(parse("/current/httpd/1.0/%2e%2e"), Err(E::Path(_))));
        assert!(matches!(parse("/current//1.0/a"), Err(E::Project(_))));
    }

    #[test]
    fn percent_encoded_plain_characters_are_decoded() {
        let c = parse("/current/httpd/2.4.68/httpd%2D2.4.68.tar.gz").unwrap();
        assert_eq!(c.path().as_str(), "httpd-2.4.68.tar.gz");
    }

    fn key() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?".prop_filter("not reserved", |s| s != "latest")
    }

    proptest! {
        #[test]
        fn round_trip(
            stage in prop::sample::select(Stage::ALL.to_vec()),
            project in key(),
            product in prop::option::of(prop::sample::select(vec!["server", "cli"])),
            version in prop::option::of("[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-rc[0-9])?"),
            path in prop::collection::vec("[a-zA-Z0-9][a-zA-Z0-9._+-]{0,12}", 1..4),
        ) {
            let c = Coordinates::new(
                stage,
                ProjectKey::parse(&project).unwrap(),
                product.map(|p| ProductKey::parse(p).unwrap()),
                version.map_or(VersionRef::Latest, |v| VersionRef::Exact(Version::parse(&v).unwrap())),
                ReleasePath::parse(&path.join("/")).unwrap(),
            );
            let text = c.to_string();
            prop_assert_eq!(parse(&text).unwrap(), c);
        }

        #[test]
        fn parse_never_panics(s in "/\\PC{0,60}") {
            let _ = parse(&s);
        }
    }
}
