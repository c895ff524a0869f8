//! SBOM validation against the embedded CycloneDX and SPDX schemas.

use atr_core::model::CheckStatus;
use atr_core::types::ReleasePath;
use atr_tasks::analyze::Finding;
use atr_tasks::analyze::archive::{check_sbom, sbom_subjects};
use serde_json::json;

fn cyclonedx() -> serde_json::Value {
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2026-06-05T12:00:00Z",
            "component": {"type": "application", "name": "httpd", "version": "2.4.68",
                          "licenses": [{"license": {"id": "Apache-2.0"}}]}
        },
        "components": [
            {"type": "library", "name": "apr", "version": "1.7.5", "purl": "pkg:generic/apr@1.7.5",
             "licenses": [{"license": {"id": "Apache-2.0"}}]}
        ]
    })
}

fn spdx() -> serde_json::Value {
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "httpd-2.4.68",
        "documentNamespace": "https://example.org/spdx/httpd-2.4.68",
        "creationInfo": {"created": "2026-06-05T12:00:00Z", "creators": ["Tool: demo-1.0"]},
        "packages": [{
            "SPDXID": "SPDXRef-Package-httpd",
            "name": "httpd",
            "versionInfo": "2.4.68",
            "packageFileName": "httpd-2.4.68.tar.gz",
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "Apache-2.0",
            "licenseDeclared": "Apache-2.0",
            "copyrightText": "NOASSERTION"
        }],
        "relationships": [{
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": "SPDXRef-Package-httpd"
        }]
    })
}

fn check(name: &str, bytes: &[u8]) -> Vec<Finding> {
    check_sbom(&ReleasePath::parse(name).expect("path"), bytes)
}

#[track_caller]
fn only(findings: &[Finding], status: CheckStatus) -> &Finding {
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].status, status, "{findings:#?}");
    assert_eq!(findings[0].checker, "sbom");
    &findings[0]
}

#[test]
fn valid_cyclonedx_passes() {
    let findings = check("httpd-2.4.68.cdx.json", cyclonedx().to_string().as_bytes());
    let finding = only(&findings, CheckStatus::Success);
    assert!(finding.message.contains("valid CycloneDX 1.6 document (1 components)"), "{}", finding.message);
}

#[test]
fn valid_spdx_passes() {
    let findings = check("httpd-2.4.68.spdx.json", spdx().to_string().as_bytes());
    let finding = only(&findings, CheckStatus::Success);
    assert!(finding.message.contains("valid SPDX 2.3 document (1 packages)"), "{}", finding.message);
}

#[test]
fn cyclonedx_with_wrong_type_names_the_pointer() {
    let mut bom = cyclonedx();
    bom["components"][0]["type"] = json!("spaceship");
    let findings = check("httpd-2.4.68.cdx.json", bom.to_string().as_bytes());
    let finding = only(&findings, CheckStatus::Blocker);
    assert!(finding.message.contains("/components/0/type"), "{}", finding.message);
    assert!(finding.message.contains("CycloneDX 1.6 schema"), "{}", finding.message);
}

#[test]
fn cyclonedx_referenced_schemas_are_resolved_offline() {
    // The license id is checked against the SPDX license list, a separate schema file.
    let mut bom = cyclonedx();
    bom["components"][0]["licenses"][0]["license"]["id"] = json!("Not-A-License");
    let findings = check("httpd-2.4.68.cdx.json", bom.to_string().as_bytes());
    let finding = only(&findings, CheckStatus::Blocker);
    assert!(finding.message.contains("/components/0/licenses: "), "{}", finding.message);
}

#[test]
fn spdx_missing_required_field_names_the_pointer() {
    let mut document = spdx();
    document["packages"][0].as_object_mut().expect("package").remove("downloadLocation");
    document["creationInfo"]["created"] = json!(42);
    let findings = check("httpd-2.4.68.spdx.json", document.to_string().as_bytes());
    let finding = only(&findings, CheckStatus::Blocker);
    assert!(finding.message.contains("/packages/0: "), "{}", finding.message);
    assert!(finding.message.contains("downloadLocation"), "{}", finding.message);
    assert!(finding.message.contains("/creationInfo/created"), "{}", finding.message);
}

#[test]
fn non_json_is_a_blocker() {
    let findings = check("httpd-2.4.68.cdx.json", b"<bom>not json</bom>");
    let finding = only(&findings, CheckStatus::Blocker);
    assert!(finding.message.contains("is not valid JSON"), "{}", finding.message);
}

#[test]
fn unknown_versions_are_blockers() {
    let mut bom = cyclonedx();
    bom["specVersion"] = json!("9.9");
    let finding = check("x.cdx.json", bom.to_string().as_bytes()).remove(0);
    assert_eq!(finding.status, CheckStatus::Blocker);
    assert!(finding.message.contains("/specVersion"), "{}", finding.message);
}

#[test]
fn oversized_sbom_is_refused() {
    let bytes = vec![b' '; atr_tasks::analyze::archive::MAX_SBOM_SIZE + 1];
    let findings = check("x.spdx.json", &bytes);
    assert!(only(&findings, CheckStatus::Blocker).message.contains("larger than"));
}

#[test]
fn subjects_name_what_the_sbom_describes() {
    assert_eq!(sbom_subjects(cyclonedx().to_string().as_bytes()), ["httpd@2.4.68", "apr@1.7.5"]);
    assert_eq!(sbom_subjects(spdx().to_string().as_bytes()), ["httpd-2.4.68.tar.gz"]);
    assert!(sbom_subjects(b"nope").is_empty());
}
