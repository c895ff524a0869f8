//! The web pages: server-rendered HTML over the same services and wire types as the JSON API.
//!
//! Templates are files in `templates/` (askama, checked at compile time, escaped by default),
//! all extending `base.html`. Pages parse the request, call `atr_core::services` (which decide
//! every rule: who may see and do what, which transition is allowed), convert what they get into
//! the `atr-api` types and render. A form is shown only for an action the services offer
//! ([`Services::release_offers`](atr_core::services::Services::release_offers)), and the use case
//! decides again when it is posted.
//!
//! Every page carries a content security policy without scripts, `frame-ancestors 'none'` and a
//! referrer policy ([`security`]); every form carries a token tied to the browser's session
//! ([`csrf`]); the one stylesheet is served under a content-hashed name ([`assets`]). Errors are
//! shown in words, never with storage text: a storage failure is logged and the page says only
//! that the request failed.
//!
//! Routes: `/` (project directory), `/projects/{project}` (its releases by stage),
//! `/projects/{project}/config` (its configuration, [`config`]; a KEYS import posted to
//! `/projects/{project}/config/keys`),
//! `/projects/{project}/releases/{version}` (a release; `?product=` for a sub-product) and the
//! forms posted under it, `/audit` and `/projects/{project}/audit` (event histories), `/search`
//! (what the header's search box finds: projects, releases, keys and CVEs, grouped by kind),
//! `/keys/{fingerprint}`, `/cves/{id}` and `/tasks/{id}` (the records a release refers to,
//! [`records`]), `/signin`, `/signout`, `/consent`, `/static/{asset}`; unknown paths are
//! a 404 page. A release folder by coordinates answers browsers with an HTML listing
//! ([`listing`], called from [`crate::download`]).

mod assets;
mod audit;
pub(crate) mod config;
mod csrf;
mod forms;
pub(crate) mod listing;
mod pages;
mod records;
mod search;
pub(crate) mod security;
mod view;

use askama::Template;
use askama_web::WebTemplate;
use atr_core::auth::{Principal, Secret};
use atr_core::model::ReleaseKey;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::{ApiError, AppState};

/// The page routes, with the pages' security headers and the pre-sign-in form cookie.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(pages::directory))
        .route("/audit", get(audit::foundation))
        .route("/projects/{project}", get(pages::project))
        .route("/projects/{project}/audit", get(audit::project))
        .route("/projects/{project}/config", get(config::config))
        .route(
            "/projects/{project}/config/keys",
            post(config::import).layer(axum::extract::DefaultBodyLimit::max(config::MAX_IMPORT_FORM_BYTES)),
        )
        .route("/projects/{project}/releases", post(forms::start_release))
        .route("/projects/{project}/releases/{version}", get(pages::release))
        .route("/projects/{project}/releases/{version}/upload", post(forms::upload))
        .route("/projects/{project}/releases/{version}/{action}", post(forms::release_action))
        .route("/keys/{fingerprint}", get(records::key))
        .route("/cves/{id}", get(records::cve))
        .route("/tasks/{id}", get(records::task))
        .route("/search", get(search::page))
        .route("/signin", get(pages::sign_in).post(forms::sign_in))
        .route("/signout", post(forms::sign_out))
        .route("/consent", get(pages::consent).post(forms::consent))
        .route("/static/{name}", get(assets::asset))
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf::ensure_cookie))
        .layer(axum::middleware::map_response(security::headers))
}

/// What the base template shows on every page.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) title: String,
    pub(crate) css: &'static str,
    /// The signed-in person's id, if any.
    pub(crate) user: Option<String>,
    /// Their foundation-wide roles, in words.
    pub(crate) global_roles: Vec<&'static str>,
    /// The token every form of the page carries.
    pub(crate) csrf: String,
    /// The path of the page, for the sign-in link to come back to.
    pub(crate) here: String,
    /// The text in the header's search box (what the search page searched for).
    pub(crate) search: String,
}

impl Layout {
    pub(crate) fn new(title: impl Into<String>, viewer: &Viewer, here: &str) -> Self {
        let (user, global_roles) = match &viewer.principal {
            Principal::Anonymous => (None, Vec::new()),
            Principal::Person(person) | Principal::Token { owner: person, .. } => {
                let mut roles = Vec::new();
                if person.admin {
                    roles.push("admin");
                }
                if person.asf_member {
                    roles.push("foundation member");
                }
                (Some(person.id.to_string()), roles)
            }
        };
        Self {
            title: title.into(),
            css: assets::CSS_URL.as_str(),
            user,
            global_roles,
            csrf: viewer.binding.as_deref().map(csrf::token).unwrap_or_default(),
            here: here.to_owned(),
            search: String::new(),
        }
    }

    /// The layout of a page shown without knowing the caller (errors outside a handler).
    fn bare(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            css: assets::CSS_URL.as_str(),
            user: None,
            global_roles: Vec::new(),
            csrf: String::new(),
            here: "/".to_owned(),
            search: String::new(),
        }
    }
}

/// Who is looking at a page: the session's person (or nobody), and the browser secret its forms
/// are tied to.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    pub(crate) principal: Principal,
    pub(crate) binding: Option<String>,
}

impl Viewer {
    /// Whether a posted form token is this browser's.
    pub(crate) fn verify(&self, posted: Option<&str>) -> bool {
        csrf::verify(self.binding.as_deref(), posted)
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let binding = csrf::binding(&parts.headers);
        // Pages are for browsers: they read the session cookie only. A stale session is nobody.
        let principal = match crate::auth::session_cookie(&parts.headers) {
            Some(secret) => state
                .services
                .session_principal(&Secret::new(secret), crate::auth::now())
                .await
                .map_err(|e| PageError::from(ApiError::from(e)))?,
            None => Principal::Anonymous,
        };
        Ok(Viewer { principal, binding })
    }
}

/// A page that could not be shown: a status and what went wrong, in words.
#[derive(Debug, Clone)]
pub(crate) struct PageError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl PageError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        // ApiError's messages never carry storage text: a storage failure is logged there and
        // worded generically.
        Self { status: error.status, message: error.message }
    }
}

impl From<atr_core::services::ServiceError> for PageError {
    fn from(error: atr_core::services::ServiceError) -> Self {
        ApiError::from(error).into()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let heading = match self.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::UNAUTHORIZED => "Sign in needed",
            s if s.is_server_error() => "Something went wrong",
            _ => "The request could not be done",
        };
        let page = ErrorPage { layout: Layout::bare(heading), heading: heading.to_owned(), message: self.message };
        (self.status, page).into_response()
    }
}

/// The 404 page.
pub(crate) fn not_found_page() -> Response {
    PageError::new(StatusCode::NOT_FOUND, "There is no page at this address.").into_response()
}

/// The answer for a path nothing serves: the API's JSON error under `/api`, else the 404 page.
pub(crate) async fn fallback(uri: Uri) -> Response {
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        return crate::error::no_route(&uri);
    }
    let mut response = not_found_page();
    security::page_headers(response.headers_mut());
    response
}

/// The query of a page, or why it cannot be read (in words).
pub(crate) fn query<T>(
    query: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, PageError> {
    query.map(|q| q.0).map_err(|e| PageError::bad_request(format!("The address could not be read: {}", e.body_text())))
}

/// The page of a release.
pub(crate) fn release_url(key: &ReleaseKey) -> String {
    let base = format!("/projects/{}/releases/{}", key.project, key.version);
    match &key.product {
        Some(product) => format!("{base}?product={product}"),
        None => base,
    }
}
