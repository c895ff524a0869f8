//! Member names and link targets: what may and may not appear inside a release archive.

/// Why a member name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unsafe {
    Absolute,
    Parent,
    TooDeep(usize),
}

fn is_separator(c: char) -> bool {
    c == '/' || c == '\\'
}

fn is_absolute(name: &str) -> bool {
    let mut chars = name.chars();
    let first = chars.next();
    first.is_some_and(is_separator) || (first.is_some_and(|c| c.is_ascii_alphabetic()) && chars.next() == Some(':'))
}

/// The segments of a member name, without empty and `.` segments. Both `/` and `\` separate
/// segments, since an archive may be unpacked on either kind of system.
pub(super) fn segments(name: &str, max_depth: usize) -> Result<Vec<&str>, Unsafe> {
    if is_absolute(name) {
        return Err(Unsafe::Absolute);
    }
    let mut out = Vec::new();
    for segment in name.split(is_separator) {
        match segment {
            "" | "." => {}
            ".." => return Err(Unsafe::Parent),
            other => out.push(other),
        }
    }
    if out.len() > max_depth {
        return Err(Unsafe::TooDeep(out.len()));
    }
    Ok(out)
}

/// Whether `target`, resolved from the folder `base` (segments from the archive root), leaves the
/// archive root.
pub(super) fn escapes(base: &[&str], target: &str) -> bool {
    if target.is_empty() || is_absolute(target) {
        return true;
    }
    let mut depth = base.len();
    for segment in target.split(is_separator) {
        match segment {
            "" | "." => {}
            ".." => {
                if depth == 0 {
                    return true;
                }
                depth -= 1;
            }
            _ => depth += 1,
        }
    }
    false
}
