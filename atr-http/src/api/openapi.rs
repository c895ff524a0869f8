//! The `OpenAPI` 3.1 description of the API, served at `/api/openapi.json`.

use axum::Json;
use serde_json::{Value, json};

/// One operation: method, path, summary, whether it takes a JSON body.
const OPERATIONS: &[(&str, &str, &str)] = &[
    ("post", "/api/session", "Sign in: {user, password}; sets the session cookie"),
    ("delete", "/api/session", "Sign out"),
    ("get", "/api/me", "Who is calling: the person, and whether by session or token"),
    (
        "post",
        "/api/tokens",
        "Create a personal access token (shown once): {name, projects, activities, expires_in_days}",
    ),
    ("get", "/api/tokens", "The caller's tokens, without secrets"),
    ("delete", "/api/tokens/{id}", "Revoke a token"),
    ("post", "/api/admin/accounts", "Create a local account (admins): {user, password, asf_member, admin}"),
    (
        "post",
        "/api/admin/committees/import",
        "Create or replace committees and their people from a JSON document (admins)",
    ),
    ("put", "/api/admin/committees/{key}", "Replace a committee's people (admins)"),
    (
        "post",
        "/api/admin/committees/{key}/people",
        "Add or remove one person's role, atomically (admins): {user, role, action}; answers {committee, changed}",
    ),
    ("get", "/api/admin/audit/verify", "Recompute the audit log's hash chain and say where it breaks (admins)"),
    ("get", "/api/committees", "List committees (keyset pages: ?after=&limit=)"),
    ("get", "/api/committees/{key}", "One committee with its people"),
    ("get", "/api/projects", "List projects"),
    ("post", "/api/projects", "Create a project (admins)"),
    ("get", "/api/projects/{project}", "One project with its products and effective vote policy"),
    (
        "get",
        "/api/projects/{project}/releases",
        "Releases of a project by stage (?stage=&product=), newest version first",
    ),
    ("post", "/api/projects/{project}/releases", "Start a release: {version, product?}"),
    ("get", "/api/projects/{project}/releases/{version}", "One release: state, packages, tally"),
    ("delete", "/api/projects/{project}/releases/{version}", "Revoke a release: {reason} (a stage, never a removal)"),
    (
        "put",
        "/api/projects/{project}/releases/{version}/files/{path}",
        "Upload a file (raw body, streamed): a new revision; If-Match names the expected latest revision",
    ),
    ("delete", "/api/projects/{project}/releases/{version}/files/{path}", "Delete a file: a new revision"),
    (
        "post",
        "/api/projects/{project}/releases/{version}/moves",
        "Move or rename a file or folder: {from, to}; a new revision",
    ),
    (
        "get",
        "/api/projects/{project}/releases/{version}/sboms",
        "The SBOM files of the latest revision with their validation results",
    ),
    ("get", "/api/projects/{project}/releases/{version}/revisions", "Revisions of a release"),
    ("get", "/api/projects/{project}/releases/{version}/revisions/{number}", "A revision and its file manifest"),
    ("get", "/api/projects/{project}/releases/{version}/revisions/{number}/checks", "Check results of a revision"),
    ("post", "/api/projects/{project}/releases/{version}/vote", "Start the vote on a revision: {revision}"),
    ("post", "/api/projects/{project}/releases/{version}/ballots", "Cast or change a ballot: {value, comment?}"),
    ("get", "/api/projects/{project}/releases/{version}/tally", "The tally of the vote"),
    ("post", "/api/projects/{project}/releases/{version}/resolve", "Resolve the vote: {outcome}"),
    ("post", "/api/projects/{project}/releases/{version}/announce", "Announce a release in preview: {confirmed?}"),
    ("get", "/api/events", "Audit events (?project=&product=&version=&before=&limit=)"),
    ("get", "/api/keys/{fingerprint}", "One signing key, with its armored form"),
    ("delete", "/api/keys/{fingerprint}", "Delete a key no release used (204); 409 names the releases that used it"),
    ("get", "/api/keys/{fingerprint}/releases", "Releases the key signed"),
    ("get", "/api/committees/{key}/keys", "Signing keys linked to a committee, by fingerprint"),
    (
        "post",
        "/api/committees/{key}/keys",
        "Add one key: the ASCII-armored public key as the raw body (application/pgp-keys, at most 1 MiB); \
         201 new, 200 known",
    ),
    (
        "post",
        "/api/committees/{key}/keys/import",
        "Import a KEYS file (raw body, at most 16 MiB; manage keys): {added, updated, rejected} per key",
    ),
    ("put", "/api/committees/{key}/keys/{fingerprint}", "Link a known key to the committee"),
    ("get", "/api/committees/{key}/KEYS", "The committee's KEYS file (text/plain), generated from the database"),
    ("get", "/api/users/{id}/keys", "Signing keys a person owns"),
    ("get", "/api/cves", "List CVE records (keyset pages: ?after=&limit=)"),
    ("get", "/api/cves/{id}", "One CVE record with the releases it affects and those that resolve it"),
    (
        "put",
        "/api/projects/{project}/cves/{id}",
        "Record or update a CVE: {title, description?, severity?, cvss?, references?, published_at?}",
    ),
    (
        "get",
        "/api/projects/{project}/releases/{version}/cves",
        "CVEs that affect a release or that it resolves (?link=affects|resolves&product=)",
    ),
    ("post", "/api/projects/{project}/releases/{version}/cves", "Link a CVE to a release: {id, link}"),
    ("put", "/api/projects/{project}/policy", "Replace the project's vote policy settings"),
    ("put", "/api/projects/{project}/metadata", "Replace the project's metadata"),
    ("post", "/api/projects/{project}/products", "Add a product: {key, metadata, policy?}"),
    ("put", "/api/projects/{project}/products/{product}", "Change a product: {metadata?, policy?}"),
    ("put", "/api/me/consent", "Give consent to keep name and email, to vote as a visitor: {name, email}"),
    ("delete", "/api/me/consent", "Revoke consent: the name and email are erased"),
    ("get", "/api/tasks", "Tasks in a status (?status=queued|active|completed|failed|cancelled&limit=)"),
    ("get", "/api/tasks/status", "Task counts by kind and status"),
    (
        "get",
        "/api/tasks/{id}",
        "One task, to those who may see its project's tasks; a failure shows error_code and a generic error",
    ),
    ("post", "/api/tasks/{id}/cancel", "Cancel a queued or running task"),
    ("post", "/api/tasks/{id}/retry", "Queue a failed or cancelled task again"),
    ("post", "/api/projects/{project}/releases/{version}/analyze", "Queue the checks of a revision: {revision}"),
];

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

/// The document.
pub(crate) fn openapi() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary) in OPERATIONS {
        let parameters: Vec<Value> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let operation = json!({
            "summary": summary,
            "parameters": parameters,
            "responses": {
                "200": { "description": "OK", "content": { "application/json": {} } },
                "400": error_response("Malformed request"),
                "401": error_response("No valid credential"),
                "403": error_response("Permission denied; the missing permission is named"),
                "404": error_response("Not found"),
                "409": error_response("Conflict with the current state"),
                "422": error_response("Invalid field"),
            }
        });
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        entry[*method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "ATR API", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
                        "code": { "type": "string" }, "message": { "type": "string" }, "details": {}
                    } } }
                }
            },
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } }
        }
    })
}

pub(crate) async fn document() -> Json<Value> {
    Json(openapi())
}
