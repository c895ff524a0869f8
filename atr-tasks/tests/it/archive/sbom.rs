//! SBOM validation against the embedded CycloneDX and SPDX schemas, the NTIA minimum elements, and
//! whether an SBOM describes its release's artifact.

use atr_core::model::CheckStatus;
use atr_core::types::ReleasePath;
use atr_tasks::analyze::Finding;
use atr_tasks::analyze::archive::{ReleaseArtifact, SbomRelease, check_sbom, check_sbom_in, sbom_subjects};
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

/// The finding of a valid document's validation, and of its NTIA minimum elements.
#[track_caller]
fn valid_and_ntia(findings: &[Finding]) -> (&Finding, &Finding) {
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert!(findings.iter().all(|f| f.checker == "sbom"), "{findings:#?}");
    assert_eq!(findings[0].status, CheckStatus::Success, "{findings:#?}");
    assert!(findings[1].message.starts_with("NTIA minimum elements: "), "{findings:#?}");
    (&findings[0], &findings[1])
}

#[test]
fn valid_cyclonedx_passes() {
    let findings = check("httpd-2.4.68.cdx.json", cyclonedx().to_string().as_bytes());
    let (valid, _) = valid_and_ntia(&findings);
    assert!(valid.message.contains("valid CycloneDX 1.6 document (1 components)"), "{}", valid.message);
}

#[test]
fn valid_spdx_passes() {
    let findings = check("httpd-2.4.68.spdx.json", spdx().to_string().as_bytes());
    let (valid, _) = valid_and_ntia(&findings);
    assert!(valid.message.contains("valid SPDX 2.3 document (1 packages)"), "{}", valid.message);
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

/// A CycloneDX SBOM with every NTIA minimum element: three components, each with a supplier, name,
/// version, identifier and a place in the dependency graph; authors and a timestamp.
fn cyclonedx_complete() -> serde_json::Value {
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2026-06-05T12:00:00Z",
            "authors": [{"name": "Jane Doe", "email": "jane@apache.org"}],
            "component": {"type": "application", "bom-ref": "httpd", "name": "httpd", "version": "2.4.68",
                          "supplier": {"name": "The Apache Software Foundation"},
                          "purl": "pkg:generic/httpd@2.4.68"}
        },
        "components": [
            {"type": "library", "bom-ref": "apr", "name": "apr", "version": "1.7.5",
             "supplier": {"name": "The Apache Software Foundation"}, "purl": "pkg:generic/apr@1.7.5"},
            {"type": "library", "bom-ref": "zlib", "name": "zlib", "version": "1.3.1",
             "supplier": {"name": "zlib"}, "cpe": "cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*"}
        ],
        "dependencies": [
            {"ref": "httpd", "dependsOn": ["apr", "zlib"]},
            {"ref": "apr", "dependsOn": []},
            {"ref": "zlib", "dependsOn": []}
        ]
    })
}

/// An SPDX SBOM with every NTIA minimum element.
fn spdx_complete() -> serde_json::Value {
    let package = |id: &str, name: &str, version: &str| {
        json!({
            "SPDXID": id, "name": name, "versionInfo": version,
            "supplier": "Organization: The Apache Software Foundation",
            "downloadLocation": "NOASSERTION", "filesAnalyzed": false,
            "licenseConcluded": "Apache-2.0", "licenseDeclared": "Apache-2.0", "copyrightText": "NOASSERTION",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                              "referenceLocator": format!("pkg:generic/{name}@{version}")}]
        })
    };
    let mut httpd = package("SPDXRef-Package-httpd", "httpd", "2.4.68");
    httpd["packageFileName"] = json!("httpd-2.4.68.tar.gz");
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "httpd-2.4.68",
        "documentNamespace": "https://example.org/spdx/httpd-2.4.68",
        "creationInfo": {"created": "2026-06-05T12:00:00Z",
                         "creators": ["Organization: The Apache Software Foundation", "Tool: demo-1.0"]},
        "packages": [httpd, package("SPDXRef-Package-apr", "apr", "1.7.5"), package("SPDXRef-Package-zlib", "zlib", "1.3.1")],
        "relationships": [
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
             "relatedSpdxElement": "SPDXRef-Package-httpd"},
            {"spdxElementId": "SPDXRef-Package-httpd", "relationshipType": "DEPENDS_ON",
             "relatedSpdxElement": "SPDXRef-Package-apr"},
            {"spdxElementId": "SPDXRef-Package-httpd", "relationshipType": "DEPENDS_ON",
             "relatedSpdxElement": "SPDXRef-Package-zlib"}
        ]
    })
}

/// An element case: its name, how the complete document loses it, and what the finding says is missing.
type Case = (&'static str, fn(&mut serde_json::Value), &'static str);

/// The NTIA finding of a document that validates.
#[track_caller]
fn ntia(name: &str, document: &serde_json::Value) -> Finding {
    let findings = check(name, document.to_string().as_bytes());
    valid_and_ntia(&findings).1.clone()
}

#[track_caller]
fn assert_missing(finding: &Finding, missing: &str) {
    assert_eq!(finding.status, CheckStatus::Warning, "{finding:#?}");
    assert!(finding.message.starts_with("NTIA minimum elements: 6 of 7 (85%)."), "{}", finding.message);
    assert!(finding.message.contains(&format!("Missing: {missing}.")), "expected {missing:?} in {}", finding.message);
}

#[test]
fn ntia_complete_cyclonedx_and_spdx_score_seven_of_seven() {
    for (name, document) in [("httpd.cdx.json", cyclonedx_complete()), ("httpd.spdx.json", spdx_complete())] {
        let finding = ntia(name, &document);
        assert_eq!(finding.status, CheckStatus::Success, "{finding:#?}");
        assert!(
            finding.message.starts_with("NTIA minimum elements: 7 of 7 (100%): every one of its 3 components"),
            "{}",
            finding.message
        );
    }
}

#[test]
fn ntia_cyclonedx_names_each_missing_element() {
    let cases: [Case; 7] = [
        (
            "supplier",
            |b| drop(b["components"][1].as_object_mut().unwrap().remove("supplier")),
            "supplier for 1 of 3 components (zlib@1.3.1)",
        ),
        ("name", |b| b["components"][1]["name"] = json!(" "), "component name for 1 of 3 components (component #3)"),
        (
            "version",
            |b| drop(b["components"][0].as_object_mut().unwrap().remove("version")),
            "version for 1 of 3 components (apr)",
        ),
        (
            "identifiers",
            |b| drop(b["metadata"]["component"].as_object_mut().unwrap().remove("purl")),
            "unique identifiers for 1 of 3 components (httpd@2.4.68)",
        ),
        (
            "relationships",
            |b| b["dependencies"] = json!([{"ref": "httpd", "dependsOn": ["apr"]}]),
            "dependency relationships for 1 of 3 components (zlib@1.3.1)",
        ),
        (
            "author",
            |b| drop(b["metadata"].as_object_mut().unwrap().remove("authors")),
            "author (none in metadata.authors or metadata.manufacturer)",
        ),
        (
            "timestamp",
            |b| drop(b["metadata"].as_object_mut().unwrap().remove("timestamp")),
            "timestamp (no metadata.timestamp)",
        ),
    ];
    for (what, change, missing) in cases {
        let mut bom = cyclonedx_complete();
        change(&mut bom);
        let finding = ntia("httpd.cdx.json", &bom);
        assert_missing(&finding, missing);
        assert!(!finding.message.contains("; "), "{what}: only one element is missing: {}", finding.message);
    }
}

#[test]
fn ntia_spdx_names_each_missing_element() {
    let cases: [Case; 7] = [
        (
            "supplier",
            |d| d["packages"][2]["supplier"] = json!("NOASSERTION"),
            "supplier for 1 of 3 components (zlib@1.3.1)",
        ),
        ("name", |d| d["packages"][1]["name"] = json!(" "), "component name for 1 of 3 components (component #2)"),
        (
            "version",
            |d| drop(d["packages"][1].as_object_mut().unwrap().remove("versionInfo")),
            "version for 1 of 3 components (apr)",
        ),
        (
            "identifiers",
            |d| d["packages"][0]["externalRefs"][0]["referenceType"] = json!("website"),
            "unique identifiers for 1 of 3 components (httpd@2.4.68)",
        ),
        (
            "relationships",
            |d| drop(d["relationships"].as_array_mut().unwrap().pop()),
            "dependency relationships for 1 of 3 components (zlib@1.3.1)",
        ),
        (
            "author",
            |d| d["creationInfo"]["creators"] = json!(["Tool: demo-1.0"]),
            "author (none in creationInfo.creators, as a Person or an Organization)",
        ),
        // SPDX requires a creation time, so its schema refuses a document without one.
        ("timestamp", |d| drop(d["creationInfo"].as_object_mut().unwrap().remove("created")), ""),
    ];
    for (what, change, missing) in cases {
        let mut document = spdx_complete();
        change(&mut document);
        if missing.is_empty() {
            let findings = check("httpd.spdx.json", document.to_string().as_bytes());
            let finding = only(&findings, CheckStatus::Blocker);
            assert!(finding.message.contains("created"), "{what}: {}", finding.message);
            continue;
        }
        let finding = ntia("httpd.spdx.json", &document);
        assert_missing(&finding, missing);
        assert!(!finding.message.contains("; "), "{what}: only one element is missing: {}", finding.message);
    }
}

#[test]
fn ntia_lists_counts_and_the_first_few_components() {
    let mut bom = cyclonedx_complete();
    let many: Vec<serde_json::Value> =
        (0..50).map(|i| json!({"type": "library", "name": format!("lib{i}"), "version": "1.0"})).collect();
    bom["components"] = json!(many);
    bom["metadata"].as_object_mut().unwrap().remove("authors");
    let finding = ntia("httpd.cdx.json", &bom);
    assert_eq!(finding.status, CheckStatus::Warning);
    // Supplier, identifiers, relationships and author are missing: 3 of 7.
    assert!(finding.message.starts_with("NTIA minimum elements: 3 of 7 (42%)."), "{}", finding.message);
    assert!(
        finding.message.contains("supplier for 50 of 51 components (lib0@1.0, lib1@1.0, lib2@1.0, and 47 more)"),
        "{}",
        finding.message
    );
    assert!(finding.message.contains("unique identifiers for 50 of 51 components"), "{}", finding.message);
    assert!(finding.message.contains("dependency relationships for 50 of 51 components"), "{}", finding.message);
    assert!(!finding.message.contains("lib3@"), "only the first three are named: {}", finding.message);
    assert!(finding.message.len() < 1_000, "{}", finding.message);
}

fn release(artifacts: &[(&str, Option<Vec<u8>>)]) -> SbomRelease {
    SbomRelease {
        version: Some("2.4.68".to_owned()),
        artifacts: artifacts
            .iter()
            .map(|(path, sha512)| ReleaseArtifact {
                path: ReleasePath::parse(path).unwrap(),
                sha512: sha512.clone(),
                sha256: None,
            })
            .collect(),
    }
}

/// The finding on whether the SBOM describes an artifact of `release`.
#[track_caller]
fn subject(name: &str, document: &serde_json::Value, release: &SbomRelease) -> Finding {
    let findings = check_sbom_in(&ReleasePath::parse(name).unwrap(), document.to_string().as_bytes(), release);
    assert_eq!(findings.len(), 3, "{findings:#?}");
    findings[2].clone()
}

#[test]
fn an_sbom_of_the_release_artifact_matches_by_name_and_version() {
    let ours = release(&[("httpd-2.4.68.tar.gz", None)]);
    let finding = subject("httpd-2.4.68.cdx.json", &cyclonedx_complete(), &ours);
    assert_eq!(finding.status, CheckStatus::Success, "{finding:#?}");
    assert!(
        finding.message.contains("describes httpd-2.4.68.tar.gz, an artifact of this release (by name and version)"),
        "{}",
        finding.message
    );
    let finding = subject("httpd-2.4.68.spdx.json", &spdx_complete(), &ours);
    assert_eq!(finding.status, CheckStatus::Success, "{finding:#?}");
    assert!(finding.message.contains("(by file name)"), "{}", finding.message);
}

#[test]
fn an_sbom_of_another_artifact_is_a_warning() {
    let ours = release(&[("httpd-2.4.68.tar.gz", None), ("httpd-2.4.68.zip", None)]);
    let mut bom = cyclonedx_complete();
    bom["metadata"]["component"]["version"] = json!("2.4.67");
    let finding = subject("httpd-2.4.68.cdx.json", &bom, &ours);
    assert_eq!(finding.status, CheckStatus::Warning, "{finding:#?}");
    assert!(
        finding.message.contains(
            "describes httpd 2.4.67, which matches none of this release's artifacts (httpd-2.4.68.tar.gz, httpd-2.4.68.zip)"
        ),
        "{}",
        finding.message
    );

    let mut document = spdx_complete();
    document["packages"][0]["packageFileName"] = json!("tomcat-11.0.0.tar.gz");
    document["packages"][0]["name"] = json!("tomcat");
    let finding = subject("httpd-2.4.68.spdx.json", &document, &ours);
    assert_eq!(finding.status, CheckStatus::Warning, "{finding:#?}");
    assert!(finding.message.contains("describes tomcat-11.0.0.tar.gz, which matches none"), "{}", finding.message);

    let mut bom = cyclonedx_complete();
    bom["metadata"].as_object_mut().unwrap().remove("component");
    let finding = subject("httpd-2.4.68.cdx.json", &bom, &ours);
    assert_eq!(finding.status, CheckStatus::Warning, "{finding:#?}");
    assert!(finding.message.contains("does not say what it describes (no metadata.component)"), "{}", finding.message);
}

#[test]
fn an_sbom_matches_its_artifact_by_digest() {
    let digest = vec![0xab; 64];
    let ours = release(&[("apache-httpd-server.tar.gz", Some(digest.clone()))]);
    let mut bom = cyclonedx_complete();
    bom["metadata"]["component"]["name"] = json!("The Apache HTTP Server");
    bom["metadata"]["component"]["hashes"] = json!([{"alg": "SHA-512", "content": "ab".repeat(64)}]);
    let finding = subject("httpd.cdx.json", &bom, &ours);
    assert_eq!(finding.status, CheckStatus::Success, "{finding:#?}");
    assert!(finding.message.contains("(by digest)"), "{}", finding.message);
    // Another digest, and a name the artifact does not carry: not this release's.
    bom["metadata"]["component"]["hashes"] = json!([{"alg": "SHA-512", "content": "cd".repeat(64)}]);
    let finding = subject("httpd.cdx.json", &bom, &ours);
    assert_eq!(finding.status, CheckStatus::Warning, "{finding:#?}");
}
