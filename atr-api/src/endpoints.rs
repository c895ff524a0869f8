//! The catalogue of the API: one type per operation, implementing [`Operation`], whose
//! [`Endpoint`] says its method, path template, query, request and response bodies, success
//! statuses and the error statuses it can answer. [`ENDPOINTS`] lists every operation; the
//! `OpenAPI` document is generated from it and the router registers its routes from it.

use std::fmt::Write as _;

use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, Ref, RefOr};
use utoipa::{IntoParams, ToSchema};

use crate::admin::{AccountCreated, AuditReport, CommitteeAnswer, CommitteeImport, CommitteeImportReport, NewAccount};
use crate::auth::{Consent, CreatedToken, GiveConsent, Me, NewToken, Session, SignIn, TokenList};
use crate::committees::{Committee, PageQuery};
use crate::cves::{CveFields, CveRecord, NewCveLink, ReleaseCvesQuery};
use crate::downloads::FolderListing;
use crate::error::ErrorBody;
use crate::events::{Event, EventsQuery};
use crate::ignores::{CheckIgnore, NewIgnore};
use crate::keys::{KeyImportReport, SigningKey};
use crate::ops::{Health, Readiness};
use crate::projects::{MetadataUpdate, NewProduct, PolicyOverrides, Product, ProductUpdate, Project, ProjectDetails};
use crate::releases::{
    Analyze, Announce, CheckResult, MoveFile, NewRelease, NewRevision, ProductQuery, Release, ReleaseDetails,
    ReleaseKey, ReleasesQuery, Revision, Revoke, SbomListing, SourceOrigin, SourceSet, StartVote,
};
use crate::search::{SearchHit, SearchQuery};
use crate::tasks::{QueueStatus, Task, TasksQuery};
use crate::votes::{Ballot, CastBallot, ResolveVote, Tally};

/// Named schemas gathered while describing bodies: `(name, schema)`, for the document's
/// `components`.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// A body's media types, each with its schema.
pub type Contents = Vec<(&'static str, RefOr<Schema>)>;

/// An HTTP method of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// Who may call an operation, as far as signing in goes (permissions are the operation's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; a credential is not read.
    Public,
    /// Anyone; a credential sent is checked (a bad token is a 401) and may show more.
    Caller,
    /// A session or a token.
    SignedIn,
    /// A session only: tokens may not do this.
    Session,
    /// A session of an admin.
    Admin,
}

/// A header an operation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub name: &'static str,
    pub description: &'static str,
}

/// `If-Match` on the changes of a draft's files.
pub const IF_MATCH: Header = Header {
    name: "If-Match",
    description: "The revision expected to be the latest (`\"00003\"` or `3`, `none` for a release without files); \
                  another one answers 409. Absent: the latest, whatever it is.",
};

/// One operation of the API.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// The `operationId`, such as `start_release`.
    pub id: &'static str,
    pub method: Method,
    /// The path template, `OpenAPI` style: `/api/projects/{project}/releases`. A last parameter
    /// named `path` takes the rest of the path, slashes included.
    pub path: &'static str,
    /// The first line is the summary, the rest the description.
    pub doc: &'static str,
    /// The group of operations it belongs to.
    pub tag: &'static str,
    pub access: Access,
    /// The query parameters.
    pub query: fn() -> Vec<Parameter>,
    /// The headers it reads besides the credential.
    pub headers: &'static [Header],
    /// The request body (none when empty).
    pub request: fn(&mut Schemas) -> Contents,
    /// The body of a success (none when empty).
    pub response: fn(&mut Schemas) -> Contents,
    /// The statuses of a success, the usual one first.
    pub success: &'static [u16],
    /// The error statuses it can answer besides 500, each with [`ErrorBody`].
    pub errors: &'static [u16],
}

impl Endpoint {
    /// The names of the path's parameters, in order.
    pub fn path_params(&self) -> impl Iterator<Item = &'static str> {
        self.path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
    }

    /// The route as axum writes it: the last parameter `{path}` becomes the catch-all `{*path}`.
    pub fn route(&self) -> String {
        match self.path.strip_suffix("/{path}") {
            Some(head) => format!("{head}/{{*path}}"),
            None => self.path.to_owned(),
        }
    }

    /// The path with its parameters filled in, each percent-encoded (a `path` parameter segment
    /// by segment, keeping its slashes). A parameter not given is left as it is.
    pub fn fill(&self, params: &[(&str, &str)]) -> String {
        let mut out = String::with_capacity(self.path.len());
        for (i, part) in self.path.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            let value = part
                .strip_prefix('{')
                .and_then(|p| p.strip_suffix('}'))
                .and_then(|name| params.iter().find(|(n, _)| *n == name).map(|(n, v)| (*n, *v)));
            match value {
                Some(("path", value)) => {
                    out.push_str(&value.split('/').map(segment).collect::<Vec<_>>().join("/"));
                }
                Some((_, value)) => out.push_str(&segment(value)),
                None => out.push_str(part),
            }
        }
        out
    }

    /// The summary: the first line of the documentation.
    pub fn summary(&self) -> &'static str {
        self.doc.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("")
    }

    /// The description: the documentation after its first line, if any.
    pub fn description(&self) -> Option<String> {
        let mut lines = self.doc.lines().map(str::trim).skip_while(|l| l.is_empty());
        lines.next()?;
        let rest = lines.collect::<Vec<_>>().join("\n");
        let rest = rest.trim();
        (!rest.is_empty()).then(|| rest.to_owned())
    }
}

/// Percent-encodes one path segment (unreserved characters and `+` stay).
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'+') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// An operation: its endpoint and the types of its query, request and response.
pub trait Operation {
    /// The query parameters (`NoQuery` when there are none).
    type Query;
    /// The request body (`()` when there is none).
    type Request;
    /// The body of a success (`()` when there is none).
    type Response;
    const ENDPOINT: Endpoint;
}

/// A body on the wire, request or response: its media types and schemas.
pub trait Body {
    /// The media types and schemas, registering the named schemas they refer to.
    fn content(schemas: &mut Schemas) -> Contents;
}

/// No body.
impl Body for () {
    fn content(_: &mut Schemas) -> Contents {
        Vec::new()
    }
}

/// Registers `T` and the schemas it refers to; answers a reference to it.
pub fn named<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    let name = T::name().into_owned();
    if !schemas.iter().any(|(n, _)| *n == name) {
        schemas.push((name.clone(), T::schema()));
        T::schemas(schemas);
    }
    Ref::from_schema_name(name).into()
}

macro_rules! json_bodies {
    ($($ty:ty),* $(,)?) => {
        $(
            impl Body for $ty {
                fn content(schemas: &mut Schemas) -> Contents {
                    vec![("application/json", named::<$ty>(schemas))]
                }
            }
            impl Body for Vec<$ty> {
                fn content(schemas: &mut Schemas) -> Contents {
                    vec![("application/json", ArrayBuilder::new().items(named::<$ty>(schemas)).into())]
                }
            }
        )*
    };
}

json_bodies!(
    AccountCreated,
    Analyze,
    Announce,
    AuditReport,
    Ballot,
    CastBallot,
    CheckIgnore,
    CheckResult,
    Committee,
    CommitteeAnswer,
    CommitteeImport,
    CommitteeImportReport,
    Consent,
    CreatedToken,
    CveFields,
    CveRecord,
    ErrorBody,
    Event,
    GiveConsent,
    Health,
    KeyImportReport,
    Me,
    MetadataUpdate,
    MoveFile,
    NewAccount,
    NewCveLink,
    NewIgnore,
    NewProduct,
    NewRelease,
    NewRevision,
    SourceOrigin,
    SourceSet,
    NewToken,
    PolicyOverrides,
    Product,
    ProductUpdate,
    Project,
    ProjectDetails,
    QueueStatus,
    Readiness,
    Release,
    ReleaseDetails,
    ReleaseKey,
    ResolveVote,
    Revision,
    Revoke,
    SbomListing,
    SearchHit,
    Session,
    SignIn,
    SigningKey,
    StartVote,
    Tally,
    Task,
    TokenList,
    crate::admin::CommitteePeople,
    crate::admin::PersonRole,
    crate::admin::RoleChanged,
);

// Where a revision's checks stand (with the task runners' presence).
json_bodies!(crate::tasks::ChecksStatus);

fn binary() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))).into()
}

fn string() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).into()
}

/// A file's bytes, streamed as the request body.
#[derive(Debug, Clone, Copy)]
pub struct RawFile;

impl Body for RawFile {
    fn content(_: &mut Schemas) -> Contents {
        vec![("application/octet-stream", binary())]
    }
}

/// OpenPGP public keys, ASCII-armored: one key, or a whole KEYS file.
#[derive(Debug, Clone, Copy)]
pub struct PgpKeys;

impl Body for PgpKeys {
    fn content(_: &mut Schemas) -> Contents {
        vec![("application/pgp-keys", string()), ("text/plain", string())]
    }
}

/// A committee's KEYS file: comments and armored keys.
#[derive(Debug, Clone, Copy)]
pub struct KeysFile;

impl Body for KeysFile {
    fn content(_: &mut Schemas) -> Contents {
        vec![("text/plain", string())]
    }
}

/// A download: a file's bytes (typed by its name), or a folder's listing for a path ending in `/`.
#[derive(Debug, Clone, Copy)]
pub struct FileOrListing;

impl Body for FileOrListing {
    fn content(schemas: &mut Schemas) -> Contents {
        vec![("application/octet-stream", binary()), ("application/json", named::<FolderListing>(schemas))]
    }
}

/// Metrics in the `OpenMetrics` text format, which Prometheus reads.
#[derive(Debug, Clone, Copy)]
pub struct MetricsText;

impl Body for MetricsText {
    fn content(_: &mut Schemas) -> Contents {
        vec![("application/openmetrics-text", string())]
    }
}

/// This document.
#[derive(Debug, Clone, Copy)]
pub struct OpenApiDocument;

impl Body for OpenApiDocument {
    fn content(_: &mut Schemas) -> Contents {
        vec![("application/json", ObjectBuilder::new().schema_type(Type::Object).into())]
    }
}

/// No query parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoQuery;

impl IntoParams for NoQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        Vec::new()
    }
}

/// The query parameters of `Q`.
pub fn query_params<Q: IntoParams>() -> Vec<Parameter> {
    Q::into_params(|| Some(ParameterIn::Query))
}

macro_rules! operations {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident = $id:literal: $method:ident $path:literal {
            tag: $tag:literal,
            access: $access:ident,
            query: $query:ty,
            request: $request:ty,
            response: $response:ty,
            success: [$($ok:literal),*],
            errors: [$($err:literal),*]
            $(, headers: [$($header:expr),*])?
            $(,)?
        }
    )*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl Operation for $name {
                type Query = $query;
                type Request = $request;
                type Response = $response;
                const ENDPOINT: Endpoint = Endpoint {
                    id: $id,
                    method: Method::$method,
                    path: $path,
                    doc: concat!($($doc, "\n"),*),
                    tag: $tag,
                    access: Access::$access,
                    query: query_params::<$query>,
                    headers: &[$($($header),*)?],
                    request: <$request as Body>::content,
                    response: <$response as Body>::content,
                    success: &[$($ok),*],
                    errors: &[$($err),*],
                };
            }
        )*

        /// Every operation of the API.
        pub const ENDPOINTS: &[Endpoint] = &[$(<$name as Operation>::ENDPOINT),*];
    };
}

operations! {
    /// The API's description: this `OpenAPI` 3.1 document.
    Document = "openapi": Get "/api/openapi.json" {
        tag: "meta", access: Public, query: NoQuery, request: (), response: OpenApiDocument,
        success: [200], errors: [],
    }

    /// Sign in with a local account.
    /// Sets the `atr_session` cookie. A refusal never says whether the user exists. After too
    /// many refusals for an account or from an address, attempts get 429 with `Retry-After`.
    SignInWithPassword = "sign_in": Post "/api/session" {
        tag: "auth", access: Public, query: NoQuery, request: SignIn, response: Session,
        success: [200], errors: [400, 401, 415, 422, 429],
    }
    /// Sign out: ends the session of the cookie, if any, and clears the cookie.
    SignOut = "sign_out": Delete "/api/session" {
        tag: "auth", access: Public, query: NoQuery, request: (), response: (),
        success: [204], errors: [],
    }
    /// Who is calling: the person, and whether by session or token.
    WhoAmI = "me": Get "/api/me" {
        tag: "auth", access: SignedIn, query: NoQuery, request: (), response: Me,
        success: [200], errors: [401],
    }
    /// Create a personal access token, shown once.
    /// Needs a session: tokens cannot create tokens.
    CreateToken = "create_token": Post "/api/tokens" {
        tag: "auth", access: Session, query: NoQuery, request: NewToken, response: CreatedToken,
        success: [201], errors: [400, 401, 403, 415, 422],
    }
    /// The caller's tokens, without their secrets.
    ListTokens = "list_tokens": Get "/api/tokens" {
        tag: "auth", access: SignedIn, query: NoQuery, request: (), response: TokenList,
        success: [200], errors: [401],
    }
    /// Revoke one of the caller's tokens; a token may revoke itself.
    RevokeToken = "revoke_token": Delete "/api/tokens/{id}" {
        tag: "auth", access: SignedIn, query: NoQuery, request: (), response: (),
        success: [204], errors: [401, 404],
    }
    /// Give consent to keep a name and email, to vote as a visitor.
    GiveVisitorConsent = "give_consent": Put "/api/me/consent" {
        tag: "auth", access: SignedIn, query: NoQuery, request: GiveConsent, response: Consent,
        success: [200], errors: [400, 401, 403, 415, 422],
    }
    /// Revoke consent: the name and email are erased; ballots stay as anonymous tally entries.
    RevokeVisitorConsent = "revoke_consent": Delete "/api/me/consent" {
        tag: "auth", access: SignedIn, query: NoQuery, request: (), response: (),
        success: [204], errors: [401, 403, 404],
    }

    /// Create a local account (admins).
    CreateAccount = "create_account": Post "/api/admin/accounts" {
        tag: "admin", access: Admin, query: NoQuery, request: NewAccount, response: AccountCreated,
        success: [201], errors: [400, 401, 403, 409, 415, 422],
    }
    /// Create or replace committees and their people from a document (admins).
    ImportCommittees = "import_committees": Post "/api/admin/committees/import" {
        tag: "admin", access: Admin, query: NoQuery, request: CommitteeImport, response: CommitteeImportReport,
        success: [200], errors: [400, 401, 403, 415, 422],
    }
    /// Create a committee or replace its people (admins).
    PutCommittee = "put_committee": Put "/api/admin/committees/{key}" {
        tag: "admin", access: Admin, query: NoQuery, request: crate::admin::CommitteePeople,
        response: CommitteeAnswer, success: [200], errors: [400, 401, 403, 415, 422],
    }
    /// Add or remove one person's role in a committee, atomically (admins).
    /// `changed` says whether the committee's people changed.
    ChangeCommitteeRole = "change_committee_role": Post "/api/admin/committees/{key}/people" {
        tag: "admin", access: Admin, query: NoQuery, request: crate::admin::PersonRole,
        response: crate::admin::RoleChanged, success: [200], errors: [400, 401, 403, 404, 415, 422],
    }
    /// Recompute the audit log's hash chain and say where it breaks (admins).
    /// Answers 200 either way.
    VerifyAudit = "verify_audit": Get "/api/admin/audit/verify" {
        tag: "admin", access: Admin, query: NoQuery, request: (), response: AuditReport,
        success: [200], errors: [401, 403],
    }

    /// List committees, by key.
    ListCommittees = "list_committees": Get "/api/committees" {
        tag: "committees", access: Public, query: PageQuery, request: (), response: Vec<Committee>,
        success: [200], errors: [400],
    }
    /// One committee with its people.
    GetCommittee = "get_committee": Get "/api/committees/{key}" {
        tag: "committees", access: Public, query: NoQuery, request: (), response: Committee,
        success: [200], errors: [400, 404],
    }

    /// List projects, by key.
    ListProjects = "list_projects": Get "/api/projects" {
        tag: "projects", access: Public, query: PageQuery, request: (), response: Vec<Project>,
        success: [200], errors: [400],
    }
    /// Create a project (admins).
    /// 404 when its committee is not known.
    CreateProject = "create_project": Post "/api/projects" {
        tag: "projects", access: SignedIn, query: NoQuery, request: Project, response: Project,
        success: [201], errors: [400, 401, 403, 404, 409, 415, 422],
    }
    /// One project with its products and effective vote policy.
    GetProject = "get_project": Get "/api/projects/{project}" {
        tag: "projects", access: Public, query: NoQuery, request: (), response: ProjectDetails,
        success: [200], errors: [400, 404],
    }
    /// Replace the project's vote policy settings.
    /// Fields left out inherit the foundation default.
    SetProjectPolicy = "set_project_policy": Put "/api/projects/{project}/policy" {
        tag: "projects", access: SignedIn, query: NoQuery, request: PolicyOverrides, response: Project,
        success: [200], errors: [400, 401, 403, 404, 409, 415, 422],
    }
    /// Replace the project's descriptive metadata.
    SetProjectMetadata = "set_project_metadata": Put "/api/projects/{project}/metadata" {
        tag: "projects", access: SignedIn, query: NoQuery, request: MetadataUpdate, response: Project,
        success: [200], errors: [400, 401, 403, 404, 409, 415, 422],
    }
    /// Add a product to the project.
    /// 409 if the project has it already.
    AddProduct = "add_product": Post "/api/projects/{project}/products" {
        tag: "projects", access: SignedIn, query: NoQuery, request: NewProduct, response: Product,
        success: [201], errors: [400, 401, 403, 404, 409, 415, 422],
    }
    /// Change a product's metadata, its policy overrides, or both.
    UpdateProduct = "update_product": Put "/api/projects/{project}/products/{product}" {
        tag: "projects", access: SignedIn, query: NoQuery, request: ProductUpdate, response: Product,
        success: [200], errors: [400, 401, 403, 404, 409, 415, 422],
    }
    /// The project's check ignores, oldest first.
    ListIgnores = "list_ignores": Get "/api/projects/{project}/ignores" {
        tag: "projects", access: Public, query: NoQuery, request: (), response: Vec<CheckIgnore>,
        success: [200], errors: [400, 404],
    }
    /// Add a check ignore: results matching it stop counting against a vote.
    /// Needs `manage_policy`. 409 if an ignore with the same selectors exists (it names its id).
    AddIgnore = "add_ignore": Post "/api/projects/{project}/ignores" {
        tag: "projects", access: SignedIn, query: NoQuery, request: NewIgnore, response: CheckIgnore,
        success: [201], errors: [400, 401, 403, 404, 409, 415, 422],
    }
    /// Delete a check ignore; the answer is the ignore deleted. Needs `manage_policy`.
    DeleteIgnore = "delete_ignore": Delete "/api/projects/{project}/ignores/{id}" {
        tag: "projects", access: SignedIn, query: NoQuery, request: (), response: CheckIgnore,
        success: [200], errors: [400, 401, 403, 404],
    }

    /// Releases of a project by stage, newest version first.
    ListReleases = "list_releases": Get "/api/projects/{project}/releases" {
        tag: "releases", access: Public, query: ReleasesQuery, request: (), response: Vec<Release>,
        success: [200], errors: [400, 404],
    }
    /// Start a release: an empty draft.
    StartRelease = "start_release": Post "/api/projects/{project}/releases" {
        tag: "releases", access: SignedIn, query: NoQuery, request: NewRelease, response: Release,
        success: [201], errors: [400, 401, 403, 404, 409, 415, 422],
    }
    /// One release: its state, the packages of its latest revision, and the tally of its vote.
    GetRelease = "get_release": Get "/api/projects/{project}/releases/{version}" {
        tag: "releases", access: Public, query: ProductQuery, request: (), response: ReleaseDetails,
        success: [200], errors: [400, 404],
    }
    /// Revoke a release: a stage, never a removal.
    RevokeRelease = "revoke_release": Delete "/api/projects/{project}/releases/{version}" {
        tag: "releases", access: SignedIn, query: ProductQuery, request: Revoke, response: Release,
        success: [200], errors: [400, 401, 403, 404, 409, 415, 422],
    }
    /// Delete a draft with its revisions, their files and check results, so that its version
    /// can be started again; its history stays in the event log. Only a draft: a release that
    /// reached a vote is revoked instead. The answer is the draft as it was.
    DeleteDraft = "delete_draft": Delete "/api/projects/{project}/releases/{version}/draft" {
        tag: "releases", access: SignedIn, query: ProductQuery, request: (), response: Release,
        success: [200], errors: [400, 401, 403, 404, 409],
    }
    /// Set the git repository and commit the release's source archive was made from, while its
    /// files may change; the checks of its latest revision run again and compare the archive with
    /// that commit. Needs `manage_release`.
    SetSource = "set_source": Put "/api/projects/{project}/releases/{version}/source" {
        tag: "releases", access: SignedIn, query: ProductQuery, request: SourceOrigin, response: SourceSet,
        success: [200], errors: [400, 401, 403, 404, 409, 415, 422],
    }
    /// Clear the release's source repository and commit; the checks run again without the comparison.
    ClearSource = "clear_source": Delete "/api/projects/{project}/releases/{version}/source" {
        tag: "releases", access: SignedIn, query: ProductQuery, request: (), response: SourceSet,
        success: [200], errors: [400, 401, 403, 404, 409],
    }
    /// Upload a file as a new revision of the draft.
    /// The raw body is streamed, up to the service's upload limit.
    PutFile = "put_file": Put "/api/projects/{project}/releases/{version}/files/{path}" {
        tag: "releases", access: SignedIn, query: ProductQuery, request: RawFile, response: NewRevision,
        success: [201], errors: [400, 401, 403, 404, 409, 413, 422, 429], headers: [IF_MATCH],
    }
    /// Delete a file: a new revision.
    DeleteFile = "delete_file": Delete "/api/projects/{project}/releases/{version}/files/{path}" {
        tag: "releases", access: SignedIn, query: ProductQuery, request: (), response: NewRevision,
        success: [200], errors: [400, 401, 403, 404, 409, 422], headers: [IF_MATCH],
    }
    /// Move or rename a file or folder: a new revision.
    MoveReleaseFile = "move_file": Post "/api/projects/{project}/releases/{version}/moves" {
        tag: "releases", access: SignedIn, query: ProductQuery, request: MoveFile, response: NewRevision,
        success: [201], errors: [400, 401, 403, 404, 409, 415, 422], headers: [IF_MATCH],
    }
    /// The SBOM files of the latest revision with their validation results.
    ListSboms = "list_sboms": Get "/api/projects/{project}/releases/{version}/sboms" {
        tag: "releases", access: Public, query: ProductQuery, request: (), response: SbomListing,
        success: [200], errors: [400, 404],
    }
    /// Revisions of a release.
    ListRevisions = "list_revisions": Get "/api/projects/{project}/releases/{version}/revisions" {
        tag: "releases", access: Public, query: ProductQuery, request: (), response: Vec<Revision>,
        success: [200], errors: [400, 404],
    }
    /// A revision and its file manifest.
    GetRevision = "get_revision": Get "/api/projects/{project}/releases/{version}/revisions/{number}" {
        tag: "releases", access: Public, query: ProductQuery, request: (), response: Revision,
        success: [200], errors: [400, 404],
    }
    /// Check results of a revision.
    ListChecks = "list_checks": Get "/api/projects/{project}/releases/{version}/revisions/{number}/checks" {
        tag: "releases", access: Public, query: ProductQuery, request: (), response: Vec<CheckResult>,
        success: [200], errors: [400, 404],
    }
    /// Queue the checks of a revision.
    /// The same revision already queued or running answers that task.
    AnalyzeRevision = "analyze_revision": Post "/api/projects/{project}/releases/{version}/analyze" {
        tag: "releases", access: SignedIn, query: ProductQuery, request: Analyze, response: Task,
        success: [201], errors: [400, 401, 403, 404, 409, 415, 422],
    }

    /// Start the vote on a revision.
    StartReleaseVote = "start_vote": Post "/api/projects/{project}/releases/{version}/vote" {
        tag: "votes", access: SignedIn, query: ProductQuery, request: StartVote, response: Release,
        success: [200], errors: [400, 401, 403, 404, 409, 415, 422],
    }
    /// Cast or change the caller's ballot.
    /// Tokens cannot vote.
    CastReleaseBallot = "cast_ballot": Post "/api/projects/{project}/releases/{version}/ballots" {
        tag: "votes", access: SignedIn, query: ProductQuery, request: CastBallot, response: Ballot,
        success: [201], errors: [400, 401, 403, 404, 409, 415, 422],
    }
    /// The tally of the vote's current round.
    GetTally = "get_tally": Get "/api/projects/{project}/releases/{version}/tally" {
        tag: "votes", access: Public, query: ProductQuery, request: (), response: Tally,
        success: [200], errors: [400, 404, 409],
    }
    /// Resolve the vote.
    ResolveReleaseVote = "resolve_vote": Post "/api/projects/{project}/releases/{version}/resolve" {
        tag: "votes", access: SignedIn, query: ProductQuery, request: ResolveVote, response: Release,
        success: [200], errors: [400, 401, 403, 404, 409, 415, 422],
    }
    /// Announce a release in preview: it becomes current.
    AnnounceRelease = "announce": Post "/api/projects/{project}/releases/{version}/announce" {
        tag: "votes", access: SignedIn, query: ProductQuery, request: Announce, response: Release,
        success: [200], errors: [400, 401, 403, 404, 409, 415, 422],
    }

    /// Audit events, newest first.
    /// A release's or a project's for everyone; the whole log for ASF members and admins.
    ListEvents = "list_events": Get "/api/events" {
        tag: "events", access: Caller, query: EventsQuery, request: (), response: Vec<Event>,
        success: [200], errors: [400, 401, 403, 404],
    }

    /// One signing key, with its armored form.
    GetKey = "get_key": Get "/api/keys/{fingerprint}" {
        tag: "keys", access: Public, query: NoQuery, request: (), response: SigningKey,
        success: [200], errors: [400, 404],
    }
    /// Delete a key no release used.
    /// 409 names the releases that used it.
    DeleteKey = "delete_key": Delete "/api/keys/{fingerprint}" {
        tag: "keys", access: SignedIn, query: NoQuery, request: (), response: (),
        success: [204], errors: [400, 401, 403, 404, 409],
    }
    /// Releases the key signed.
    ReleasesSigned = "releases_signed": Get "/api/keys/{fingerprint}/releases" {
        tag: "keys", access: Public, query: NoQuery, request: (), response: Vec<ReleaseKey>,
        success: [200], errors: [400, 404],
    }
    /// Signing keys linked to a committee, by fingerprint.
    CommitteeKeys = "committee_keys": Get "/api/committees/{key}/keys" {
        tag: "keys", access: Public, query: NoQuery, request: (), response: Vec<SigningKey>,
        success: [200], errors: [400, 404],
    }
    /// Add one key to a committee: the ASCII-armored public key as the body (at most 1 MiB).
    /// 201 for a new key, 200 for a known one. The caller's own key needs `manage_own_key`,
    /// anyone else's `manage_keys`.
    AddKey = "add_key": Post "/api/committees/{key}/keys" {
        tag: "keys", access: SignedIn, query: NoQuery, request: PgpKeys, response: SigningKey,
        success: [201, 200], errors: [400, 401, 403, 404, 409, 413, 422],
    }
    /// Import a KEYS file (the body, at most 16 MiB) into a committee: what happened to each key.
    /// Needs `manage_keys`.
    ImportKeys = "import_keys": Post "/api/committees/{key}/keys/import" {
        tag: "keys", access: SignedIn, query: NoQuery, request: PgpKeys, response: KeyImportReport,
        success: [200], errors: [400, 401, 403, 404, 413, 422],
    }
    /// Link a known key to the committee.
    LinkKey = "link_key": Put "/api/committees/{key}/keys/{fingerprint}" {
        tag: "keys", access: SignedIn, query: NoQuery, request: (), response: SigningKey,
        success: [200], errors: [400, 401, 403, 404, 409],
    }
    /// The committee's KEYS file, generated from the database.
    GetKeysFile = "keys_file": Get "/api/committees/{key}/KEYS" {
        tag: "keys", access: Public, query: NoQuery, request: (), response: KeysFile,
        success: [200], errors: [400, 404],
    }
    /// Signing keys a person owns.
    UserKeys = "user_keys": Get "/api/users/{id}/keys" {
        tag: "keys", access: Public, query: NoQuery, request: (), response: Vec<SigningKey>,
        success: [200], errors: [400],
    }

    /// Search projects, releases (by version), signing keys (by fingerprint, key id or user id)
    /// and CVE records: up to `limit` hits of each kind, best first, projects, releases, keys
    /// and CVEs in that order. Releases the caller may not read are left out. A text that cannot
    /// be searched (blank, over 200 bytes or 8 words, no letter or digit) is a 422 naming `q`.
    Search = "search": Get "/api/search" {
        tag: "search", access: Caller, query: SearchQuery, request: (), response: Vec<SearchHit>,
        success: [200], errors: [400, 401, 422],
    }

    /// List CVE records, by id.
    ListCves = "list_cves": Get "/api/cves" {
        tag: "cves", access: Public, query: PageQuery, request: (), response: Vec<CveRecord>,
        success: [200], errors: [400],
    }
    /// One CVE record with the releases it affects and those that resolve it.
    GetCve = "get_cve": Get "/api/cves/{id}" {
        tag: "cves", access: Public, query: NoQuery, request: (), response: CveRecord,
        success: [200], errors: [400, 404],
    }
    /// Record a CVE on behalf of a project, or update its fields (its links are kept).
    /// 201 when new, 200 when updated.
    RecordCve = "record_cve": Put "/api/projects/{project}/cves/{id}" {
        tag: "cves", access: SignedIn, query: NoQuery, request: CveFields, response: CveRecord,
        success: [201, 200], errors: [400, 401, 403, 404, 409, 415, 422],
    }
    /// CVEs that affect a release or that it resolves.
    ReleaseCves = "release_cves": Get "/api/projects/{project}/releases/{version}/cves" {
        tag: "cves", access: Public, query: ReleaseCvesQuery, request: (), response: Vec<CveRecord>,
        success: [200], errors: [400, 404],
    }
    /// Link a recorded CVE to a release.
    LinkCve = "link_cve": Post "/api/projects/{project}/releases/{version}/cves" {
        tag: "cves", access: SignedIn, query: ProductQuery, request: NewCveLink, response: CveRecord,
        success: [200], errors: [400, 401, 403, 404, 409, 415, 422],
    }

    /// Tasks in a status, oldest first.
    ListTasks = "list_tasks": Get "/api/tasks" {
        tag: "tasks", access: SignedIn, query: TasksQuery, request: (), response: Vec<Task>,
        success: [200], errors: [400, 401],
    }
    /// Task counts by kind and status.
    GetQueueStatus = "queue_status": Get "/api/tasks/status" {
        tag: "tasks", access: SignedIn, query: NoQuery, request: (), response: QueueStatus,
        success: [200], errors: [401],
    }
    /// One task.
    GetTask = "get_task": Get "/api/tasks/{id}" {
        tag: "tasks", access: SignedIn, query: NoQuery, request: (), response: Task,
        success: [200], errors: [400, 401, 403, 404],
    }
    /// Cancel a queued or running task.
    /// 409 if it has ended.
    CancelTask = "cancel_task": Post "/api/tasks/{id}/cancel" {
        tag: "tasks", access: SignedIn, query: NoQuery, request: (), response: Task,
        success: [200], errors: [400, 401, 403, 404, 409],
    }
    /// Queue a failed or cancelled task again with fresh attempts.
    /// 409 if it has not ended or the same work is already queued.
    RetryTask = "retry_task": Post "/api/tasks/{id}/retry" {
        tag: "tasks", access: SignedIn, query: NoQuery, request: (), response: Task,
        success: [200], errors: [400, 401, 403, 404, 409],
    }

    /// Where the checks of a revision stand.
    /// Completed, running, queued, waiting for a task runner that is not there, or ended without
    /// completing; with a sentence that says so.
    GetChecksStatus = "checks_status": Get "/api/projects/{project}/releases/{version}/revisions/{number}/checks/status" {
        tag: "releases", access: Public, query: ProductQuery, request: (), response: crate::tasks::ChecksStatus,
        success: [200], errors: [400, 404],
    }

    /// Download a file of a candidate (the voted revision), or list a folder (a path ending in `/`).
    /// `latest` as the version redirects to the newest version of the stage.
    DownloadCandidate = "download_candidate": Get "/candidate/{path}" {
        tag: "downloads", access: Public, query: NoQuery, request: (), response: FileOrListing,
        success: [200, 206, 304, 307, 416], errors: [400, 404, 414],
    }
    /// Download a file of a current release, or list a folder (a path ending in `/`).
    /// `latest` as the version redirects to the newest version of the stage.
    DownloadCurrent = "download_current": Get "/current/{path}" {
        tag: "downloads", access: Public, query: NoQuery, request: (), response: FileOrListing,
        success: [200, 206, 304, 307, 416], errors: [400, 404, 414],
    }
    /// Download a file of a revoked release, or list a folder (a path ending in `/`).
    /// Answers carry `X-ATR-Revoked` and the reason.
    DownloadRevoked = "download_revoked": Get "/revoked/{path}" {
        tag: "downloads", access: Public, query: NoQuery, request: (), response: FileOrListing,
        success: [200, 206, 304, 307, 416], errors: [400, 404, 414],
    }
    /// The root of the candidate stage: names no project, so a 400.
    CandidateRoot = "candidate_root": Get "/candidate/" {
        tag: "downloads", access: Public, query: NoQuery, request: (), response: FileOrListing,
        success: [200], errors: [400, 404],
    }
    /// The root of the current stage: names no project, so a 400.
    CurrentRoot = "current_root": Get "/current/" {
        tag: "downloads", access: Public, query: NoQuery, request: (), response: FileOrListing,
        success: [200], errors: [400, 404],
    }
    /// The root of the revoked stage: names no project, so a 400.
    RevokedRoot = "revoked_root": Get "/revoked/" {
        tag: "downloads", access: Public, query: NoQuery, request: (), response: FileOrListing,
        success: [200], errors: [400, 404],
    }

    /// Whether the process answers, for a liveness probe: checks nothing else.
    Healthz = "healthz": Get "/healthz" {
        tag: "operations", access: Public, query: NoQuery, request: (), response: Health,
        success: [200], errors: [],
    }
    /// Whether the service can serve, for a readiness probe or a load balancer: 200 when the
    /// database answers, every migration is applied and release storage takes a write; else 503
    /// with the check that failed and why.
    Readyz = "readyz": Get "/readyz" {
        tag: "operations", access: Public, query: NoQuery, request: (), response: Readiness,
        success: [200, 503], errors: [],
    }
    /// The service's metrics in the `OpenMetrics` text format, for Prometheus (requests, the task
    /// queue, task runs, the runner, the database pool). Only addresses the operator allows
    /// (`atr serve --metrics-allow`, loopback by default) get them; others get 403.
    Metrics = "metrics": Get "/metrics" {
        tag: "operations", access: Public, query: NoQuery, request: (), response: MetricsText,
        success: [200], errors: [403],
    }
}

/// The operation at `method` and `path` (a template, as in [`Endpoint::path`]).
pub fn find(method: Method, path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS.iter().find(|e| e.method == method && e.path == path)
}
