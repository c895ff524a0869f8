//! Where a release's source comes from: a git repository and the commit its source archive was
//! made from, which the Analyze checks compare the archive with.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest repository address accepted, in bytes.
pub const MAX_REPOSITORY_LEN: usize = 1000;
/// Longest tag name accepted, in bytes.
pub const MAX_TAG_LEN: usize = 255;

/// Why a source origin was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error(
        "repository must be an https://, http://, ssh://, git:// or file:// address of at most {MAX_REPOSITORY_LEN} bytes, without spaces, control characters or a password"
    )]
    Repository,
    #[error("commit must be a full commit id: 40 (SHA-1) or 64 (SHA-256) hexadecimal digits")]
    Commit,
    #[error("tag must be 1 to {MAX_TAG_LEN} bytes of a valid git tag name")]
    Tag,
}

impl SourceError {
    /// The field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Repository => "repository",
            Self::Commit => "commit",
            Self::Tag => "tag",
        }
    }
}

/// A git repository's address: a URL with a scheme git fetches from. Which schemes a runner
/// really fetches from is the operator's choice (`https` only by default).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepositoryUrl(String);

impl RepositoryUrl {
    const SCHEMES: [&'static str; 5] = ["https", "http", "ssh", "git", "file"];

    /// Checks an address: a known scheme, `://`, something after it, no whitespace or control
    /// characters, no password in it.
    pub fn parse(text: &str) -> Result<Self, SourceError> {
        let (scheme, rest) = text.split_once("://").ok_or(SourceError::Repository)?;
        let bad_char = text.chars().any(|c| c.is_whitespace() || c.is_control());
        // user:password@host: a secret has no place in a stored, shown address.
        let authority = rest.split('/').next().unwrap_or_default();
        let password = authority.split_once('@').is_some_and(|(userinfo, _)| userinfo.contains(':'));
        if text.len() > MAX_REPOSITORY_LEN
            || !Self::SCHEMES.contains(&scheme)
            || rest.is_empty()
            || rest.starts_with('-')
            || bad_char
            || password
        {
            return Err(SourceError::Repository);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The scheme, such as `https`.
    pub fn scheme(&self) -> &str {
        self.0.split_once("://").map_or("", |(scheme, _)| scheme)
    }
}

impl TryFrom<String> for RepositoryUrl {
    type Error = SourceError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<RepositoryUrl> for String {
    fn from(url: RepositoryUrl) -> Self {
        url.0
    }
}

impl fmt::Display for RepositoryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A full git commit id, lowercase hexadecimal (SHA-1 or SHA-256 object format).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CommitId(String);

impl CommitId {
    pub fn parse(text: &str) -> Result<Self, SourceError> {
        if !matches!(text.len(), 40 | 64) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SourceError::Commit);
        }
        Ok(Self(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CommitId {
    type Error = SourceError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<CommitId> for String {
    fn from(id: CommitId) -> Self {
        id.0
    }
}

impl fmt::Display for CommitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The repository and commit a release's source archive was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceOrigin {
    pub repository: RepositoryUrl,
    pub commit: CommitId,
    /// The tag that names the commit, for people; the commit is what is compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

impl SourceOrigin {
    /// Checks every field.
    pub fn new(repository: &str, commit: &str, tag: Option<&str>) -> Result<Self, SourceError> {
        let tag = tag.map(|t| check_tag(t).map(|()| t.to_owned())).transpose()?;
        Ok(Self { repository: RepositoryUrl::parse(repository)?, commit: CommitId::parse(commit)?, tag })
    }
}

/// git's rules for a reference name, as far as a tag needs them.
fn check_tag(tag: &str) -> Result<(), SourceError> {
    let bad = tag.is_empty()
        || tag.len() > MAX_TAG_LEN
        || tag.starts_with(['-', '/', '.'])
        || tag.ends_with(['/', '.'])
        || tag.to_ascii_lowercase().ends_with(".lock")
        || tag.contains("..")
        || tag.contains("//")
        || tag.contains("@{")
        || tag.chars().any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c));
    if bad { Err(SourceError::Tag) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_addresses_are_checked() {
        for good in ["https://github.com/apache/httpd.git", "file:///srv/git/httpd", "ssh://git@host/x.git"] {
            assert_eq!(RepositoryUrl::parse(good).map(|u| u.to_string()), Ok(good.to_owned()));
        }
        assert_eq!(RepositoryUrl::parse("https://github.com/a/b").unwrap().scheme(), "https");
        for bad in [
            "github.com/apache/httpd",
            "ext::sh -c touch% /tmp/x",
            "https://",
            "https://host/a b",
            "https://user:secret@host/repo",
            "fd::17",
            "https://-oProxyCommand=x",
            "https://host/\nrepo",
        ] {
            assert_eq!(RepositoryUrl::parse(bad), Err(SourceError::Repository), "{bad}");
        }
        assert_eq!(
            RepositoryUrl::parse(&format!("https://h/{}", "a".repeat(MAX_REPOSITORY_LEN))),
            Err(SourceError::Repository)
        );
    }

    #[test]
    fn commits_are_full_ids() {
        let sha1 = "0123456789ABCDEF0123456789abcdef01234567";
        assert_eq!(CommitId::parse(sha1).unwrap().as_str(), sha1.to_ascii_lowercase());
        assert!(CommitId::parse(&"a".repeat(64)).is_ok());
        for bad in ["0123456", "main", &"g".repeat(40), &"a".repeat(41)] {
            assert_eq!(CommitId::parse(bad), Err(SourceError::Commit), "{bad}");
        }
    }

    #[test]
    fn tags_follow_gits_reference_rules() {
        assert!(SourceOrigin::new("https://h/r", &"a".repeat(40), Some("2.4.68")).is_ok());
        for bad in ["", "-x", "a..b", "a b", "a:b", "x.lock", "a@{1}", "end/"] {
            assert_eq!(SourceOrigin::new("https://h/r", &"a".repeat(40), Some(bad)), Err(SourceError::Tag), "{bad}");
        }
    }

    #[test]
    fn an_origin_reads_back_from_json_and_refuses_bad_fields() {
        let origin = SourceOrigin::new("https://h/r.git", &"b".repeat(40), None).unwrap();
        let json = serde_json::to_string(&origin).unwrap();
        assert_eq!(json, format!(r#"{{"repository":"https://h/r.git","commit":"{}"}}"#, "b".repeat(40)));
        assert_eq!(serde_json::from_str::<SourceOrigin>(&json).unwrap(), origin);
        let bad = r#"{"repository":"ext::sh","commit":"x"}"#;
        assert!(serde_json::from_str::<SourceOrigin>(bad).is_err());
    }
}
