//! The forms: each checks its token, parses its fields, calls one use case of
//! `atr_core::services` and answers with a redirect to the page that shows the result (or that
//! page again with the refusal at its top, in words, having changed nothing).

use std::pin::Pin;
use std::task::{Context, Poll};

use atr_core::auth::{Principal, Secret};
use atr_core::model::{ReleaseKey, RevisionNumber, VoteOutcome, VoteValue};
use atr_core::ports::{ByteStream, FileChange, StoreError, StoreResult};
use atr_core::services::Parent;
use atr_core::types::ReleasePath;
use axum::body::Body;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use futures_core::Stream;
use serde::Deserialize;

use super::pages::{self, ProjectQuery, ReleaseQuery, SignInPage, local_path, release_key};
use super::{Layout, PageError, Viewer, release_url};
use crate::AppState;
use crate::auth::{clear_session_cookie, now, session_cookie, set_session_cookie};

/// The refusal of a form without this browser's token.
pub(crate) fn bad_token() -> PageError {
    PageError::new(
        StatusCode::FORBIDDEN,
        "The form was not accepted: it has expired or did not come from this site. Reload the page and try again.",
    )
}

fn unreadable(rejection: &FormRejection) -> PageError {
    PageError::bad_request(format!("The form could not be read: {}", rejection.body_text()))
}

fn path_of(uri: &Uri) -> String {
    uri.path().to_owned()
}

fn done(key: &ReleaseKey, code: &str) -> Response {
    let url = release_url(key);
    let sep = if url.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{url}{sep}done={code}")).into_response()
}

/// A release page showing `error`, or the error alone if the page itself cannot be shown.
async fn release_error(state: &AppState, viewer: &Viewer, key: &ReleaseKey, error: PageError) -> Response {
    let here = release_url(key);
    match pages::release_page(state, viewer, &here, key, None, Some(error.clone())).await {
        Ok(page) => page,
        Err(_) => error.into_response(),
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub(crate) struct StartRelease {
    csrf: Option<String>,
    version: Option<String>,
    product: Option<String>,
}

/// `POST /projects/{project}/releases`: starts a release as a draft.
pub(crate) async fn start_release(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(project): Path<String>,
    form: Result<Form<StartRelease>, FormRejection>,
) -> Response {
    let result = async {
        let Form(form) = form.map_err(|e| unreadable(&e))?;
        if !viewer.verify(form.csrf.as_deref()) {
            return Err(bad_token());
        }
        let version = form.version.unwrap_or_default();
        let version = atr_core::types::Version::parse(version.trim())
            .map_err(|e| PageError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("Version: {e}")))?;
        let project = atr_core::types::ProjectKey::parse(&project)
            .map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such project."))?;
        let product = match form.product.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(
                atr_core::types::ProductKey::parse(p)
                    .map_err(|e| PageError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("Product: {e}")))?,
            ),
            None => None,
        };
        let key = ReleaseKey::new(project, product, version);
        state.services.start_release(&viewer.principal, key.clone(), now()).await?;
        Ok::<_, PageError>(key)
    }
    .await;
    match result {
        Ok(key) => done(&key, "started"),
        Err(error) => {
            let query = ProjectQuery::default();
            match pages::project_page(&state, &viewer, &path_of(&uri), &project, &query, Some(error.message.clone()))
                .await
            {
                Ok((_, page)) => {
                    let mut page = page;
                    *page.status_mut() = error.status;
                    page
                }
                Err(_) => error.into_response(),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ActionForm {
    csrf: Option<String>,
    /// The revision the page showed (start vote).
    revision: Option<String>,
    /// A ballot's value (`+1`, `0`, `-1`, ...).
    value: Option<String>,
    comment: Option<String>,
    /// `passed`, `failed` or `cancelled`.
    outcome: Option<String>,
    /// The announce confirmation.
    confirm: Option<String>,
    /// Why a release is revoked.
    reason: Option<String>,
    /// The revision the page showed, which a file change builds on (delete, move).
    parent: Option<String>,
    /// The file to delete.
    path: Option<String>,
    /// The file to move, and where to.
    from: Option<String>,
    to: Option<String>,
}

fn invalid(message: impl Into<String>) -> PageError {
    PageError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// The revision a form builds on: the one the page showed (empty: none yet).
fn parent_of(text: &str) -> Result<Parent, PageError> {
    match text.trim() {
        "" => Ok(Parent::Exactly(None)),
        n => n
            .parse::<u32>()
            .ok()
            .and_then(RevisionNumber::new)
            .map(|n| Parent::Exactly(Some(n)))
            .ok_or_else(|| PageError::bad_request("The form names no valid revision to build on.")),
    }
}

/// A path of the release named by the field `label`, or why it is refused.
fn path_field(label: &str, value: Option<String>) -> Result<ReleasePath, PageError> {
    let text = value.unwrap_or_default();
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(format!("{label}: name a file of the release.")));
    }
    ReleasePath::parse(text).map_err(|e| invalid(format!("{label} {text:?}: {e}")))
}

/// `POST /projects/{project}/releases/{version}/{action}`: `start-vote`, `ballot`, `resolve`,
/// `announce`, `revoke`, or `delete` and `move` (a file, as a new revision).
pub(crate) async fn release_action(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((project, version, action)): Path<(String, String, String)>,
    query: Result<Query<ReleaseQuery>, QueryRejection>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let query = match super::query(query) {
        Ok(query) => query,
        Err(error) => return error.into_response(),
    };
    let key = match release_key(&project, &version, query.product.as_deref()) {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    if !matches!(action.as_str(), "start-vote" | "ballot" | "resolve" | "announce" | "revoke" | "delete" | "move") {
        return super::not_found_page();
    }
    let result = async {
        let Form(form) = form.map_err(|e| unreadable(&e))?;
        if !viewer.verify(form.csrf.as_deref()) {
            return Err(bad_token());
        }
        act(&state, &viewer.principal, &key, &action, form).await
    }
    .await;
    match result {
        Ok(code) => done(&key, code),
        Err(error) => release_error(&state, &viewer, &key, error).await,
    }
}

async fn act(
    state: &AppState,
    principal: &Principal,
    key: &ReleaseKey,
    action: &str,
    form: ActionForm,
) -> Result<&'static str, PageError> {
    let services = &state.services;
    let now = now();
    match action {
        "start-vote" => {
            let revision = form
                .revision
                .as_deref()
                .and_then(|r| r.trim().parse::<u32>().ok())
                .and_then(RevisionNumber::new)
                .ok_or_else(|| invalid("Revision: name the revision to vote on, such as 3."))?;
            services.start_vote(principal, key, revision, now).await?;
            Ok("vote-started")
        }
        "ballot" => {
            let text = form.value.unwrap_or_default();
            let value =
                VoteValue::parse(text.trim()).ok_or_else(|| invalid("Vote: choose one of +1, +0, 0, -0 or -1."))?;
            let comment = form.comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
            services.cast_ballot(principal, key, value, comment, now).await?;
            Ok("ballot")
        }
        "resolve" => {
            let outcome = match form.outcome.as_deref().map(str::trim) {
                Some("passed") => VoteOutcome::Passed,
                Some("failed") => VoteOutcome::Failed,
                Some("cancelled") => VoteOutcome::Cancelled,
                _ => return Err(invalid("Outcome: choose passed, failed or cancelled.")),
            };
            services.resolve_vote(principal, key, outcome, now).await?;
            Ok("resolved")
        }
        "announce" => {
            let confirmed = form.confirm.is_some();
            services.announce(principal, key, confirmed, now).await?;
            Ok("announced")
        }
        "revoke" => {
            let reason = form.reason.unwrap_or_default();
            services.revoke(principal, key, &reason, now).await?;
            Ok("revoked")
        }
        "delete" => {
            let parent = parent_of(form.parent.as_deref().unwrap_or_default())?;
            let path = path_field("File", form.path)?;
            services.add_revision(principal, key, parent, vec![FileChange::Delete { path }], None, now).await?;
            Ok("deleted")
        }
        "move" => {
            let parent = parent_of(form.parent.as_deref().unwrap_or_default())?;
            let from = path_field("File", form.from)?;
            let to = path_field("New path", form.to)?;
            services.add_revision(principal, key, parent, vec![FileChange::Move { from, to }], None, now).await?;
            Ok("moved")
        }
        _ => Err(PageError::new(StatusCode::NOT_FOUND, "There is no such action.")),
    }
}

// ---------------------------------------------------------------------------------------------
// Uploads: `multipart/form-data` with the fields `csrf`, `parent` and `file`, in that order;
// `file` may come several times (`<input type=file multiple>`), all into one revision.

/// Most bytes of the form's small fields.
const SMALL_FIELD: u64 = 256;
/// Most files one upload form may send.
pub(crate) const MAX_FORM_FILES: usize = 100;

/// A file field as the byte stream the release files port takes.
struct FieldStream(multer::Field<'static>);

impl Stream for FieldStream {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match Pin::new(&mut self.0).poll_next(cx) {
            Poll::Ready(Some(Err(
                multer::Error::StreamSizeExceeded { limit } | multer::Error::FieldSizeExceeded { limit, .. },
            ))) => {
                let error = format!("the upload is larger than {limit} bytes");
                Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, error))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(std::io::Error::other(e.to_string())))),
            Poll::Ready(Some(Ok(chunk))) => Poll::Ready(Some(Ok(chunk))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A file of the form with the path it gets in the release: the last segment of the name the
/// browser sent.
fn named_file(field: multer::Field<'static>) -> Result<(ReleasePath, ByteStream), PageError> {
    let name = field.file_name().unwrap_or_default().rsplit(['/', '\\']).next().unwrap_or_default().to_owned();
    if name.is_empty() {
        return Err(invalid("File: choose a file to upload."));
    }
    let path = ReleasePath::parse(&name).map_err(|e| invalid(format!("File name {name:?}: {e}")))?;
    Ok((path, Box::pin(FieldStream(field))))
}

type NextFile = (multer::Multipart<'static>, usize, Option<StoreResult<(ReleasePath, ByteStream)>>);

/// The next file field of the form after `seen` files, as the files port reads it.
async fn next_file(mut form: multer::Multipart<'static>, seen: usize) -> NextFile {
    let item = match form.next_field().await {
        Ok(None) => None,
        Ok(Some(_)) if seen >= MAX_FORM_FILES => {
            Some(Err(StoreError::Refused(format!("an upload form may send at most {MAX_FORM_FILES} files"))))
        }
        Ok(Some(field)) if field.name() == Some("file") => {
            Some(named_file(field).map_err(|e| StoreError::Refused(e.message)))
        }
        Ok(Some(_)) => Some(Err(StoreError::Refused("the upload form may send only files after its first".into()))),
        Err(multer::Error::StreamSizeExceeded { limit } | multer::Error::FieldSizeExceeded { limit, .. }) => {
            Some(Err(StoreError::TooLarge(format!("the upload is larger than {limit} bytes"))))
        }
        Err(e) => Some(Err(StoreError::Refused(format!("the upload form could not be read: {e}")))),
    };
    (form, seen + 1, item)
}

/// The files of the form after its first, one after the other: the next field is read only once
/// the files port has streamed in the one before.
struct FormFiles {
    form: Option<(multer::Multipart<'static>, usize)>,
    reading: Option<Pin<Box<dyn Future<Output = NextFile> + Send>>>,
}

impl Stream for FormFiles {
    type Item = StoreResult<(ReleasePath, ByteStream)>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.reading.is_none() {
            let Some((form, seen)) = self.form.take() else { return Poll::Ready(None) };
            self.reading = Some(Box::pin(next_file(form, seen)));
        }
        let Some(reading) = self.reading.as_mut() else { return Poll::Ready(None) };
        let polled = reading.as_mut().poll(cx);
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready((form, seen, item)) => {
                self.reading = None;
                // After the end or an error, nothing more is read.
                if matches!(item, Some(Ok(_))) {
                    self.form = Some((form, seen));
                }
                Poll::Ready(item)
            }
        }
    }
}

fn form_error(error: &multer::Error) -> PageError {
    match error {
        multer::Error::StreamSizeExceeded { limit } | multer::Error::FieldSizeExceeded { limit, .. } => {
            PageError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("The upload is larger than {limit} bytes."))
        }
        other => PageError::bad_request(format!("The upload form could not be read: {other}")),
    }
}

/// The next field of the form, which must be `name`.
async fn expect_field(form: &mut multer::Multipart<'static>, name: &str) -> Result<multer::Field<'static>, PageError> {
    match form.next_field().await.map_err(|e| form_error(&e))? {
        Some(field) if field.name() == Some(name) => Ok(field),
        _ => Err(PageError::bad_request(format!(
            "The upload form must send its fields csrf, parent and file in that order; {name} was expected."
        ))),
    }
}

/// `POST /projects/{project}/releases/{version}/upload`: one file or several, streamed into one
/// new revision of the draft (or preview) on top of the revision the page showed.
pub(crate) async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((project, version)): Path<(String, String)>,
    query: Result<Query<ReleaseQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let query = match super::query(query) {
        Ok(query) => query,
        Err(error) => return error.into_response(),
    };
    let key = match release_key(&project, &version, query.product.as_deref()) {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    match upload_files(&state, &viewer, &key, &headers, body).await {
        Ok(()) => done(&key, "uploaded"),
        Err(error) => release_error(&state, &viewer, &key, error).await,
    }
}

async fn upload_files(
    state: &AppState,
    viewer: &Viewer,
    key: &ReleaseKey,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), PageError> {
    let limit = state.config.max_upload_bytes;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| PageError::bad_request("The upload must be sent as multipart/form-data."))?;
    // The limit is on the whole upload, however many files it holds.
    let constraints = multer::Constraints::new().allowed_fields(vec!["csrf", "parent", "file"]).size_limit(
        multer::SizeLimit::new()
            .whole_stream(limit.saturating_add(64 * 1024))
            .per_field(limit)
            .for_field("csrf", SMALL_FIELD)
            .for_field("parent", SMALL_FIELD),
    );
    let mut form = multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let token = expect_field(&mut form, "csrf").await?.text().await.map_err(|e| form_error(&e))?;
    if !viewer.verify(Some(token.trim())) {
        return Err(bad_token());
    }
    let parent = expect_field(&mut form, "parent").await?.text().await.map_err(|e| form_error(&e))?;
    let parent = parent_of(&parent)?;
    let (path, content) = named_file(expect_field(&mut form, "file").await?)?;
    let rest = FormFiles { form: Some((form, 1)), reading: None };
    let changes = vec![FileChange::Put { path, content }, FileChange::PutEach { files: Box::pin(rest) }];
    state.services.add_revision(&viewer.principal, key, parent, changes, None, now()).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Signing in and out, consent.

#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    csrf: Option<String>,
    user: Option<String>,
    password: Option<String>,
    next: Option<String>,
}

/// `POST /signin`: signs in with a local account and goes back to the page it came from.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    let Form(form) = match form {
        Ok(form) => form,
        Err(rejection) => return unreadable(&rejection).into_response(),
    };
    let next = local_path(form.next.as_deref());
    let user = form.user.unwrap_or_default();
    let refuse = |status: StatusCode, message: String| {
        let page = SignInPage {
            layout: Layout::new("Sign in", &viewer, "/signin"),
            next: next.clone(),
            user: user.clone(),
            error: Some(message),
        };
        (status, page).into_response()
    };
    if !viewer.verify(form.csrf.as_deref()) {
        return refuse(StatusCode::FORBIDDEN, bad_token().message);
    }
    let ttl = state.config.session_ttl.as_secs();
    let password = Secret::new(form.password.unwrap_or_default());
    match state.services.sign_in(user.trim(), &password, ttl, now()).await {
        Ok(signed) => {
            tracing::info!(user = %signed.person.id, "signed in on a page");
            let cookie = set_session_cookie(signed.secret.expose(), ttl, state.config.secure_cookies);
            ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
        }
        Err(error) => {
            let error = PageError::from(error);
            refuse(error.status, error.message)
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenOnly {
    csrf: Option<String>,
}

/// `POST /signout`: ends the session and forgets its cookie.
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    form: Result<Form<TokenOnly>, FormRejection>,
) -> Response {
    let Form(form) = match form {
        Ok(form) => form,
        Err(rejection) => return unreadable(&rejection).into_response(),
    };
    if !viewer.verify(form.csrf.as_deref()) {
        return bad_token().into_response();
    }
    if let Some(secret) = session_cookie(&headers)
        && let Err(error) = state.services.sign_out(&Secret::new(secret)).await
    {
        return PageError::from(error).into_response();
    }
    let cookie = clear_session_cookie(state.config.secure_cookies);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct ConsentForm {
    csrf: Option<String>,
    /// `give` or `withdraw`.
    action: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

/// `POST /consent`: gives or withdraws consent.
pub(crate) async fn consent(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<ConsentForm>, FormRejection>,
) -> Response {
    let result = async {
        let Form(form) = form.map_err(|e| unreadable(&e))?;
        if !viewer.verify(form.csrf.as_deref()) {
            return Err(bad_token());
        }
        let now = now();
        match form.action.as_deref() {
            Some("give") => {
                let (name, email) = (form.name.unwrap_or_default(), form.email.unwrap_or_default());
                state.services.give_consent(&viewer.principal, &name, &email, now).await?;
            }
            Some("withdraw") => state.services.revoke_consent(&viewer.principal, now).await?,
            _ => return Err(PageError::bad_request("The form names no consent action.")),
        }
        Ok::<_, PageError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/consent").into_response(),
        Err(error) => match pages::consent_page(&viewer, "/consent", None, Some(error.clone())) {
            Ok(page) => page,
            Err(_) => error.into_response(),
        },
    }
}
