//! Reading archives as a stream of members, with every byte counted against the limits.
//!
//! Tar archives are read straight from the caller's reader through the decompressor; nothing is
//! buffered beyond the decompressor's own window and a fixed copy buffer. Zip archives keep their
//! directory at the end, so they are first spooled, still compressed, to an anonymous temporary file
//! (bounded by [`ArchiveLimits::max_total_uncompressed`]); members are then decompressed one at a time
//! and never written anywhere.

use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{ArchiveKind, ArchiveLimits};

/// Below this many uncompressed bytes the compression ratio is not judged: small archives of
/// repetitive text reach high ratios without being hostile.
pub(super) const RATIO_FLOOR: u64 = 64 * 1024 * 1024;

/// Largest GNU long name, long link or pax extension header accepted.
const MAX_METADATA: u64 = 1024 * 1024;

/// What a member is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum MemberKind {
    File,
    Dir,
    Symlink(String),
    Hardlink(String),
    /// A device, FIFO or socket, described in words.
    Special(&'static str),
}

/// One member as the walker sees it, before its content is read.
#[derive(Debug)]
pub(super) struct Member {
    pub(super) name: String,
    pub(super) kind: MemberKind,
}

/// Receives the members in archive order.
pub(super) trait Visitor {
    /// Looks at one member; `content` must be read to its end. `Ok(false)` stops the walk.
    fn member(&mut self, member: &Member, content: &mut dyn Read) -> io::Result<bool>;
}

/// A bound that the archive went over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LimitHit {
    Members(u64),
    TotalSize(u64),
    Ratio { uncompressed: u64, compressed: u64 },
    MemberSize { member: String, size: u64 },
    Metadata { member: Option<String>, size: u64 },
}

/// How the walk ended.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Every member and the compression trailer were read.
    Complete { members: u64, uncompressed: u64, trailing_data: bool },
    /// The visitor stopped the walk; it has said why.
    Stopped,
    /// A limit was reached; reading stopped there.
    Limit(LimitHit),
    /// The archive refuses to be read safely (overlapping or duplicated zip entries).
    Refused(String),
    /// The bytes are not a readable archive of this kind: truncated, corrupt, or bad compression.
    /// `member` is the member being read, or `after` the last one read when the damage lies between members.
    Damaged { member: Option<String>, after: Option<String>, error: String },
    /// The archive could not be read for a reason that is not its own (no temporary space).
    Internal(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trip {
    Total,
    Ratio,
    Member,
}

/// Byte counters shared by the readers of one walk.
#[derive(Debug, Default)]
struct Budget {
    compressed: Cell<u64>,
    uncompressed: Cell<u64>,
    member: Cell<u64>,
    tripped: Cell<Option<Trip>>,
}

/// Counts the compressed bytes taken from the caller's reader.
struct Counting<R> {
    inner: R,
    budget: Rc<Budget>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.budget.compressed.set(self.budget.compressed.get() + n as u64);
        Ok(n)
    }
}

/// Counts decompressed bytes and fails every read once a limit is passed.
struct Guard<R> {
    inner: R,
    budget: Rc<Budget>,
    max_total: u64,
    max_ratio: u64,
    /// Set for zip members, whose declared size may lie; tar sizes are checked from the header.
    max_member: Option<u64>,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.budget.tripped.get().is_some() {
            return Err(io::Error::other("archive limit reached"));
        }
        let n = self.inner.read(buf)?;
        let b = &self.budget;
        let total = b.uncompressed.get() + n as u64;
        b.uncompressed.set(total);
        b.member.set(b.member.get() + n as u64);
        let trip = if total > self.max_total {
            Some(Trip::Total)
        } else if total > RATIO_FLOOR && total / self.max_ratio.max(1) > b.compressed.get().max(1) {
            Some(Trip::Ratio)
        } else if self.max_member.is_some_and(|max| b.member.get() > max) {
            Some(Trip::Member)
        } else {
            None
        };
        if let Some(trip) = trip {
            b.tripped.set(Some(trip));
            return Err(io::Error::other("archive limit reached"));
        }
        Ok(n)
    }
}

impl Budget {
    fn hit(&self, member: Option<&str>) -> Option<LimitHit> {
        self.tripped.get().map(|trip| match trip {
            Trip::Total => LimitHit::TotalSize(self.uncompressed.get()),
            Trip::Ratio => LimitHit::Ratio { uncompressed: self.uncompressed.get(), compressed: self.compressed.get() },
            Trip::Member => {
                LimitHit::MemberSize { member: member.unwrap_or_default().to_owned(), size: self.member.get() }
            }
        })
    }
}

/// Turns a read error into the outcome it stands for: a limit if one tripped, else damage.
fn failed(budget: &Budget, member: Option<String>, after: Option<String>, error: &io::Error) -> Outcome {
    match budget.hit(member.as_deref()) {
        Some(hit) => Outcome::Limit(hit),
        None => Outcome::Damaged { member, after, error: error.to_string() },
    }
}

/// Reads `content` to its end, discarding it; reports whether any byte was not zero.
pub(super) fn drain(content: &mut dyn Read) -> io::Result<bool> {
    let mut buf = [0u8; 16 * 1024];
    let mut nonzero = false;
    loop {
        match content.read(&mut buf) {
            Ok(0) => return Ok(nonzero),
            Ok(n) => nonzero |= buf[..n].iter().any(|b| *b != 0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The value of `key` in a pax extension header, if present and well formed.
fn pax_value(data: &[u8], key: &str) -> Option<String> {
    let mut rest = data;
    let mut found = None;
    while !rest.is_empty() {
        let space = rest.iter().position(|b| *b == b' ')?;
        let len: usize = std::str::from_utf8(&rest[..space]).ok()?.parse().ok()?;
        if len <= space || len > rest.len() {
            return None;
        }
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(eq) = record.iter().position(|b| *b == b'=')
            && &record[..eq] == key.as_bytes()
        {
            found = Some(lossy(&record[eq + 1..]));
        }
        rest = &rest[len..];
    }
    found
}

/// Walks a compressed tar archive.
pub(super) fn walk_tar(
    kind: ArchiveKind,
    reader: impl Read,
    limits: &ArchiveLimits,
    visitor: &mut dyn Visitor,
) -> Outcome {
    let budget = Rc::new(Budget::default());
    let counted = Counting { inner: reader, budget: Rc::clone(&budget) };
    let decoder: Box<dyn Read + '_> = match kind {
        ArchiveKind::TarGz | ArchiveKind::Tgz => Box::new(flate2::read::MultiGzDecoder::new(counted)),
        ArchiveKind::TarBz2 => Box::new(bzip2::read::MultiBzDecoder::new(counted)),
        ArchiveKind::TarXz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(counted)),
        ArchiveKind::Zip => unreachable!("zip archives are walked by walk_zip"),
    };
    let guard = Guard {
        inner: decoder,
        budget: Rc::clone(&budget),
        max_total: limits.max_total_uncompressed,
        max_ratio: limits.max_ratio,
        max_member: None,
    };
    let mut archive = tar::Archive::new(guard);
    let mut walk = TarWalk { budget: &budget, limits, last: None, entries: 0, members: 0, declared: 0 };
    let outcome = walk.entries(&mut archive, visitor);
    if let Some(outcome) = outcome {
        return outcome;
    }
    // The tar end marker was read; the rest of the stream is padding and the compression trailer,
    // whose checksum is only verified once it is read.
    let mut inner = archive.into_inner();
    match drain(&mut inner) {
        Ok(trailing_data) => {
            Outcome::Complete { members: walk.members, uncompressed: budget.uncompressed.get(), trailing_data }
        }
        Err(e) => failed(&budget, None, walk.last.take(), &e),
    }
}

struct TarWalk<'a> {
    budget: &'a Budget,
    limits: &'a ArchiveLimits,
    last: Option<String>,
    entries: u64,
    members: u64,
    declared: u64,
}

impl TarWalk<'_> {
    /// Reads a metadata entry (long name, long link, pax header) whole, within [`MAX_METADATA`].
    fn metadata(&self, entry: &mut dyn Read, size: u64) -> Result<Vec<u8>, Outcome> {
        if size > MAX_METADATA {
            return Err(Outcome::Limit(LimitHit::Metadata { member: self.last.clone(), size }));
        }
        let mut data = Vec::new();
        entry
            .take(MAX_METADATA)
            .read_to_end(&mut data)
            .map_err(|e| failed(self.budget, None, self.last.clone(), &e))?;
        Ok(data)
    }

    /// Visits every entry; `None` when the end marker was reached.
    fn entries<R: Read>(&mut self, archive: &mut tar::Archive<R>, visitor: &mut dyn Visitor) -> Option<Outcome> {
        let entries = match archive.entries() {
            Ok(entries) => entries.raw(true),
            Err(e) => return Some(failed(self.budget, None, None, &e)),
        };
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax: Option<Vec<u8>> = None;
        for entry in entries {
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(e) => return Some(failed(self.budget, None, self.last.clone(), &e)),
            };
            self.entries += 1;
            if self.entries > self.limits.max_members {
                return Some(Outcome::Limit(LimitHit::Members(self.entries)));
            }
            let header = entry.header();
            let entry_type = header.entry_type();
            let size = entry.size();
            if entry_type.is_gnu_longname() || entry_type.is_gnu_longlink() || entry_type.is_pax_local_extensions() {
                let data = match self.metadata(&mut entry, size) {
                    Ok(data) => data,
                    Err(outcome) => return Some(outcome),
                };
                let trimmed = data.strip_suffix(&[0]).unwrap_or(&data).to_vec();
                if entry_type.is_gnu_longname() {
                    long_name = Some(trimmed);
                } else if entry_type.is_gnu_longlink() {
                    long_link = Some(trimmed);
                } else {
                    pax = Some(data);
                }
                continue;
            }
            if entry_type.is_pax_global_extensions() {
                if let Err(outcome) = self.metadata(&mut entry, size) {
                    return Some(outcome);
                }
                continue;
            }
            let pax_data = pax.take();
            let name = long_name
                .take()
                .map(|n| lossy(&n))
                .or_else(|| pax_data.as_deref().and_then(|p| pax_value(p, "path")))
                .unwrap_or_else(|| lossy(&entry.path_bytes()));
            let link = long_link
                .take()
                .map(|n| lossy(&n))
                .or_else(|| pax_data.as_deref().and_then(|p| pax_value(p, "linkpath")))
                .or_else(|| entry.link_name_bytes().map(|l| lossy(&l)))
                .unwrap_or_default();
            let kind = match entry_type {
                tar::EntryType::Directory => MemberKind::Dir,
                tar::EntryType::Symlink => MemberKind::Symlink(link),
                tar::EntryType::Link => MemberKind::Hardlink(link),
                tar::EntryType::Char => MemberKind::Special("character device"),
                tar::EntryType::Block => MemberKind::Special("block device"),
                tar::EntryType::Fifo => MemberKind::Special("named pipe (FIFO)"),
                _ => MemberKind::File,
            };
            self.members += 1;
            if size > self.limits.max_member_size {
                return Some(Outcome::Limit(LimitHit::MemberSize { member: name, size }));
            }
            self.declared = self.declared.saturating_add(size);
            if self.declared > self.limits.max_total_uncompressed {
                return Some(Outcome::Limit(LimitHit::TotalSize(self.declared)));
            }
            self.last = Some(name.clone());
            let member = Member { name, kind };
            match visitor.member(&member, &mut entry).and_then(|go| drain(&mut entry).map(|_| go)) {
                Ok(true) => {}
                Ok(false) => return Some(Outcome::Stopped),
                Err(e) => return Some(failed(self.budget, Some(member.name), None, &e)),
            }
        }
        None
    }
}

/// Walks a zip archive, spooling it first (see the module documentation).
pub(super) fn walk_zip(mut reader: impl Read, limits: &ArchiveLimits, visitor: &mut dyn Visitor) -> Outcome {
    let mut spool = match Spool::create() {
        Ok(spool) => spool,
        Err(e) => return Outcome::Internal(format!("no temporary space to read the zip archive: {e}")),
    };
    let bound = limits.max_total_uncompressed;
    let copied = match io::copy(&mut (&mut reader).take(bound.saturating_add(1)), &mut spool.file) {
        Ok(copied) => copied,
        Err(e) => return Outcome::Damaged { member: None, after: None, error: e.to_string() },
    };
    if copied > bound {
        return Outcome::Limit(LimitHit::TotalSize(copied));
    }
    if let Err(e) = spool.file.seek(SeekFrom::Start(0)) {
        return Outcome::Internal(format!("could not read back the spooled zip archive: {e}"));
    }
    let mut zip = match zip::ZipArchive::new(BufReader::new(&mut spool.file)) {
        Ok(zip) => zip,
        Err(e) => {
            return Outcome::Damaged { member: None, after: None, error: e.to_string() };
        }
    };
    let count = zip.len() as u64;
    if count > limits.max_members {
        return Outcome::Limit(LimitHit::Members(count));
    }
    if zip.decompressed_size().is_some_and(|size| size > u128::from(limits.max_total_uncompressed)) {
        let size = zip.decompressed_size().map_or(u64::MAX, |s| u64::try_from(s).unwrap_or(u64::MAX));
        return Outcome::Limit(LimitHit::TotalSize(size));
    }
    if zip.has_duplicate_names() {
        return Outcome::Refused(
            "The zip archive lists the same member name more than once, so different tools would unpack different \
             files; rebuild the archive."
                .to_owned(),
        );
    }
    match zip.has_overlapping_files() {
        Ok(false) => {}
        Ok(true) => {
            return Outcome::Refused(
                "The zip archive has members whose data overlap, a technique used by zip bombs; rebuild the archive."
                    .to_owned(),
            );
        }
        Err(e) => {
            return Outcome::Damaged { member: None, after: None, error: e.to_string() };
        }
    }
    let budget = Rc::new(Budget::default());
    budget.compressed.set(copied);
    for index in 0..zip.len() {
        let name = zip.name_for_index(index).and_then(Result::ok).map(std::borrow::Cow::into_owned);
        let mut file = match zip.by_index(index) {
            Ok(file) => file,
            Err(e) => return Outcome::Damaged { member: name, after: None, error: e.to_string() },
        };
        let name = name.unwrap_or_else(|| lossy(file.name_raw()));
        let mode = file.unix_mode().unwrap_or(0) & 0o170_000;
        let declared = file.size();
        let is_dir = file.is_dir();
        let is_symlink = file.is_symlink();
        if declared > limits.max_member_size {
            return Outcome::Limit(LimitHit::MemberSize { member: name, size: declared });
        }
        budget.member.set(0);
        let mut guard = Guard {
            inner: &mut file,
            budget: Rc::clone(&budget),
            max_total: limits.max_total_uncompressed,
            max_ratio: limits.max_ratio,
            max_member: Some(limits.max_member_size),
        };
        let kind = if is_symlink {
            let mut target = Vec::new();
            if let Err(e) = (&mut guard).take(4096).read_to_end(&mut target) {
                return failed(&budget, Some(name), None, &e);
            }
            MemberKind::Symlink(lossy(&target))
        } else if is_dir {
            MemberKind::Dir
        } else {
            match mode {
                0o020_000 => MemberKind::Special("character device"),
                0o060_000 => MemberKind::Special("block device"),
                0o010_000 => MemberKind::Special("named pipe (FIFO)"),
                0o140_000 => MemberKind::Special("socket"),
                _ => MemberKind::File,
            }
        };
        let member = Member { name, kind };
        match visitor.member(&member, &mut guard).and_then(|go| drain(&mut guard).map(|_| go)) {
            Ok(true) => {}
            Ok(false) => return Outcome::Stopped,
            Err(e) => return failed(&budget, Some(member.name), None, &e),
        }
    }
    Outcome::Complete { members: count, uncompressed: budget.uncompressed.get(), trailing_data: false }
}

/// An anonymous temporary file: unlinked at once where the system allows, removed on drop otherwise.
struct Spool {
    path: PathBuf,
    file: File,
}

impl Spool {
    #[expect(
        clippy::disallowed_methods,
        reason = "a large zip member is spilled to an anonymous temporary file, never into release storage"
    )]
    fn create() -> io::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir();
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let mut last_error = None;
        for _ in 0..16 {
            let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("atr-zip-spool-{}-{nanos}-{unique}", std::process::id()));
            match OpenOptions::new().read(true).write(true).create_new(true).open(&path) {
                Ok(file) => {
                    #[cfg(unix)]
                    let _ = std::fs::remove_file(&path);
                    return Ok(Self { path, file });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("could not create a temporary file")))
    }
}

impl Drop for Spool {
    #[expect(clippy::disallowed_methods, reason = "removes the spill file where it could not be unlinked at once")]
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
