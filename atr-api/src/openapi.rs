//! The `OpenAPI` 3.1 document, generated from the catalogue ([`crate::ENDPOINTS`]) and the
//! schemas of the wire types.

use std::collections::BTreeSet;

use utoipa::openapi::path::{HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, Content, Header, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, RefOr, Required,
    ResponseBuilder, ResponsesBuilder,
};

use crate::endpoints::{Access, ENDPOINTS, Endpoint, Method, Schemas, named};
use crate::error::ErrorBody;

/// The security scheme of personal access tokens.
pub const BEARER: &str = "bearer";
/// The security scheme of browser sessions.
pub const SESSION: &str = "session";

/// The groups of operations, in the document's order.
const TAGS: &[(&str, &str)] = &[
    ("auth", "Signing in, tokens, and a visitor's consent"),
    ("admin", "What only admins do: accounts, committees' people, the audit log"),
    ("committees", "Committees and their people"),
    ("projects", "Projects, their products, metadata and vote policy"),
    ("releases", "Releases, their files, revisions and checks"),
    ("votes", "Votes, ballots, the tally, and announcing"),
    ("events", "The audit log"),
    ("keys", "Signing keys and KEYS files"),
    ("cves", "CVE records and their links to releases"),
    ("search", "Search projects, releases, signing keys and CVE records"),
    ("tasks", "The task queue"),
    ("downloads", "Downloads by coordinates: /<stage>/<project>/[<product>/]<version>/<path>"),
    ("operations", "Liveness, readiness and metrics, for probes, load balancers and Prometheus"),
    ("meta", "This description"),
];

const DESCRIPTION: &str = "The JSON API of ATR, the trusted-release platform.\n\n\
    Sign in with `POST /api/session` (a session cookie) or send a personal access token as \
    `Authorization: Bearer atr_<id>_<secret>`. Times are Unix seconds (`*_ms`: milliseconds). Every \
    refusal and failure answers `{\"error\": {\"code\", \"message\", \"details\"}}`.";

/// The document.
pub fn document() -> OpenApi {
    let mut schemas: Schemas = Vec::new();
    let mut paths = PathsBuilder::new();
    for endpoint in ENDPOINTS {
        let item = PathItem::new(http_method(endpoint.method), operation(endpoint, &mut schemas));
        paths = paths.path(endpoint.path, item);
    }
    let mut components = ComponentsBuilder::new();
    let mut seen = BTreeSet::new();
    for (name, schema) in schemas {
        if seen.insert(name.clone()) {
            components = components.schema(name, schema);
        }
    }
    let mut bearer = Http::new(HttpAuthScheme::Bearer);
    bearer.bearer_format = Some("atr_<id>_<secret>".to_owned());
    let components = components
        .security_scheme(BEARER, SecurityScheme::Http(bearer))
        .security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "atr_session",
                "The session cookie set by POST /api/session",
            ))),
        )
        .build();
    let info = InfoBuilder::new().title("ATR API").version(env!("CARGO_PKG_VERSION")).description(Some(DESCRIPTION));
    OpenApiBuilder::new()
        .info(info)
        .paths(paths)
        .components(Some(components))
        .tags(Some(
            TAGS.iter()
                .map(|(name, description)| TagBuilder::new().name(*name).description(Some(*description)).build()),
        ))
        .build()
}

/// The document as JSON.
pub fn document_json() -> String {
    document().to_json().unwrap_or_else(|e| format!("{{\"error\": \"the API description failed: {e}\"}}"))
}

fn http_method(method: Method) -> HttpMethod {
    match method {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
        Method::Put => HttpMethod::Put,
        Method::Delete => HttpMethod::Delete,
    }
}

/// Statuses answered without a body.
fn bodyless(status: u16) -> bool {
    matches!(status, 204 | 304 | 307 | 416)
}

fn success_description(status: u16) -> &'static str {
    match status {
        200 => "The answer",
        201 => "Created",
        204 => "Done; no body",
        206 => "The requested byte range",
        304 => "Not modified since the copy the caller has",
        307 => "`latest`: redirected to the newest version (the Location header)",
        416 => "The requested byte range is outside the file",
        503 => "Not ready: the checks say which one failed and why",
        _ => "Success",
    }
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Malformed request: a path, query, header or body that cannot be read",
        401 => "No valid credential: not signed in, or a token that is unknown, revoked or expired",
        403 => "Permission denied; the missing permission is named",
        404 => "Not found; `details` may say what is missing",
        409 => "Conflict with the current state",
        413 => "The body is larger than allowed",
        414 => "The path is too long",
        415 => "The body must be JSON, sent with Content-Type: application/json",
        422 => "A field that does not fit; `details.field` may name it",
        429 => "Too many attempts or uploads at once; the `Retry-After` header says when to try again",
        500 => "The request failed; the cause is in the service's log",
        _ => "Refused",
    }
}

fn string_schema() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).into()
}

/// A committee, project or product key: lowercase letters, digits and single `-` between them.
fn key_schema() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[a-z0-9]+(-[a-z0-9]+)*$")).max_length(Some(64)).into()
}

/// A path parameter: what it names, and an example from the demo foundation.
fn path_param(endpoint: &Endpoint, name: &str) -> Parameter {
    let in_tasks = endpoint.path.starts_with("/api/tasks");
    let (description, example) = match name {
        "project" => ("A project's key, such as `httpd`", Some("httpd")),
        "version" => ("A release's version, such as `2.4.68`", Some("2.4.68")),
        "number" => ("A revision number, from 1", Some("1")),
        "key" => ("A committee's key, such as `httpd`", Some("httpd")),
        "product" => ("A product's key, such as `mod-tools`", Some("mod-tools")),
        "fingerprint" => ("A key's fingerprint: 40 hex digits", None),
        "id" if in_tasks => ("A task's id", Some("1")),
        "id" if endpoint.path.starts_with("/api/users") => ("A person's user id", Some("rm")),
        "id" if endpoint.path.starts_with("/api/tokens") => ("A token's id: the part after `atr_`", None),
        "id" => ("A CVE id, such as `CVE-2026-1234`", Some("CVE-2026-1234")),
        "path" => match endpoint.path {
            "/candidate/{path}" => ("`<project>/[<product>/]<version>/<path>`", Some("httpd/2.4.68/")),
            "/current/{path}" => ("`<project>/[<product>/]<version>/<path>`", Some("httpd/2.4.66/")),
            "/revoked/{path}" => ("`<project>/[<product>/]<version>/<path>`", Some("httpd/2.4.67/")),
            _ => ("A path in the release; it may hold slashes", Some("README.txt")),
        },
        _ => ("", None),
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(if matches!(name, "project" | "key" | "product") { key_schema() } else { string_schema() }))
        .example(example.map(serde_json::Value::from))
        .build()
}

fn security(access: Access) -> Vec<SecurityRequirement> {
    let bearer = || SecurityRequirement::new(BEARER, Vec::<String>::new());
    let session = || SecurityRequirement::new(SESSION, Vec::<String>::new());
    match access {
        Access::Public => Vec::new(),
        Access::Caller => vec![SecurityRequirement::default(), bearer(), session()],
        Access::SignedIn => vec![bearer(), session()],
        Access::Session | Access::Admin => vec![session()],
    }
}

fn operation(endpoint: &Endpoint, schemas: &mut Schemas) -> utoipa::openapi::path::Operation {
    let mut op = OperationBuilder::new()
        .operation_id(Some(endpoint.id))
        .summary(Some(endpoint.summary()))
        .description(endpoint.description())
        .tag(endpoint.tag);
    for name in endpoint.path_params() {
        op = op.parameter(path_param(endpoint, name));
    }
    for parameter in (endpoint.query)() {
        op = op.parameter(parameter);
    }
    for header in endpoint.headers {
        op = op.parameter(
            ParameterBuilder::new()
                .name(header.name)
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(header.description))
                .schema(Some(string_schema())),
        );
    }
    let request = (endpoint.request)(schemas);
    if !request.is_empty() {
        let mut body = RequestBodyBuilder::new().required(Some(Required::True));
        for (media_type, schema) in request {
            body = body.content(media_type, Content::new(Some(schema)));
        }
        op = op.request_body(Some(body.build()));
    }
    let response = (endpoint.response)(schemas);
    let mut responses = ResponsesBuilder::new();
    for &status in endpoint.success {
        let mut answer = ResponseBuilder::new().description(success_description(status));
        if !bodyless(status) {
            for (media_type, schema) in &response {
                answer = answer.content(*media_type, Content::new(Some(schema.clone())));
            }
        }
        if status == 307 {
            answer = answer.header("Location", Header::new(string_schema()));
        }
        responses = responses.response(status.to_string(), answer);
    }
    let error = named::<ErrorBody>(schemas);
    for &status in endpoint.errors.iter().chain(&[500]) {
        let answer = ResponseBuilder::new()
            .description(error_description(status))
            .content("application/json", Content::new(Some(error.clone())));
        responses = responses.response(status.to_string(), answer);
    }
    op.responses(responses).securities(Some(security(endpoint.access))).build()
}
