//! The wire types write exactly the JSON the API answered before they existed (the core's serde
//! form), read it back unchanged, and conform to the schemas of the generated document.

use std::collections::{BTreeMap, BTreeSet};

use atr_core::auth::{Activity as CoreActivity, MachineToken};
use atr_core::model as core;
use atr_core::policy;
use atr_core::tally;
use atr_core::types::{
    CommitteeKey, CveId, Fingerprint, ProductKey, ProjectKey, ReleasePath, Sha3_256Digest, Sha512Digest, Stage,
    Timestamp, UserId, Version,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::endpoints::{ENDPOINTS, Method};
use crate::*;

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix(seconds)
}

fn path(s: &str) -> ReleasePath {
    ReleasePath::parse(s).unwrap()
}

fn fingerprint(byte: &str) -> Fingerprint {
    Fingerprint::parse(&byte.repeat(20)).unwrap()
}

fn key(product: Option<&str>) -> core::ReleaseKey {
    core::ReleaseKey::new(
        ProjectKey::parse("httpd").unwrap(),
        product.map(|p| ProductKey::parse(p).unwrap()),
        Version::parse("2.4.68").unwrap(),
    )
}

fn overrides() -> policy::PolicyOverrides {
    policy::PolicyOverrides {
        min_hours: Some(96),
        mode: Some(policy::VoteMode::Ballot),
        pass_rule: Some(policy::PassRule { min_binding_plus_one: 2, majority_of_binding: false }),
        vote_recipients: Some(vec!["dev@httpd.apache.org".into()]),
        checklist: Some("check it".into()),
        ..policy::PolicyOverrides::default()
    }
}

fn vote() -> core::VoteRecord {
    core::VoteRecord {
        revision: core::RevisionNumber::new(3).unwrap(),
        round: core::VoteRound::Parent,
        started_at: at(100),
        started_by: uid("rm"),
        closes_at: at(200),
        policy: policy::VotePolicy::foundation_default(),
        binding_committee: CommitteeKey::parse("incubator").unwrap(),
        binding_voters: [uid("alice"), uid("bob")].into(),
        signing_keys: [fingerprint("AB"), fingerprint("01")].into(),
        outcome: Some(core::VoteOutcome::Cancelled),
        resolved_at: Some(at(300)),
    }
}

fn release() -> core::Release {
    let mut release =
        core::Release::new_draft(key(Some("mod-tools")), CommitteeKey::parse("httpd").unwrap(), uid("rm"), at(10));
    release.phase = core::Phase::Candidate;
    release.state = core::ReleaseState::AtRest;
    release.revocation = Some(core::Revocation { at: at(400), by: uid("rm"), reason: "superseded".into() });
    release.latest_revision = core::RevisionNumber::new(3);
    release.policy = overrides();
    release.vote = Some(vote());
    release.signing_keys = [fingerprint("CD")].into();
    release.cves_affecting = [CveId::parse("CVE-2026-1234").unwrap()].into();
    release.sboms = vec![path("sbom.cdx.json")];
    release.released_at = Some(at(500));
    release
}

fn file(name: &str) -> core::FileEntry {
    core::FileEntry {
        path: path(name),
        size: 42,
        sha512: Sha512Digest::from_bytes([7; 64]),
        sha3_256: Sha3_256Digest::from_bytes([9; 32]),
    }
}

fn revision() -> core::Revision {
    core::Revision {
        release: key(None),
        number: core::RevisionNumber::new(2).unwrap(),
        parent: core::RevisionNumber::new(1),
        phase: core::Phase::Draft,
        created_at: at(20),
        created_by: uid("rm"),
        description: Some("upload".into()),
        files: vec![file("a/b.tar.gz"), file("a/b.tar.gz.asc")],
    }
}

fn check(status: core::CheckStatus, with_path: bool) -> core::CheckResult {
    core::CheckResult {
        release: key(None),
        revision: core::RevisionNumber::FIRST,
        checker: "signature".into(),
        checker_version: "1".into(),
        path: with_path.then(|| path("a.tar.gz")),
        member: with_path.then(|| "a/LICENSE".to_owned()),
        status,
        message: "ok".into(),
        at: at(30),
    }
}

fn ballot(voter: core::Voter, source: core::BallotSource) -> core::Ballot {
    core::Ballot {
        release: key(None),
        round: core::VoteRound::Committee,
        voter,
        value: core::VoteValue::MinusZero,
        comment: Some("hm".into()),
        cast_at: at(40),
        source,
    }
}

fn tally_of() -> tally::Tally {
    let ballots = vec![
        ballot(core::Voter::User(uid("alice")), core::BallotSource::Platform),
        ballot(core::Voter::Email("x@example.org".into()), core::BallotSource::Mail { message_id: "<m@x>".into() }),
        ballot(core::Voter::Anonymous("visitor 1".into()), core::BallotSource::Platform),
    ];
    let mut record = vote();
    record.round = core::VoteRound::Committee;
    tally::tally(&ballots, &record, at(150))
}

fn every_event_kind() -> Vec<core::EventKind> {
    use core::EventKind as K;
    let n = core::RevisionNumber::FIRST;
    let round = core::VoteRound::Committee;
    let id = CveId::parse("CVE-2026-1234").unwrap();
    vec![
        K::ReleaseStarted,
        K::RevisionCreated { revision: n, files: 3 },
        K::ChecksRecorded {
            revision: n,
            worst: Some(core::CheckStatus::Warning),
            results: 4,
            counts: core::CheckCounts { blockers: 0, warnings: 1, notes: 2, successes: 1, exceptions: 0 },
        },
        K::ChecksRecorded { revision: n, worst: None, results: 0, counts: core::CheckCounts::default() },
        K::VoteStarted { revision: n, round, closes_at: at(5) },
        K::BallotCast { round, value: core::VoteValue::PlusOne, binding: true },
        K::VoteTallied { round, binding_plus: 3, binding_minus: 1, passes: true },
        K::VoteResolved { round, outcome: core::VoteOutcome::Passed },
        K::PhaseChanged { from: core::Phase::Candidate, to: core::Phase::Preview },
        K::Announced { revision: n },
        K::Revoked { reason: "why".into() },
        K::PolicyChanged,
        K::MetadataChanged,
        K::KeyAdded { fingerprint: fingerprint("AA") },
        K::KeyLinked { fingerprint: fingerprint("AA"), committee: CommitteeKey::parse("httpd").unwrap() },
        K::KeyDeleted { fingerprint: fingerprint("AA") },
        K::CveRecorded { id: id.clone() },
        K::CveLinked { id, link: core::CveLink::Resolves },
        K::DistributionRecorded { platform: core::Platform::PyPi, environment: core::Environment::Staging },
        K::ConsentGiven,
        K::ConsentRevoked,
        K::IgnoreAdded,
        K::IgnoreDeleted { id: 12 },
        K::DraftDeleted { revisions: 3 },
    ]
}

fn events() -> Vec<core::Event> {
    let actors = [
        core::Actor::User(uid("rm")),
        core::Actor::Token { owner: uid("rm"), token: "t1".into() },
        core::Actor::System,
    ];
    every_event_kind()
        .into_iter()
        .enumerate()
        .map(|(i, kind)| {
            let actor = actors[i % actors.len()].clone();
            let event = if i % 2 == 0 {
                core::NewEvent::for_release(at(60), actor, &key(Some("mod-tools")), kind)
            } else {
                core::NewEvent::global(at(60), actor, kind)
            };
            core::Event { id: i as u64 + 1, event }
        })
        .collect()
}

fn project() -> core::Project {
    core::Project {
        key: ProjectKey::parse("httpd").unwrap(),
        committee: CommitteeKey::parse("httpd").unwrap(),
        metadata: core::Metadata {
            display_name: "Apache HTTP Server".into(),
            description: Some("a server".into()),
            homepage: Some("https://httpd.apache.org".into()),
            repository: None,
            issue_tracker: None,
        },
        policy: overrides(),
        products: vec![core::Product {
            key: ProductKey::parse("mod-tools").unwrap(),
            metadata: core::Metadata { display_name: "tools".into(), ..core::Metadata::default() },
            policy: policy::PolicyOverrides::default(),
        }],
    }
}

fn committee() -> core::Committee {
    let mut c = core::Committee::new(CommitteeKey::parse("wayang").unwrap(), "Apache Wayang");
    c.pmc_members = [uid("carol"), uid("bob")].into();
    c.committers = [uid("dev")].into();
    c.podling = true;
    c.parent = CommitteeKey::parse("incubator").ok();
    c
}

fn cve() -> core::CveRecord {
    core::CveRecord {
        id: CveId::parse("CVE-2026-1234").unwrap(),
        title: "bad".into(),
        description: "very".into(),
        severity: Some(core::Severity::Important),
        cvss: core::Cvss::new(98, "CVSS:3.1/AV:N"),
        references: vec!["https://example.org".into()],
        published_at: Some(at(70)),
        affects: [key(None), key(Some("mod-tools"))].into(),
        resolved_by: BTreeSet::new(),
    }
}

fn person() -> core::Person {
    core::Person {
        id: uid("visitor"),
        asf_member: false,
        admin: true,
        consent: Some(core::Consent {
            user: uid("visitor"),
            name: "V".into(),
            email: "v@example.org".into(),
            given_at: at(80),
            revoked_at: Some(at(90)),
        }),
    }
}

fn signing_key() -> core::SigningKey {
    core::SigningKey {
        fingerprint: fingerprint("A9"),
        owner: Some(uid("rm")),
        algorithm: "RSA".into(),
        bits: Some(4096),
        created_at: at(1),
        expires_at: None,
        revoked: false,
        user_ids: vec!["RM <rm@apache.org>".into()],
        armored: "-----BEGIN PGP PUBLIC KEY BLOCK-----".into(),
        committees: [CommitteeKey::parse("httpd").unwrap(), CommitteeKey::parse("wayang").unwrap()].into(),
        added_at: at(2),
    }
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

/// The wire value writes the core's JSON, and reads it back to itself.
fn same<W: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(wire: &W, core: &impl Serialize) {
    let expected = to_json(core);
    assert_eq!(to_json(wire), expected);
    let read: W = serde_json::from_value(expected).unwrap();
    assert_eq!(&read, wire);
}

#[test]
fn entities_write_the_json_the_api_answered() {
    let release = release();
    same(&Release::from(&release), &release);
    let mut draft = core::Release::new_draft(key(None), CommitteeKey::parse("httpd").unwrap(), uid("rm"), at(1));
    same(&Release::from(&draft), &draft);
    draft.state = core::ReleaseState::Distributing;
    draft.phase = core::Phase::Release;
    same(&Release::from(&draft), &draft);
    let revision = revision();
    same(&Revision::from(&revision), &revision);
    for status in [core::CheckStatus::Blocker, core::CheckStatus::Exception, core::CheckStatus::Success] {
        let result = check(status, status == core::CheckStatus::Blocker);
        same(&CheckResult::from(&result), &result);
    }
    let listing = core::derive_packages(revision.files.iter().map(|f| &f.path).chain([&path("lost.asc")]));
    same(&PackageListing::from(&listing), &listing);
    let project = project();
    same(&Project::from(&project), &project);
    let effective = policy::VotePolicy::foundation_default();
    same(&VotePolicy::from(&effective), &effective);
    same(&Committee::from(&committee()), &committee());
    same(&CveRecord::from(&cve()), &cve());
    same(&Person::from(&person()), &person());
    for event in events() {
        same(&Event::from(&event), &event);
    }
    let tally = tally_of();
    assert_eq!(tally.votes.len(), 3);
    same(&Tally::from(&tally), &tally);
    for b in [
        ballot(core::Voter::User(uid("alice")), core::BallotSource::Platform),
        ballot(core::Voter::Email("x@example.org".into()), core::BallotSource::Mail { message_id: "<m@x>".into() }),
    ] {
        same(&Ballot::from(&b), &b);
    }
    let task = core::Task {
        id: 7,
        descriptor: core::TaskDescriptor::of(&core::Analyze {
            release: key(None),
            revision: core::RevisionNumber::FIRST,
            force: false,
        })
        .unwrap(),
        status: core::TaskStatus::Queued,
        attempts: 0,
        error: None,
    };
    same(&QueuedTask::from(&task), &task);
    let mut unbound = task.clone();
    unbound.descriptor.subject = None;
    same(&QueuedTask::from(&unbound), &unbound);
    let new = atr_core::services::NewRevision { revision, analyze: task.clone() };
    same(&NewRevision::from(&new), &json!({ "revision": new.revision, "analyze_task": new.analyze }));
    for stage in Stage::ALL {
        same(&crate::Stage::from(stage), &stage);
    }
}

#[test]
fn views_write_the_json_the_api_answered() {
    let key = signing_key();
    let summary = json!({
        "fingerprint": key.fingerprint, "key_id": key.fingerprint.key_id().to_hex(), "owner": key.owner,
        "algorithm": key.algorithm, "bits": key.bits, "created_at": key.created_at, "expires_at": key.expires_at,
        "revoked": key.revoked, "user_ids": key.user_ids, "committees": key.committees, "added_at": key.added_at,
    });
    same(&SigningKey::summary(&key), &summary);
    let mut full = summary;
    full["armored"] = json!(key.armored);
    same(&SigningKey::full(&key), &full);

    let grant = MachineToken::new(
        "abc_1".into(),
        uid("rm"),
        [ProjectKey::parse("httpd").unwrap()].into(),
        [CoreActivity::PerformActions, CoreActivity::ManageRelease].into(),
        at(1),
        at(2),
    )
    .unwrap();
    let view = json!({
        "id": "abc_1", "owner": "rm", "projects": ["httpd"], "activities": ["manage_release", "perform_actions"],
        "created_at": 1, "expires_at": 2,
    });
    same(&Grant::from(&grant), &view);
    let token = Token::new(&grant, "ci", TokenStatus::Revoked, Some(at(3)), None);
    let mut stored = view.clone();
    for (field, value) in [("name", json!("ci")), ("status", json!("revoked")), ("revoked_at", json!(3))] {
        stored[field] = value;
    }
    stored["last_used_at"] = Value::Null;
    same(&token, &stored);
    let mut created = stored.clone();
    created["token"] = json!("atr_abc_1_secret");
    same(&CreatedToken::new("atr_abc_1_secret".into(), token), &created);
    for activity in CoreActivity::ALL {
        same(&Activity::from(activity), &activity);
    }
}

#[test]
fn request_bodies_read_what_clients_send() {
    let cases: Vec<(Value, Value)> = vec![
        (to_json(&NewRelease { version: "1.0".into(), product: None }), json!({ "version": "1.0" })),
        (to_json(&CastBallot { value: VoteValue::PlusOne, comment: None }), json!({ "value": "+1", "comment": null })),
        (to_json(&ResolveVote { outcome: VoteOutcome::Passed }), json!({ "outcome": "passed" })),
        (to_json(&Announce { confirmed: true }), json!({ "confirmed": true })),
        (
            to_json(&CveFields {
                title: "t".into(),
                description: String::new(),
                severity: Some(Severity::Low),
                cvss: None,
                references: vec![],
                published_at: None,
            }),
            json!({ "title": "t", "severity": "low" }),
        ),
        (
            to_json(&NewCveLink { id: "CVE-2026-1".into(), link: CveLink::Affects }),
            json!({ "id": "CVE-2026-1", "link": "affects" }),
        ),
    ];
    for (written, expected) in cases {
        assert_eq!(written, expected);
    }
    let people: CommitteePeople =
        serde_json::from_value(json!({ "parent": null, "pmc_members": [], "committers": [] })).unwrap();
    assert_eq!(people.parent, Some(None), "a null parent is present");
    let people: CommitteePeople = serde_json::from_value(json!({ "pmc_members": [], "committers": [] })).unwrap();
    assert_eq!(people.parent, None, "an absent parent is absent");
    assert!(serde_json::from_value::<NewRelease>(json!({ "version": "1", "x": 1 })).is_err(), "unknown fields");
    let overrides: PolicyOverrides = serde_json::from_value(to_json(&overrides())).unwrap();
    assert_eq!(to_json(&overrides), to_json(&self::overrides()));
}

/// A validator of one component schema of the document.
fn validator(document: &Value, name: &str) -> jsonschema::Validator {
    let schema = json!({ "$ref": format!("#/components/schemas/{name}"), "components": document["components"] });
    jsonschema::options().offline().build(&schema).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn conforms(document: &Value, name: &str, value: &impl Serialize) {
    let value = to_json(value);
    let validator = validator(document, name);
    let errors: Vec<String> = validator.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{name} does not conform: {errors:?}\n{value:#}");
}

#[test]
fn answers_conform_to_the_document() {
    let document: Value = serde_json::from_str(&openapi::document_json()).unwrap();
    conforms(&document, "Release", &Release::from(&release()));
    conforms(&document, "Revision", &Revision::from(&revision()));
    conforms(&document, "Project", &Project::from(&project()));
    conforms(&document, "Committee", &Committee::from(&committee()));
    conforms(&document, "CveRecord", &CveRecord::from(&cve()));
    conforms(&document, "Tally", &Tally::from(&tally_of()));
    conforms(&document, "SigningKey", &SigningKey::full(&signing_key()));
    conforms(
        &document,
        "Me",
        &Me { person: Person::from(&person()), signed_in_with: SignedInWith::Session, token: None },
    );
    for event in events() {
        conforms(&document, "Event", &Event::from(&event));
    }
    for status in [core::CheckStatus::Blocker, core::CheckStatus::Note] {
        conforms(&document, "CheckResult", &CheckResult::from(&check(status, true)));
    }
    conforms(&document, "AuditReport", &json!({ "intact": true, "events": 3, "head": "ab" }));
    conforms(&document, "AuditReport", &json!({ "intact": false, "error": "changed", "broken_at": null }));
    let error = json!({ "error": { "code": "not_found", "message": "x", "details": null } });
    conforms(&document, "ErrorBody", &error);
    let errors = validator(&document, "ErrorBody").iter_errors(&json!({ "error": { "code": "x" } })).count();
    assert!(errors > 0, "the error shape needs its message");
    let runner = atr_core::ports::RunnerRecord {
        id: "build1-42-0a1b2c3d".into(),
        name: "build1-42".into(),
        host: "build1".into(),
        pid: 42,
        kinds: vec!["analyze".into()],
        concurrency: 2,
        started_at_ms: 1_750_000_000_000,
        last_seen_ms: 1_750_000_010_000,
        stopped_at_ms: None,
    };
    let no_runner = atr_core::services::NoRunner { kind: "analyze".into(), last_seen: Some(at(1_750_000_010)) };
    let report = atr_core::services::QueueReport {
        counts: vec![atr_core::ports::TaskCount { kind: "analyze".into(), status: core::TaskStatus::Queued, count: 1 }],
        runners: vec![atr_core::services::RunnerView { runner: runner.clone(), live: false }],
        waiting: vec![no_runner.clone()],
    };
    let status = QueueStatus::from(&report);
    assert_eq!(status.kinds["analyze"], StatusCounts { queued: 1, ..StatusCounts::default() });
    assert_eq!(status.total.queued, 1);
    assert_eq!(status.runners[0].last_seen_ms, 1_750_000_010_000);
    assert_eq!(status.waiting[0].message, "waiting for a task runner; none has been seen since 2025-06-15T15:06:50Z");
    conforms(&document, "QueueStatus", &status);
    // An answer of a service from before the runners were listed still reads.
    let older: QueueStatus = serde_json::from_value(json!({ "kinds": {}, "total": status.total })).unwrap();
    assert!(older.runners.is_empty() && older.waiting.is_empty());
    for progress in [
        atr_core::services::ChecksProgress::Completed { at: at(1_750_000_000) },
        atr_core::services::ChecksProgress::WaitingForRunner { pending: 1, runner: no_runner },
        atr_core::services::ChecksProgress::Failed {
            task: 7,
            failure: atr_core::services::task_failure("timed out after 1 s"),
        },
    ] {
        let core_status = atr_core::services::ChecksStatus {
            release: key(None),
            revision: core::RevisionNumber::new(3).unwrap(),
            progress,
        };
        let wire = ChecksStatus::from(&core_status);
        assert_eq!(wire.message, core_status.progress.to_string());
        assert_eq!(wire.completed, core_status.progress.completed());
        conforms(&document, "ChecksStatus", &wire);
    }
    let waiting = ChecksStatus::from(&atr_core::services::ChecksStatus {
        release: key(None),
        revision: core::RevisionNumber::new(3).unwrap(),
        progress: atr_core::services::ChecksProgress::WaitingForRunner {
            pending: 2,
            runner: atr_core::services::NoRunner { kind: "analyze".into(), last_seen: None },
        },
    });
    same(
        &waiting,
        &json!({
            "revision": 3, "state": "waiting_for_runner", "completed": false, "moving": false, "pending": 2,
            "message": "waiting for a task runner; none has ever run against this database",
            "completed_at": null, "runner_last_seen": null, "task": null, "error_code": null,
        }),
    );
    for subject in [
        atr_core::search::SearchSubject::Project(key(None).project),
        atr_core::search::SearchSubject::Release(key(Some("server"))),
        atr_core::search::SearchSubject::Key(fingerprint("ab")),
        atr_core::search::SearchSubject::Cve(cve().id),
    ] {
        let hit = atr_core::search::SearchHit { subject, label: "a label".into() };
        conforms(&document, "SearchHit", &SearchHit::from(&hit));
    }
}

#[test]
fn search_hits_name_what_they_found_by_its_kind() {
    let hit = |subject| to_json(&SearchHit::from(&atr_core::search::SearchHit { subject, label: "l".into() }));
    assert_eq!(
        hit(atr_core::search::SearchSubject::Release(key(Some("server")))),
        json!({
            "kind": "release", "project": "httpd", "fingerprint": null, "cve": null, "label": "l",
            "release": { "project": "httpd", "product": "server", "version": "2.4.68" },
        })
    );
    let cve_hit = hit(atr_core::search::SearchSubject::Cve(cve().id));
    assert_eq!((cve_hit["kind"].as_str(), cve_hit["cve"].as_str()), (Some("cve"), Some(cve().id.as_str())));
    assert!(cve_hit["project"].is_null() && cve_hit["release"].is_null());
}

#[test]
fn every_operation_is_described_once_with_its_schemas() {
    let document: Value = serde_json::from_str(&openapi::document_json()).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let mut ids = BTreeSet::new();
    let mut routes = BTreeSet::new();
    for endpoint in ENDPOINTS {
        assert!(ids.insert(endpoint.id), "operation id {} twice", endpoint.id);
        assert!(
            routes.insert((endpoint.method, endpoint.path)),
            "{} {} twice",
            endpoint.method.as_str(),
            endpoint.path
        );
        assert!(!endpoint.summary().is_empty() && !endpoint.success.is_empty(), "{}", endpoint.id);
        let method = endpoint.method.as_str().to_ascii_lowercase();
        let operation = &document["paths"][endpoint.path][&method];
        assert_eq!(operation["operationId"], endpoint.id);
        let responses = operation["responses"].as_object().unwrap();
        for status in endpoint.errors.iter().chain(&[500]) {
            let reference = &responses[&status.to_string()]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(reference, "#/components/schemas/ErrorBody", "{} {status}", endpoint.id);
        }
        let params: Vec<&str> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(params, endpoint.path_params().collect::<Vec<_>>(), "{}", endpoint.id);
        let writes = matches!(endpoint.method, Method::Post | Method::Put);
        let has_json_body = !operation["requestBody"]["content"]["application/json"].is_null();
        if has_json_body {
            assert!(writes || endpoint.method == Method::Delete, "{} has a body", endpoint.id);
            assert!(
                endpoint.errors.contains(&415) && endpoint.errors.contains(&422),
                "{}: JSON bodies can be refused",
                endpoint.id
            );
        }
    }
    // Every reference points at a schema of the document.
    let text = document.to_string();
    for (i, _) in text.match_indices("#/components/schemas/") {
        let name: String = text[i + 21..].chars().take_while(|c| *c != '"').collect();
        assert!(schemas.contains_key(&name), "{name} is referenced but not described");
    }
    // One name, one schema: a second type of the same name would silently replace the first.
    let mut gathered = Vec::new();
    for endpoint in ENDPOINTS {
        (endpoint.request)(&mut gathered);
        (endpoint.response)(&mut gathered);
    }
    let mut by_name: BTreeMap<String, Value> = BTreeMap::new();
    for (name, schema) in gathered {
        let schema = to_json(&schema);
        if let Some(other) = by_name.insert(name.clone(), schema.clone()) {
            assert_eq!(other, schema, "two different schemas are named {name}");
        }
    }
}

#[test]
fn paths_are_filled_and_routed() {
    let put = <endpoints::PutFile as Operation>::ENDPOINT;
    assert_eq!(put.route(), "/api/projects/{project}/releases/{version}/files/{*path}");
    let filled = put.fill(&[("project", "httpd"), ("version", "2.4.68+rc 1"), ("path", "a b/c.tar.gz")]);
    assert_eq!(filled, "/api/projects/httpd/releases/2.4.68+rc%201/files/a%20b/c.tar.gz");
    let tally = <endpoints::GetTally as Operation>::ENDPOINT;
    assert_eq!(tally.route(), tally.path);
    assert_eq!(tally.fill(&[("project", "a/b")]), "/api/projects/a%2Fb/releases/{version}/tally");
}

#[test]
fn tasks_write_the_json_the_api_answered() {
    let record = atr_core::ports::TaskRecord {
        id: 3,
        kind: "analyze".into(),
        args: json!({ "release": key(None), "revision": 1 }),
        release: Some(key(None)),
        status: core::TaskStatus::Failed,
        priority: 0,
        attempts: 3,
        max_attempts: 3,
        created_at_ms: 1,
        scheduled_at_ms: 2,
        started_at_ms: Some(3),
        finished_at_ms: None,
        error: None,
        result: Some(json!({ "checks": 4 })),
    };
    let failure = atr_core::services::task_failure("boom: table tasks is locked");
    let view = atr_core::services::TaskView { task: record.clone(), failure: Some(failure) };
    let task = &view.task;
    let expected = json!({
        "id": task.id, "kind": task.kind, "args": task.args, "status": task.status, "priority": task.priority,
        "attempts": task.attempts, "max_attempts": task.max_attempts, "created_at_ms": task.created_at_ms,
        "scheduled_at_ms": task.scheduled_at_ms, "started_at_ms": task.started_at_ms,
        "finished_at_ms": task.finished_at_ms, "error": failure.message, "error_code": failure.code,
        "result": task.result,
    });
    let wire = Task::from(&view);
    same(&wire, &expected);
    assert_eq!(wire.error_code.as_deref(), Some("failed"));
    let args = wire.revision_args().unwrap();
    assert_eq!((args.release.project.as_str(), args.revision), ("httpd", 1));
}
