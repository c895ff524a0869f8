//! Archive parity (checker `archive-parity`): the archives of one tree hold the same files.
//!
//! A release often carries the same source tree twice, as `NAME.tar.gz` and `NAME.zip` (or
//! `.tar.xz`, `.tar.bz2`, `.tgz`): the same base name in the same folder. Voters check one of them;
//! users download either. So the two must hold the same members with the same bytes. While an
//! archive with a twin is read (the one pass that also runs every other archive check), each
//! member's normalized path and the SHA-256 of its content are recorded in a [`Manifest`]; once
//! every artifact has been read, [`compare`] tells the members found in only one archive and the
//! members whose content differs. Folders are not compared (zip tools often leave them out); links
//! are compared by their target, and a tar hard link by the content of the file it links to.

use std::collections::BTreeMap;

use atr_core::model::CheckStatus;
use atr_core::types::ReleasePath;

use super::ArchiveKind;
use crate::analyze::{Finding, text};

/// The checker name of parity findings.
pub const CHECKER: &str = "archive-parity";

/// Most bytes of member names one manifest keeps; past it the archive is not compared.
const MAX_NAME_BYTES: usize = 64 << 20;

/// What one member is, as far as parity goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// A file and the SHA-256 of its content.
    File([u8; 32]),
    /// A symbolic link and its target.
    Symlink(String),
}

/// The members of one archive, by normalized path (segments joined by `/`, without `.` and empty
/// segments), recorded during the archive's single pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    entries: BTreeMap<String, Entry>,
    name_bytes: usize,
    /// Why not every member was recorded, if not.
    incomplete: Option<String>,
}

impl Manifest {
    fn insert(&mut self, path: String, entry: Entry) {
        if self.incomplete.is_some() {
            return;
        }
        self.name_bytes += path.len();
        if self.name_bytes > MAX_NAME_BYTES {
            self.entries.clear();
            self.incomplete = Some(format!("its member names exceed {} MiB", MAX_NAME_BYTES >> 20));
            return;
        }
        // A later member of the same name replaces the earlier one, as it does when unpacked.
        self.entries.insert(path, entry);
    }

    /// Records a file and the SHA-256 of its content.
    pub(super) fn file(&mut self, path: String, sha256: [u8; 32]) {
        self.insert(path, Entry::File(sha256));
    }

    /// Records a symbolic link.
    pub(super) fn symlink(&mut self, path: String, target: &str) {
        self.insert(path, Entry::Symlink(target.to_owned()));
    }

    /// Records a hard link as the file it links to, if that file came earlier.
    pub(super) fn hardlink(&mut self, path: String, target: &str) {
        if let Some(entry) = self.entries.get(target).cloned() {
            self.insert(path, entry);
        }
    }

    /// Marks the manifest as not holding every member, and why.
    pub(super) fn stop(&mut self, why: impl Into<String>) {
        if self.incomplete.is_none() {
            self.entries.clear();
            self.incomplete = Some(why.into());
        }
    }

    /// How many files and links it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no file or link.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Why not every member was recorded, if not.
    pub fn incomplete(&self) -> Option<&str> {
        self.incomplete.as_deref()
    }
}

/// The groups of archives that hold the same tree: the same folder and base name, in different
/// formats. Each group has two or more archives, the reference first (`.tar.gz`, then `.tgz`,
/// `.tar.bz2`, `.tar.xz`, `.zip`); lone archives are in no group.
pub fn twins<'a>(archives: impl IntoIterator<Item = &'a ReleasePath>) -> Vec<Vec<ReleasePath>> {
    let mut groups: BTreeMap<String, Vec<(usize, ReleasePath)>> = BTreeMap::new();
    for path in archives {
        let Some(kind) = ArchiveKind::of(path.file_name()) else { continue };
        let full = path.as_str();
        let base = &full[..full.len() - kind.suffix().len()];
        let rank = ArchiveKind::ALL.iter().position(|k| *k == kind).unwrap_or(usize::MAX);
        groups.entry(base.to_owned()).or_default().push((rank, path.clone()));
    }
    groups
        .into_values()
        .filter(|group| group.len() > 1)
        .map(|mut group| {
            group.sort();
            group.into_iter().map(|(_, path)| path).collect()
        })
        .collect()
}

/// Compares `other` with the `reference` archive of the same tree: a Success, a Blocker naming
/// the members only in one and the members whose content differs, or a Note when either could not
/// be read completely. The finding is about `other`.
pub fn compare(
    reference: &ReleasePath,
    reference_manifest: Option<&Manifest>,
    other: &ReleasePath,
    other_manifest: Option<&Manifest>,
) -> Finding {
    let (reference_name, other_name) = (reference.file_name(), other.file_name());
    let not_compared = |name: &str, why: &str| {
        Finding::new(
            CHECKER,
            other,
            CheckStatus::Note,
            format!(
                "{other_name} was not compared with {reference_name}, which should hold the same files: {name} \
                 could not be read completely ({why})."
            ),
        )
    };
    let (a, b) = match (reference_manifest, other_manifest) {
        (None, _) => return not_compared(reference_name, "it could not be read"),
        (_, None) => return not_compared(other_name, "it could not be read"),
        (Some(a), _) if a.incomplete().is_some() => {
            return not_compared(reference_name, a.incomplete().unwrap_or_default());
        }
        (_, Some(b)) if b.incomplete().is_some() => {
            return not_compared(other_name, b.incomplete().unwrap_or_default());
        }
        (Some(a), Some(b)) => (a, b),
    };
    let only_reference: Vec<&str> =
        a.entries.keys().filter(|k| !b.entries.contains_key(*k)).map(String::as_str).collect();
    let only_other: Vec<&str> = b.entries.keys().filter(|k| !a.entries.contains_key(*k)).map(String::as_str).collect();
    let differ: Vec<&str> = a
        .entries
        .iter()
        .filter(|(k, entry)| b.entries.get(*k).is_some_and(|e| e != *entry))
        .map(|(k, _)| k.as_str())
        .collect();
    if only_reference.is_empty() && only_other.is_empty() && differ.is_empty() {
        return Finding::new(
            CHECKER,
            other,
            CheckStatus::Success,
            format!(
                "{other_name} holds the same {} as {reference_name}, with the same content.",
                text::count(a.len(), "file or link", "files and links")
            ),
        );
    }
    let mut parts = Vec::new();
    for (names, place) in [(&only_reference, reference_name), (&only_other, other_name)] {
        if !names.is_empty() {
            let what = text::count(names.len(), "member is", "members are");
            parts.push(format!("{what} only in {place} ({})", text::list(names)));
        }
    }
    if !differ.is_empty() {
        let what = text::count(differ.len(), "member differs", "members differ");
        parts.push(format!("{what} in content ({})", text::list(&differ)));
    }
    let summary = match parts.as_slice() {
        [one] => one.clone(),
        [first, last] => format!("{first} and {last}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
        [] => String::new(),
    };
    let finding = Finding::new(
        CHECKER,
        other,
        CheckStatus::Blocker,
        format!(
            "{other_name} and {reference_name} should hold the same files, but {summary}. Build every archive of the \
             release from the same tree."
        ),
    );
    // One difference: the member is named on the finding too, so an ignore can select it.
    match (only_reference.as_slice(), only_other.as_slice(), differ.as_slice()) {
        ([one], [], []) | ([], [one], []) | ([], [], [one]) => finding.in_member(*one),
        _ => finding,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ReleasePath {
        ReleasePath::parse(s).unwrap()
    }

    fn manifest(entries: &[(&str, u8)]) -> Manifest {
        let mut m = Manifest::default();
        for (name, byte) in entries {
            m.file((*name).to_owned(), [*byte; 32]);
        }
        m
    }

    #[test]
    fn twins_share_folder_and_base_name() {
        let paths = [
            p("demo-1.0.zip"),
            p("demo-1.0.tar.gz"),
            p("demo-1.0.tar.gz.asc"),
            p("demo-1.0-bin.tar.gz"),
            p("sub/demo-1.0.tar.xz"),
            p("demo-1.0.tar.bz2"),
        ];
        let groups = twins(paths.iter());
        assert_eq!(groups, vec![vec![p("demo-1.0.tar.gz"), p("demo-1.0.tar.bz2"), p("demo-1.0.zip")]]);
    }

    #[test]
    fn differences_are_named_and_counted() {
        let (tgz, zip) = (p("d.tar.gz"), p("d.zip"));
        let a = manifest(&[("d/a", 1), ("d/b", 2), ("d/c", 3)]);
        let same = compare(&tgz, Some(&a), &zip, Some(&a.clone()));
        assert_eq!(same.status, CheckStatus::Success, "{}", same.message);
        assert!(same.message.contains("same 3 files and links"), "{}", same.message);

        let b = manifest(&[("d/a", 1), ("d/b", 9), ("d/x", 3)]);
        let f = compare(&tgz, Some(&a), &zip, Some(&b));
        assert_eq!(f.status, CheckStatus::Blocker);
        assert_eq!(f.path, Some(zip.clone()));
        assert!(f.message.contains("1 member is only in d.tar.gz (d/c)"), "{}", f.message);
        assert!(f.message.contains("1 member is only in d.zip (d/x)"), "{}", f.message);
        assert!(f.message.contains("1 member differs in content (d/b)"), "{}", f.message);
        assert_eq!(f.member, None);

        let many: Vec<(String, u8)> = (0..40).map(|i| (format!("d/extra{i:02}"), 7)).collect();
        let mut c = a.clone();
        for (name, byte) in &many {
            c.file(name.clone(), [*byte; 32]);
        }
        let f = compare(&tgz, Some(&a), &zip, Some(&c));
        assert!(f.message.contains("40 members are only in d.zip (d/extra00, d/extra01"), "{}", f.message);
        assert!(f.message.contains("and 35 more"), "{}", f.message);
        assert!(f.message.chars().count() < 400, "{}", f.message);
    }

    #[test]
    fn an_incomplete_manifest_is_not_compared() {
        let (tgz, zip) = (p("d.tar.gz"), p("d.zip"));
        let a = manifest(&[("d/a", 1)]);
        let mut b = a.clone();
        b.stop("the archive is damaged");
        let f = compare(&tgz, Some(&a), &zip, Some(&b));
        assert_eq!(f.status, CheckStatus::Note);
        assert!(f.message.contains("d.zip could not be read completely (the archive is damaged)"), "{}", f.message);
        let f = compare(&tgz, None, &zip, Some(&a));
        assert_eq!(f.status, CheckStatus::Note);
    }
}
