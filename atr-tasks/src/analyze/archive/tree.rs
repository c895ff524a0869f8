//! The tree an archive unpacks to: each file's path under the archive's root folder with the
//! SHA-256 of its content, and each link with its target. The source comparison reads a release's
//! source archive and the archive `git archive` makes of a commit into two such trees, through the
//! same bounded walker as the archive checks, and compares them.

use std::collections::BTreeMap;
use std::io::{self, Read};

use sha2::{Digest, Sha256};

use super::stream::{self, Member, MemberKind, Outcome, Visitor};
use super::{ArchiveKind, ArchiveLimits, names};
use crate::analyze::text;

/// What one path of the tree is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeEntry {
    /// A file, by the SHA-256 of its content (lowercase hex).
    File(String),
    /// A symbolic link, by its target.
    Symlink(String),
    /// A hard link, by the member it links to.
    Hardlink(String),
}

/// The files and links of an archive by their path under its single root folder (if all of its
/// members are under one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveTree {
    pub entries: BTreeMap<String, TreeEntry>,
    /// The root folder that was taken off every path, if there was one.
    pub root: Option<String>,
}

struct Collector {
    entries: BTreeMap<String, TreeEntry>,
    unsafe_name: Option<String>,
    max_depth: usize,
}

impl Visitor for Collector {
    fn member(&mut self, member: &Member, content: &mut dyn Read) -> io::Result<bool> {
        let Ok(segments) = names::segments(&member.name, self.max_depth) else {
            self.unsafe_name = Some(member.name.clone());
            return Ok(false);
        };
        let path = segments.join("/");
        let entry = match &member.kind {
            MemberKind::File => {
                let mut hasher = Sha256::new();
                io::copy(content, &mut HashWriter(&mut hasher))?;
                TreeEntry::File(text::hex(&hasher.finalize()))
            }
            MemberKind::Symlink(target) => TreeEntry::Symlink(target.clone()),
            MemberKind::Hardlink(target) => TreeEntry::Hardlink(target.clone()),
            MemberKind::Dir | MemberKind::Special(_) => return Ok(true),
        };
        if !path.is_empty() {
            self.entries.insert(path, entry);
        }
        Ok(true)
    }
}

struct HashWriter<'a>(&'a mut Sha256);

impl io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads the tree of an archive within `limits`. The error is a sentence saying why the archive
/// could not be read whole (the archive checks report the details of a damaged or hostile one).
pub fn archive_tree(kind: ArchiveKind, reader: impl Read, limits: &ArchiveLimits) -> Result<ArchiveTree, String> {
    let mut collector = Collector { entries: BTreeMap::new(), unsafe_name: None, max_depth: limits.max_depth };
    let outcome = match kind {
        ArchiveKind::Zip => stream::walk_zip(reader, limits, &mut collector),
        _ => stream::walk_tar(kind, reader, limits, &mut collector),
    };
    match outcome {
        Outcome::Complete { .. } => {}
        Outcome::Stopped => {
            let name = collector.unsafe_name.unwrap_or_default();
            return Err(format!("it has an unsafe member path ({})", text::detail(&name)));
        }
        Outcome::Limit(_) => return Err("it goes over the limits of what an archive may hold".into()),
        Outcome::Refused(why) => return Err(format!("it was refused: {}", text::detail(&why))),
        Outcome::Damaged { .. } => return Err("it is damaged".into()),
        Outcome::Internal(why) => return Err(format!("it could not be read: {}", text::detail(&why))),
    }
    Ok(strip_root(collector.entries))
}

/// Takes the single root folder off every path, when every entry lies under the same one.
fn strip_root(entries: BTreeMap<String, TreeEntry>) -> ArchiveTree {
    let mut roots = entries.keys().map(|path| path.split_once('/').map(|(root, _)| root));
    let root = match roots.next() {
        Some(Some(first)) if roots.all(|r| r == Some(first)) => first.to_owned(),
        _ => return ArchiveTree { entries, root: None },
    };
    let prefix = format!("{root}/");
    let entries = entries
        .into_iter()
        .map(|(path, entry)| (path.strip_prefix(&prefix).unwrap_or(&path).to_owned(), entry))
        .collect();
    ArchiveTree { entries, root: Some(root) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        for (name, data) in members {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn paths_lose_the_common_root_and_files_carry_their_digest() {
        let bytes = tar_gz(&[("p-1.0/README", b"hello\n"), ("p-1.0/src/a.c", b"int a;\n")]);
        let tree = archive_tree(ArchiveKind::TarGz, bytes.as_slice(), &ArchiveLimits::default()).unwrap();
        assert_eq!(tree.root.as_deref(), Some("p-1.0"));
        assert_eq!(tree.entries.keys().collect::<Vec<_>>(), ["README", "src/a.c"]);
        // sha256sum of "hello\n".
        assert_eq!(
            tree.entries["README"],
            TreeEntry::File("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03".into())
        );
    }

    #[test]
    fn a_tree_without_one_root_keeps_its_paths() {
        let bytes = tar_gz(&[("README", b"x"), ("src/a.c", b"y")]);
        let tree = archive_tree(ArchiveKind::TarGz, bytes.as_slice(), &ArchiveLimits::default()).unwrap();
        assert_eq!(tree.root, None);
        assert_eq!(tree.entries.keys().collect::<Vec<_>>(), ["README", "src/a.c"]);
    }

    #[test]
    fn an_unsafe_or_damaged_archive_is_an_error() {
        let mut bytes = tar_gz(&[("p/README", b"x")]);
        bytes.truncate(bytes.len() / 2);
        let error = archive_tree(ArchiveKind::TarGz, bytes.as_slice(), &ArchiveLimits::default()).unwrap_err();
        assert_eq!(error, "it is damaged");
    }
}
