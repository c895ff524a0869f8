//! `atr serve --demo`: a small demo foundation, so every page and endpoint has something to show.
//!
//! Committees `httpd` (with a product), `incubator` and the podling `wayang`; people in every
//! role; a signing key generated on the spot for the release manager; releases of httpd in each
//! stage (2.4.66 current, 2.4.67 revoked, 2.4.68 candidate under vote, 2.5.0 draft) and a podling
//! draft, each with a real signed, checksummed source archive that the Analyze checks pass. The
//! demo goes through the same use cases as the API. It refuses to run on a database that already
//! holds projects.

use std::io::Write;
use std::time::{Duration, SystemTime};

use atr_core::auth::Principal;
use atr_core::model::{Committee, Metadata, Person, Product, Project, ReleaseKey, VoteOutcome, VoteValue};
use atr_core::policy::PolicyOverrides;
use atr_core::ports::{ByteStream, CommitteeRepository, FileChange, PageRequest, ProjectRepository, TaskRepository};
use atr_core::types::{CommitteeKey, ProductKey, ProjectKey, ReleasePath, Timestamp, UserId, Version};
use atr_http::AppState;
use atr_tasks::analyze::signature::{KeyRing, SignaturePolicy};
use openpgp::cert::CertBuilder;
use openpgp::serialize::SerializeInto;
use openpgp::serialize::stream::{Armorer, Message, Signer};
use sequoia_openpgp as openpgp;
use sha2::{Digest, Sha512};

/// The password of every demo account (a demo, not a secret).
pub(crate) const DEMO_PASSWORD: &str = "atr-demo-password";
const APACHE: &str = include_str!("../../atr-tasks/assets/licenses/Apache-2.0.txt");

type DemoResult<T> = Result<T, String>;

fn uid(s: &str) -> UserId {
    UserId::parse(s).expect("demo user ids are valid")
}

fn now() -> Timestamp {
    let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(0))
}

fn person(id: &str, asf_member: bool, admin: bool) -> Person {
    Person { id: uid(id), asf_member, admin, consent: None }
}

fn committee(key: &str, name: &str, pmc: &[&str], committers: &[&str], rms: &[&str]) -> Committee {
    let mut c = Committee::new(CommitteeKey::parse(key).expect("valid"), name);
    c.pmc_members = pmc.iter().copied().map(uid).collect();
    c.committers = committers.iter().copied().map(uid).collect();
    c.release_managers = rms.iter().copied().map(uid).collect();
    c
}

fn source_archive(root: &str, podling: bool) -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    let notice = format!("{root}\nCopyright 2026 The Apache Software Foundation\n");
    let main = "/* Licensed to the Apache Software Foundation (ASF) under one or more contributor license\n * agreements. */\nint main(void) { return 0; }\n";
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (format!("{root}/LICENSE"), APACHE.as_bytes().to_vec()),
        (format!("{root}/NOTICE"), notice.into_bytes()),
        (format!("{root}/src/main.c"), main.as_bytes().to_vec()),
    ];
    if podling {
        files.push((format!("{root}/DISCLAIMER"), b"Apache Wayang is an effort undergoing incubation.\n".to_vec()));
    }
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, data.as_slice()).map_err(|e| e.to_string()).expect("in memory");
    }
    let mut gz = tar.into_inner().expect("in memory");
    let _ = gz.flush();
    gz.finish().expect("in memory")
}

fn sign(cert: &openpgp::Cert, data: &[u8]) -> DemoResult<Vec<u8>> {
    let keypair = cert
        .keys()
        .subkeys()
        .unencrypted_secret()
        .next()
        .ok_or("the demo key has no signing subkey")?
        .key()
        .clone()
        .into_keypair()
        .map_err(|e| e.to_string())?;
    let mut asc = Vec::new();
    let message = Armorer::new(Message::new(&mut asc))
        .kind(openpgp::armor::Kind::Signature)
        .build()
        .map_err(|e| e.to_string())?;
    let mut signer =
        Signer::new(message, keypair).map_err(|e| e.to_string())?.detached().build().map_err(|e| e.to_string())?;
    signer.write_all(data).map_err(|e| e.to_string())?;
    signer.finalize().map_err(|e| e.to_string())?;
    Ok(asc)
}

fn stream(bytes: Vec<u8>) -> ByteStream {
    Box::pin(tokio_util::io::ReaderStream::new(std::io::Cursor::new(bytes)))
}

/// Uploads a signed, checksummed archive as one revision and analyzes it at once.
async fn upload(
    state: &AppState,
    rm: &Principal,
    key: &ReleaseKey,
    cert: &openpgp::Cert,
    podling: bool,
) -> DemoResult<()> {
    let base = match &key.product {
        Some(product) => format!("{}-{product}-{}", key.project, key.version),
        None => format!("{}-{}", key.project, key.version),
    };
    let archive = source_archive(&base, podling);
    let name = format!("{base}.tar.gz");
    let path = |suffix: &str| ReleasePath::parse(&format!("{name}{suffix}")).map_err(|e| e.to_string());
    let changes = vec![
        FileChange::Put { path: path("")?, content: stream(archive.clone()) },
        FileChange::Put { path: path(".asc")?, content: stream(sign(cert, &archive)?) },
        FileChange::Put {
            path: path(".sha512")?,
            content: stream(
                format!(
                    "{}  {name}\n",
                    atr_core::types::Sha512Digest::from_bytes(Sha512::digest(&archive).into()).to_hex()
                )
                .into_bytes(),
            ),
        },
    ];
    let new = state
        .services
        .add_revision(rm, key, None, changes, Some("demo upload".into()), now())
        .await
        .map_err(|e| e.to_string())?;
    // Run the Analyze task now, so the vote can start.
    let handler = atr_tasks::analyze::task::AnalyzeHandler::new(
        state.storage.clone(),
        atr_core::policy::VotePolicy::foundation_default(),
        SignaturePolicy::default(),
    );
    let claimed = state
        .storage
        .sql
        .claim_task(&[<atr_core::model::Analyze as atr_core::model::TaskKind>::NAME], "demo", now_ms(), 60_000)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the analyze task of the demo upload was not queued")?;
    let payload = atr_core::model::task::decode(&claimed.kind, &claimed.args).map_err(|e| e.to_string())?;
    let output = atr_tasks::runner::KindHandler::run(&handler, payload, &claimed).await.map_err(|e| e.to_string())?;
    state
        .storage
        .sql
        .complete_task_with(claimed.id, claimed.fence, &output.completion(), now_ms())
        .await
        .map_err(|e| e.to_string())?;
    let pending =
        TaskRepository::pending(&state.storage.sql, key, new.revision.number).await.map_err(|e| e.to_string())?;
    if pending > 0 {
        return Err("the demo upload still has pending checks".into());
    }
    Ok(())
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}

/// Loads the demo foundation. Returns the demo accounts' names.
pub(crate) async fn load(state: &AppState) -> DemoResult<Vec<String>> {
    let sql = &state.storage.sql;
    if !ProjectRepository::list(sql, PageRequest::first(1)).await.map_err(|e| e.to_string())?.is_empty() {
        return Err("--demo needs an empty database; this one already has projects".into());
    }
    let people = [
        person("root", true, true),
        person("alice", true, false),
        person("bob", false, false),
        person("carol", false, false),
        person("rm", false, false),
        person("dev", false, false),
        person("member", true, false),
        person("visitor", false, false),
    ];
    let hash = atr_http::auth::hash_password(DEMO_PASSWORD);
    for p in &people {
        sql.create_account(&p.id, &hash).await.map_err(|e| e.to_string())?;
        sql.put_person(p).await.map_err(|e| e.to_string())?;
    }
    let mut wayang = committee("wayang", "Apache Wayang (incubating)", &["bob", "carol"], &["dev"], &["rm"]);
    wayang.podling = true;
    wayang.parent = CommitteeKey::parse("incubator").ok();
    for c in [
        committee("httpd", "Apache HTTP Server", &["alice", "bob", "carol"], &["dev"], &["rm"]),
        committee("incubator", "Apache Incubator", &["alice", "member"], &[], &[]),
        wayang,
    ] {
        CommitteeRepository::put(sql, &c).await.map_err(|e| e.to_string())?;
    }
    let instant = PolicyOverrides { min_hours: Some(0), ..PolicyOverrides::default() };
    let httpd = Project {
        key: ProjectKey::parse("httpd").expect("valid"),
        committee: CommitteeKey::parse("httpd").expect("valid"),
        metadata: Metadata { display_name: "Apache HTTP Server".into(), ..Metadata::default() },
        policy: instant.clone(),
        products: vec![Product {
            key: ProductKey::parse("mod-tools").expect("valid"),
            metadata: Metadata { display_name: "httpd tools".into(), ..Metadata::default() },
            policy: PolicyOverrides::default(),
        }],
    };
    let wayang_project = Project {
        key: ProjectKey::parse("wayang").expect("valid"),
        committee: CommitteeKey::parse("wayang").expect("valid"),
        metadata: Metadata { display_name: "Apache Wayang (incubating)".into(), ..Metadata::default() },
        policy: instant,
        products: Vec::new(),
    };
    for p in [&httpd, &wayang_project] {
        ProjectRepository::create(sql, p).await.map_err(|e| e.to_string())?;
    }

    load_releases(state).await?;
    Ok(people.iter().map(|p| p.id.to_string()).collect())
}

/// The release manager's key and the releases in every stage.
async fn load_releases(state: &AppState) -> DemoResult<()> {
    // The release manager's key, generated now, linked to both committees.
    let (cert, _) = CertBuilder::new()
        .add_userid("Demo Release Manager <rm@apache.org>")
        .add_signing_subkey()
        .set_creation_time(SystemTime::now() - Duration::from_hours(1))
        .generate()
        .map_err(|e| e.to_string())?;
    let armored = cert.armored().to_vec().map_err(|e| e.to_string())?;
    let (ring, _) = KeyRing::parse(&armored, &SignaturePolicy::default());
    let rm = Principal::Person(person("rm", false, false));
    for key in ring.signing_keys(now()) {
        for committee in ["httpd", "wayang"] {
            let committee = CommitteeKey::parse(committee).expect("valid");
            state.services.add_key(&rm, key.clone(), &committee, now()).await.map_err(|e| e.to_string())?;
        }
    }

    let release = |project: &str, product: Option<&str>, version: &str| {
        ReleaseKey::new(
            ProjectKey::parse(project).expect("valid"),
            product.map(|p| ProductKey::parse(p).expect("valid")),
            Version::parse(version).expect("valid"),
        )
    };
    let pmc: Vec<Principal> =
        ["alice", "bob", "carol"].iter().map(|id| Principal::Person(person(id, false, false))).collect();
    let services = &state.services;
    let e = |e: atr_core::services::ServiceError| e.to_string();
    // httpd: released, revoked, under vote, draft; a tools product release.
    for (version, product, target) in [
        ("2.4.66", None, "current"),
        ("2.4.67", None, "revoked"),
        ("2.4.68", None, "candidate"),
        ("2.5.0", None, "draft"),
        ("1.0.0", Some("mod-tools"), "current"),
    ] {
        let key = release("httpd", product, version);
        services.start_release(&rm, key.clone(), now()).await.map_err(e)?;
        upload(state, &rm, &key, &cert, false).await?;
        if target == "draft" {
            continue;
        }
        let revision = atr_core::model::RevisionNumber::new(1).expect("1 is a revision");
        services.start_vote(&rm, &key, revision, now()).await.map_err(e)?;
        for voter in &pmc {
            services.cast_ballot(voter, &key, VoteValue::PlusOne, None, now()).await.map_err(e)?;
        }
        let dev = Principal::Person(person("dev", false, false));
        services.cast_ballot(&dev, &key, VoteValue::PlusOne, Some("non-binding +1".into()), now()).await.map_err(e)?;
        if target == "candidate" {
            continue;
        }
        services.resolve_vote(&rm, &key, VoteOutcome::Passed, now()).await.map_err(e)?;
        services.announce(&rm, &key, true, now()).await.map_err(e)?;
        if target == "revoked" {
            services.revoke(&rm, &key, "superseded by 2.4.68 (demo)", now()).await.map_err(e)?;
        }
    }
    // A CVE that affects the revoked release and is resolved by the one under vote.
    let cve = atr_core::types::CveId::parse("CVE-2026-10001").expect("valid");
    let record = atr_core::model::CveRecord {
        id: cve.clone(),
        title: "Demo: a long request header overflows a buffer".into(),
        description: "A made-up advisory of the demo: a request header longer than 64 KiB overflows a buffer.".into(),
        severity: Some(atr_core::model::Severity::Important),
        cvss: Some(atr_core::model::Cvss {
            score_tenths: 75,
            vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H".into(),
        }),
        references: vec!["https://httpd.apache.org/security/vulnerabilities_24.html".into()],
        published_at: Some(now()),
        affects: std::collections::BTreeSet::new(),
        resolved_by: std::collections::BTreeSet::new(),
    };
    let httpd = ProjectKey::parse("httpd").expect("valid");
    services.record_cve(&rm, &httpd, record, now()).await.map_err(e)?;
    services
        .link_cve(&rm, &cve, &release("httpd", None, "2.4.67"), atr_core::model::CveLink::Affects, now())
        .await
        .map_err(e)?;
    services
        .link_cve(&rm, &cve, &release("httpd", None, "2.4.68"), atr_core::model::CveLink::Resolves, now())
        .await
        .map_err(e)?;
    let podling = release("wayang", None, "1.0.0-incubating");
    services.start_release(&rm, podling.clone(), now()).await.map_err(e)?;
    upload(state, &rm, &podling, &cert, true).await?;
    // A visitor who gave consent, so they can vote.
    let visitor = Principal::Person(person("visitor", false, false));
    services.give_consent(&visitor, "Demo Visitor", "visitor@example.org", now()).await.map_err(e)?;
    Ok(())
}
