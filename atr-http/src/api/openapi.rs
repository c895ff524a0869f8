//! The `OpenAPI` 3.1 description of the API, served at `/api/openapi.json`.

use axum::Json;
use serde_json::{Value, json};

/// One operation: method, path, summary, whether it takes a JSON body.
const OPERATIONS: &[(&str, &str, &str)] = &[
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
    ("get", "/api/projects/{project}/releases/{version}/revisions", "Revisions of a release"),
    ("get", "/api/projects/{project}/releases/{version}/revisions/{number}", "A revision and its file manifest"),
    ("get", "/api/projects/{project}/releases/{version}/revisions/{number}/checks", "Check results of a revision"),
    ("post", "/api/projects/{project}/releases/{version}/vote", "Start the vote on a revision: {revision}"),
    ("post", "/api/projects/{project}/releases/{version}/ballots", "Cast or change a ballot: {value, comment?}"),
    ("get", "/api/projects/{project}/releases/{version}/tally", "The tally of the vote"),
    ("post", "/api/projects/{project}/releases/{version}/resolve", "Resolve the vote: {outcome}"),
    ("post", "/api/projects/{project}/releases/{version}/announce", "Announce a release in preview: {confirmed?}"),
    ("get", "/api/events", "Audit events (?project=&product=&version=&before=&limit=)"),
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
