//! The license files of a source archive: `LICENSE`, `NOTICE` and, for podlings, `DISCLAIMER`.

use std::sync::OnceLock;

use atr_core::model::CheckStatus;
use atr_core::types::ReleasePath;

use crate::analyze::Finding;

/// The checker name of these findings.
pub(super) const CHECKER: &str = "license-files";

/// The Apache License 2.0 as published by the ASF (the copy Debian ships in `common-licenses`).
const APACHE_2_0: &str = include_str!("../../../assets/licenses/Apache-2.0.txt");

/// How much of a license file is kept: enough for any real `LICENSE` or `NOTICE` and bounded for hostile ones.
pub(super) const MAX_KEPT: usize = 1024 * 1024;
/// How many candidate files are kept at most; a hostile archive could hold one per folder.
const MAX_CANDIDATES: usize = 64;

/// The names looked for next to the root folder, with the file each stands for.
const WANTED: &[(&str, Kind)] = &[
    ("LICENSE", Kind::License),
    ("LICENSE.txt", Kind::License),
    ("NOTICE", Kind::Notice),
    ("NOTICE.txt", Kind::Notice),
    ("DISCLAIMER", Kind::Disclaimer),
    ("DISCLAIMER.txt", Kind::Disclaimer),
    ("DISCLAIMER-WIP", Kind::Disclaimer),
    ("DISCLAIMER-WIP.txt", Kind::Disclaimer),
    (".rat-excludes", Kind::RatExcludes),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    License,
    Notice,
    Disclaimer,
    RatExcludes,
}

/// One kept file.
#[derive(Debug)]
struct Candidate {
    kind: Kind,
    /// Folder segments from the archive root.
    folder: Vec<String>,
    name: String,
    data: Vec<u8>,
}

/// Collects the license files while the archive streams by, and judges them at the end.
#[derive(Debug, Default)]
pub(super) struct LicenseFiles {
    candidates: Vec<Candidate>,
}

/// The kind of file a member is, if it is one to keep: at most two segments deep (the root folder and the file).
pub(super) fn wanted(segments: &[&str]) -> Option<Kind> {
    if segments.len() > 2 {
        return None;
    }
    let file_name = segments.last()?;
    WANTED.iter().find(|(name, _)| name == file_name).map(|(_, kind)| *kind)
}

impl LicenseFiles {
    /// Keeps one wanted file (its first [`MAX_KEPT`] bytes).
    pub(super) fn keep(&mut self, kind: Kind, segments: &[&str], name: &str, data: Vec<u8>) {
        if self.candidates.len() < MAX_CANDIDATES {
            let folder = segments[..segments.len() - 1].iter().map(|s| (*s).to_owned()).collect();
            self.candidates.push(Candidate { kind, folder, name: name.to_owned(), data });
        }
    }

    fn in_folder<'a>(&'a self, folder: &'a [String], kind: Kind) -> impl Iterator<Item = &'a Candidate> + 'a {
        self.candidates.iter().filter(move |c| c.kind == kind && c.folder == folder)
    }

    /// The `.rat-excludes` patterns of `folder` (the root folder, or the archive root).
    pub(super) fn rat_excludes(&self, folder: &[String]) -> Vec<String> {
        self.in_folder(folder, Kind::RatExcludes)
            .flat_map(|c| String::from_utf8_lossy(&c.data).lines().map(str::to_owned).collect::<Vec<_>>())
            .map(|line| line.trim().to_owned())
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    }

    /// Judges the files found in `folder`, described as `place` in messages.
    pub(super) fn judge(&self, path: &ReleasePath, folder: &[String], place: &str, podling: bool) -> Vec<Finding> {
        let mut findings = Vec::new();
        let licenses: Vec<_> = self.in_folder(folder, Kind::License).collect();
        findings.push(match licenses.as_slice() {
            [] => Finding::new(
                CHECKER,
                path,
                CheckStatus::Blocker,
                format!(
                    "There is no LICENSE or LICENSE.txt file {place}. A source release must carry the Apache License \
                     2.0 text in a LICENSE file at its top."
                ),
            ),
            [one] => judge_license(path, one),
            many => duplicated(path, "LICENSE", place, many),
        });
        let notices: Vec<_> = self.in_folder(folder, Kind::Notice).collect();
        findings.push(match notices.as_slice() {
            [] => Finding::new(
                CHECKER,
                path,
                CheckStatus::Blocker,
                format!(
                    "There is no NOTICE or NOTICE.txt file {place}. A source release must carry a NOTICE file with \
                     the line \"Copyright [years] The Apache Software Foundation\"."
                ),
            ),
            [one] => judge_notice(path, one),
            many => duplicated(path, "NOTICE", place, many),
        });
        if podling {
            let disclaimers: Vec<_> = self.in_folder(folder, Kind::Disclaimer).collect();
            findings.push(match disclaimers.as_slice() {
                [] => Finding::new(
                    CHECKER,
                    path,
                    CheckStatus::Blocker,
                    format!(
                        "There is no DISCLAIMER or DISCLAIMER-WIP file {place}. Releases of podlings must carry the \
                         Incubator disclaimer."
                    ),
                ),
                [one] => Finding::new(
                    CHECKER,
                    path,
                    CheckStatus::Success,
                    format!("The podling disclaimer {} is present.", one.name),
                )
                .in_member(one.name.clone()),
                many => duplicated(path, "DISCLAIMER", place, many),
            });
        }
        findings
    }
}

fn duplicated(path: &ReleasePath, what: &str, place: &str, many: &[&Candidate]) -> Finding {
    let names: Vec<&str> = many.iter().map(|c| c.name.as_str()).collect();
    Finding::new(
        CHECKER,
        path,
        CheckStatus::Blocker,
        format!(
            "There are {} {what} files {place} ({}); keep exactly one so that there is no doubt which applies.",
            many.len(),
            names.join(", ")
        ),
    )
}

/// Text reduced to lower-case words separated by single spaces, with `https` read as `http` and
/// typographic quotes as plain ones, so that reflowed or re-indented copies compare equal.
fn normalize(text: &str) -> String {
    let text = text
        .replace("https://", "http://")
        .replace(['\u{201c}', '\u{201d}'], "\"")
        .replace(['\u{2018}', '\u{2019}'], "'");
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The normalized terms of the Apache License 2.0, up to "END OF TERMS AND CONDITIONS".
fn apache_terms() -> &'static str {
    static TERMS: OnceLock<String> = OnceLock::new();
    TERMS.get_or_init(|| {
        let text = normalize(APACHE_2_0);
        let end = "end of terms and conditions";
        match text.find(end) {
            Some(at) => text[..at + end.len()].to_owned(),
            None => text,
        }
    })
}

/// Whether `text` starts with the Apache License 2.0 terms; otherwise a short excerpt of the
/// first place where it differs.
pub(super) fn starts_with_apache(text: &str) -> Result<(), String> {
    let have = normalize(text);
    let want = apache_terms();
    if have.starts_with(want) {
        return Ok(());
    }
    let at = have
        .char_indices()
        .zip(want.chars())
        .find(|((_, a), b)| a != b)
        .map_or(have.len().min(want.len()), |((i, _), _)| i);
    let start = have[..at].rfind(' ').map_or(0, |i| i + 1);
    let excerpt: String = have[start..].chars().take(60).collect();
    let expected: String = want[start..].chars().take(60).collect();
    Err(format!("it reads \"{excerpt}\" where the license has \"{expected}\""))
}

fn judge_license(path: &ReleasePath, file: &Candidate) -> Finding {
    let text = String::from_utf8_lossy(&file.data);
    let finding = match starts_with_apache(&text) {
        Ok(()) => Finding::new(
            CHECKER,
            path,
            CheckStatus::Success,
            format!("{} starts with the Apache License 2.0 text.", file.name),
        ),
        Err(difference) => Finding::new(
            CHECKER,
            path,
            CheckStatus::Blocker,
            format!(
                "{} does not start with the Apache License 2.0 text: {difference}. Put the unmodified Apache License \
                 2.0 first, followed by the licenses of any bundled code.",
                file.name
            ),
        ),
    };
    finding.in_member(file.name.clone())
}

fn judge_notice(path: &ReleasePath, file: &Candidate) -> Finding {
    let text = match std::str::from_utf8(&file.data) {
        Ok(text) => text,
        // A file cut at the keeping bound may end inside a character.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&file.data[..e.valid_up_to()]).unwrap_or_default(),
        Err(e) => {
            return Finding::new(
                CHECKER,
                path,
                CheckStatus::Blocker,
                format!(
                    "{} is not valid UTF-8 (the first bad byte is at offset {}). Save it as UTF-8.",
                    file.name,
                    e.valid_up_to()
                ),
            )
            .in_member(file.name.clone());
        }
    };
    let has_copyright = text.lines().any(|line| {
        let line = line.to_lowercase();
        line.contains("copyright") && line.contains("the apache software foundation")
    });
    let finding = if has_copyright {
        Finding::new(CHECKER, path, CheckStatus::Success, format!("{} has the ASF copyright line.", file.name))
    } else {
        Finding::new(
            CHECKER,
            path,
            CheckStatus::Blocker,
            format!(
                "{} has no line \"Copyright [years] The Apache Software Foundation\". Add it, as the ASF's NOTICE \
                 template shows.",
                file.name
            ),
        )
    };
    finding.in_member(file.name.clone())
}
