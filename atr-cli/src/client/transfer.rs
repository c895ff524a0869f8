//! Moving bytes: uploads streamed from disk as revisions, downloads streamed to disk and
//! verified against the SHA-512 the service promises in its `ETag`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use indicatif::ProgressBar;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_MATCH};
use reqwest::{Body, Method};
use serde_json::Value;
use sha2::{Digest as _, Sha512};
use tokio::io::{AsyncRead, ReadBuf};
use tokio_util::io::ReaderStream;

use atr_api::NewRevision;
use atr_api::endpoints as op;

use super::ReleaseArgs;
use super::api::{Api, Failure, Outcome, Reply, exit, segments};
use super::output;

/// A reader that moves a progress bar by the bytes read.
struct Counting<R> {
    inner: R,
    bar: Option<ProgressBar>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Counting<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some(bar)) = (&poll, &self.bar) {
            bar.inc(u64::try_from(buf.filled().len() - before).unwrap_or(0));
        }
        poll
    }
}

/// The `If-Match` value naming the revision expected to be the latest.
pub(crate) fn if_match(expected: Option<u32>) -> String {
    expected.map_or_else(|| "none".to_owned(), |n| format!("\"{n}\""))
}

/// `atr upload`: each file is a `PUT`, streamed from disk, that makes a new revision. Each names
/// the revision it expects to be the latest, so a change by someone else is a clear conflict.
pub(crate) async fn upload(
    api: &Api,
    release: &ReleaseArgs,
    files: &[PathBuf],
    to: Option<&str>,
    json: bool,
) -> Outcome {
    let mut uploads = Vec::with_capacity(files.len());
    for file in files {
        let meta =
            std::fs::metadata(file).map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
        if !meta.is_file() {
            return Err(Failure::usage(format!("{} is not a file", file.display())));
        }
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Failure::usage(format!("{} has no file name in UTF-8", file.display())))?;
        let target = match to.map(|t| t.trim_matches('/')).filter(|t| !t.is_empty()) {
            Some(folder) => format!("{folder}/{name}"),
            None => name.to_owned(),
        };
        uploads.push((file, target, meta.len()));
    }
    let current = api.op(op::GetRelease, &release.at(op::GetRelease, &[]), None).await?;
    let mut expected = current.body.release.latest_revision;
    let mut answers = Vec::new();
    for (file, target, size) in uploads {
        let handle = tokio::fs::File::open(file)
            .await
            .map_err(|e| Failure::other(format!("cannot open {}: {e}", file.display())))?;
        let bar = output::progress_bar(size, &target);
        let body = Body::wrap_stream(ReaderStream::new(Counting { inner: handle, bar: bar.clone() }));
        let request = api
            .request_for(op::PutFile, &release.at(op::PutFile, &[("path", &target)]))
            .header(IF_MATCH, if_match(expected))
            .header(CONTENT_LENGTH, size)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(body);
        let sent = api.send(request).await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let answer: Reply<NewRevision> = Reply::read(sent.map_err(|f| {
            let since = expected.map_or_else(|| "it had no files".to_owned(), |n| format!("revision {n}"));
            f.hint_for(
                exit::CONFLICT,
                format!(
                    "{} changed since {since} (another upload, or the vote started): \
                     `atr release show {}` shows it; upload again if it is still a draft",
                    release.name(),
                    release.args()
                ),
            )
        })?)
        .await?;
        let revision = answer.body.revision.number;
        if !json {
            println!("uploaded {target} ({size} bytes): revision {revision}");
        }
        expected = Some(revision);
        answers.push(answer.json);
    }
    if json {
        output::print_json(&Value::Array(answers));
    } else if let Some(n) = expected {
        eprintln!("the checks run now: `atr checks {} --revision {n} --wait`", release.args());
    }
    Ok(())
}

/// The address of coordinates: a full address as it is, else a path of the service.
fn download_url(api: &Api, coordinates: &str) -> String {
    if coordinates.starts_with("http://") || coordinates.starts_with("https://") {
        coordinates.to_owned()
    } else {
        api.url(&format!("/{}", segments(coordinates.trim_start_matches('/'))))
    }
}

/// The hex SHA-512 of a strong `ETag` `"sha512-<hex>"`.
fn promised_digest(response: &reqwest::Response) -> Option<String> {
    let tag = response.headers().get(ETAG)?.to_str().ok()?;
    let hex = tag.trim().strip_prefix('"')?.strip_suffix('"')?.strip_prefix("sha512-")?;
    (hex.len() == 128 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hex.to_ascii_lowercase())
}

/// Where the bytes go.
enum Sink {
    Stdout(std::io::Stdout),
    File { file: std::fs::File, partial: PathBuf, target: PathBuf },
}

impl Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Stdout(out) => out.write_all(bytes),
            Sink::File { file, .. } => file.write_all(bytes),
        }
    }

    /// Deletes what was written, when it went to a file.
    fn discard(&self) {
        if let Sink::File { partial, .. } = self {
            let _ = std::fs::remove_file(partial);
        }
    }
}

/// The revocation reason a download's answer carries, if the release was revoked.
fn revocation_reason(response: &reqwest::Response) -> Option<String> {
    let headers = response.headers();
    let revoked = headers.get(REVOKED_HEADER).and_then(|v| v.to_str().ok()).is_some_and(|v| v == "true");
    let reason = headers.get(REVOKED_REASON_HEADER).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    match (revoked, reason) {
        (_, Some(reason)) => Some(reason),
        (true, None) => Some("no reason given".to_owned()),
        (false, None) => None,
    }
}

/// The header that marks a download of a revoked release, and the one with the reason.
const REVOKED_HEADER: &str = "x-atr-revoked";
const REVOKED_REASON_HEADER: &str = "x-atr-revoked-reason";

/// `atr download`: follows a `latest` redirect, streams the file to disk (as `NAME.part` until it
/// is complete), and checks the SHA-512 the service promised; a mismatch deletes the file. A
/// revoked release's reason is said on stderr; `json` writes a summary on stdout.
#[expect(clippy::too_many_lines, reason = "the request, the stream, its check and the summary, in their order")]
pub(crate) async fn download(api: &Api, coordinates: &str, output: Option<&Path>, json: bool) -> Outcome {
    let url = download_url(api, coordinates);
    if url.ends_with('/') {
        return Err(Failure::usage(format!("{coordinates} names a folder, not a file"))
            .hint("name one file, such as current/httpd/2.4.66/httpd-2.4.66.tar.gz"));
    }
    if json && output.is_some_and(|p| p.as_os_str() == "-") {
        return Err(Failure::usage("--json writes a summary on stdout, so the file cannot go there too")
            .hint("write the file with -o FILE"));
    }
    let response = api.send(api.anonymous(Method::GET, &url)).await.map_err(|f| {
        f.hint_for(
            exit::NOT_FOUND,
            "check the coordinates: STAGE/PROJECT/VERSION/PATH, stage one of candidate, current, revoked",
        )
    })?;
    let promised = promised_digest(&response);
    let revoked = revocation_reason(&response);
    if let Some(reason) = &revoked {
        eprintln!("warning: this release was revoked: {reason}");
    }
    let name = response
        .url()
        .path_segments()
        .and_then(|mut s| s.next_back().map(str::to_owned))
        .filter(|n| !n.is_empty() && n != "." && n != "..")
        .ok_or_else(|| Failure::usage(format!("{coordinates} does not end with a file name")))?;
    let mut sink = match output {
        Some(path) if path.as_os_str() == "-" => Sink::Stdout(std::io::stdout()),
        _ => {
            let target = output.map_or_else(|| PathBuf::from(&name), Path::to_path_buf);
            let mut partial = target.clone().into_os_string();
            partial.push(".part");
            let partial = PathBuf::from(partial);
            let file = std::fs::File::create(&partial)
                .map_err(|e| Failure::other(format!("cannot create {}: {e}", partial.display())))?;
            Sink::File { file, partial, target }
        }
    };
    let bar = if matches!(sink, Sink::File { .. }) {
        response.content_length().and_then(|len| output::progress_bar(len, &name))
    } else {
        None
    };
    let mut response = response;
    let mut hasher = Sha512::new();
    let mut size: u64 = 0;
    let streamed: Outcome = async {
        while let Some(chunk) =
            response.chunk().await.map_err(|e| Failure::other(format!("the download broke off: {e}")))?
        {
            hasher.update(&chunk);
            size += u64::try_from(chunk.len()).unwrap_or(0);
            sink.write(&chunk).map_err(|e| Failure::other(format!("cannot write the file: {e}")))?;
            if let Some(bar) = &bar {
                bar.inc(u64::try_from(chunk.len()).unwrap_or(0));
            }
        }
        Ok(())
    }
    .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Err(failure) = streamed {
        sink.discard();
        return Err(failure.hint("nothing was kept; run the download again"));
    }
    let actual = atr_core::types::Sha512Digest::from_bytes(hasher.finalize().into()).to_hex();
    let verified = match &promised {
        Some(expected) if *expected != actual => {
            sink.discard();
            return Err(Failure::other(format!(
                "the SHA-512 of {name} is {actual}, but the service promised {expected}; the file was deleted"
            ))
            .hint(
                "download it again; if it keeps failing, tell the project: the copy may be corrupt or tampered with",
            ));
        }
        Some(_) => true,
        None => false,
    };
    let written = match &sink {
        Sink::Stdout(_) => "-".to_owned(),
        Sink::File { target, .. } => target.display().to_string(),
    };
    match sink {
        Sink::Stdout(mut out) => {
            out.flush().map_err(|e| Failure::other(format!("cannot write stdout: {e}")))?;
        }
        Sink::File { file, partial, target } => {
            file.sync_all().map_err(|e| Failure::other(format!("cannot write {}: {e}", partial.display())))?;
            drop(file);
            std::fs::rename(&partial, &target).map_err(|e| {
                let _ = std::fs::remove_file(&partial);
                Failure::other(format!("cannot move the file to {}: {e}", target.display()))
            })?;
            let check = if verified { "SHA-512 verified" } else { "no SHA-512 promised: not verified" };
            eprintln!("downloaded {} ({size} bytes, {check})", target.display());
        }
    }
    if json {
        output::print_json(&serde_json::json!({
            "path": written,
            "bytes": size,
            "sha512": actual,
            "verified": verified,
            "revoked": revoked,
        }));
    }
    if !verified {
        eprintln!("warning: the service sent no SHA-512 for {name}; the bytes were not verified");
    }
    Ok(())
}
