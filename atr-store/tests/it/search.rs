//! The search index on every engine: each kind found by each of its identifiers, as a prefix and
//! in any case; hostile text answered, never a storage error; the limit; ranking; writes (and a
//! refused change) reflected at once; the migration filling the index from existing rows.

use std::collections::BTreeSet;

use atr_core::model::{CveRecord, Metadata, Product, Project, Release, ReleaseKey, SigningKey};
use atr_core::policy::PolicyOverrides;
use atr_core::ports::{
    Change, CommitteeRepository, CveRepository, KeyRepository, ProjectRepository, ReleaseRepository, SearchIndex,
    StoreError, UnitOfWork, Write,
};
use atr_core::search::{SearchError, SearchKind, SearchSubject, SearchTerms};
use atr_core::types::{CommitteeKey, CveId, Fingerprint, ProductKey, ProjectKey, Timestamp, UserId, Version};
use atr_store::sql::SqlStore;
use atr_store::testing::databases;

const T0: Timestamp = Timestamp::from_unix(1_750_000_000);
const FPR: &str = "A93D62ECC3C8EA12DB220EC934EA76E6791485A8";
const FPR_OTHER: &str = "B0A1C2D3E4F5061728394A5B6C7D8E9FA0B1C2D3";

fn project(key: &str, name: &str, description: &str, products: &[&str]) -> Project {
    Project {
        key: ProjectKey::parse(key).unwrap(),
        committee: CommitteeKey::parse("httpd").unwrap(),
        metadata: Metadata { display_name: name.into(), description: Some(description.into()), ..Metadata::default() },
        policy: PolicyOverrides::default(),
        products: products
            .iter()
            .map(|p| Product {
                key: ProductKey::parse(p).unwrap(),
                metadata: Metadata { display_name: format!("The {p} product"), ..Metadata::default() },
                policy: PolicyOverrides::default(),
            })
            .collect(),
    }
}

fn release_key(project: &str, product: Option<&str>, version: &str) -> ReleaseKey {
    ReleaseKey::new(
        ProjectKey::parse(project).unwrap(),
        product.map(|p| ProductKey::parse(p).unwrap()),
        Version::parse(version).unwrap(),
    )
}

fn release(project: &str, product: Option<&str>, version: &str) -> Release {
    let key = release_key(project, product, version);
    Release::new_draft(key, CommitteeKey::parse("httpd").unwrap(), UserId::parse("rm").unwrap(), T0)
}

fn signing_key(fingerprint: &str, name: &str, owner: &str) -> SigningKey {
    SigningKey {
        fingerprint: Fingerprint::parse(fingerprint).unwrap(),
        owner: Some(UserId::parse(owner).unwrap()),
        algorithm: "RSA".into(),
        bits: Some(4096),
        created_at: T0,
        expires_at: None,
        revoked: false,
        user_ids: vec![format!("{name} <{owner}@apache.org>")],
        armored: "-----BEGIN PGP PUBLIC KEY BLOCK-----".into(),
        committees: BTreeSet::from([CommitteeKey::parse("httpd").unwrap()]),
        added_at: T0,
    }
}

fn cve(id: &str, title: &str, description: &str) -> CveRecord {
    CveRecord {
        id: CveId::parse(id).unwrap(),
        title: title.into(),
        description: description.into(),
        severity: None,
        cvss: None,
        references: vec![],
        published_at: None,
        affects: BTreeSet::new(),
        resolved_by: BTreeSet::new(),
    }
}

/// Two projects (one with a product), releases, two keys and two CVE records.
async fn seed(store: &SqlStore) {
    let mut committee = atr_core::model::Committee::new(CommitteeKey::parse("httpd").unwrap(), "HTTP Server");
    committee.pmc_members.insert(UserId::parse("chair").unwrap());
    CommitteeRepository::put(store, &committee).await.unwrap();
    let projects = [
        project("httpd", "Apache HTTP Server", "The web server of the foundation.", &["mod-ssl"]),
        project("tomcat", "Apache Tomcat", "A servlet container, often run behind httpd.", &[]),
    ];
    for p in &projects {
        ProjectRepository::create(store, p).await.unwrap();
    }
    for (project, product, version) in [
        ("httpd", None, "2.4.68"),
        ("httpd", None, "2.4.9"),
        ("httpd", None, "1.2.4"),
        ("httpd", Some("mod-ssl"), "2.4.1"),
        ("tomcat", None, "10.1.0-M1"),
    ] {
        ReleaseRepository::create(store, &release(project, product, version)).await.unwrap();
    }
    KeyRepository::upsert(store, &signing_key(FPR, "Jane Doe", "jane")).await.unwrap();
    KeyRepository::upsert(store, &signing_key(FPR_OTHER, "Rob Roe", "rob")).await.unwrap();
    CveRepository::put(store, &cve("CVE-2024-1234", "Path traversal in mod_rewrite", "Files outside the root."))
        .await
        .unwrap();
    CveRepository::put(store, &cve("CVE-2025-55555", "Request smuggling", "A proxy mishandles chunked bodies."))
        .await
        .unwrap();
}

/// What a search finds, each hit as `kind:identity`, in the order answered.
async fn found(store: &SqlStore, text: &str) -> Vec<String> {
    found_with(store, text, 10).await
}

async fn found_with(store: &SqlStore, text: &str, limit: u32) -> Vec<String> {
    let terms = SearchTerms::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    let hits = SearchIndex::search(store, &terms, limit).await.unwrap_or_else(|e| panic!("{text:?}: {e}"));
    hits.iter()
        .map(|hit| match &hit.subject {
            SearchSubject::Project(key) => format!("project:{key}"),
            SearchSubject::Release(key) => match &key.product {
                Some(product) => format!("release:{}/{product}/{}", key.project, key.version),
                None => format!("release:{}/{}", key.project, key.version),
            },
            SearchSubject::Key(fingerprint) => format!("key:{fingerprint}"),
            SearchSubject::Cve(id) => format!("cve:{id}"),
        })
        .collect()
}

/// Only the hits of one kind.
fn of(kind: &str, hits: &[String]) -> Vec<String> {
    hits.iter().filter(|h| h.starts_with(&format!("{kind}:"))).cloned().collect()
}

#[tokio::test]
async fn each_kind_is_found_by_each_of_its_identifiers_in_any_case_and_as_a_prefix() {
    for db in databases().await {
        let store = &db.store;
        seed(store).await;
        let engine = format!("{:?}", store.engine());

        // Projects: by key, a prefix of it, a word of the name or description, a product key.
        // (Tomcat's description mentions httpd: it comes second.)
        for text in ["httpd", "HTTPD", "http", "Apache HTTP"] {
            assert_eq!(
                of("project", &found(store, text).await),
                ["project:httpd", "project:tomcat"],
                "{engine}: {text}"
            );
        }
        for text in ["foundation", "mod-ssl", "MOD-SSL"] {
            assert_eq!(of("project", &found(store, text).await), ["project:httpd"], "{engine}: {text}");
        }
        assert_eq!(of("project", &found(store, "servlet").await), ["project:tomcat"], "{engine}");
        assert_eq!(of("project", &found(store, "apache").await).len(), 2, "{engine}");

        // Releases: a version prefix finds the versions it starts, not one that merely contains it.
        assert_eq!(
            of("release", &found(store, "2.4").await),
            ["release:httpd/2.4.68", "release:httpd/2.4.9", "release:httpd/mod-ssl/2.4.1"],
            "{engine}"
        );
        assert_eq!(of("release", &found(store, "2.4.68").await), ["release:httpd/2.4.68"], "{engine}");
        assert_eq!(of("release", &found(store, "1.2").await), ["release:httpd/1.2.4"], "{engine}");
        assert_eq!(of("release", &found(store, "10.1.0-m1").await), ["release:tomcat/10.1.0-M1"], "{engine}");
        assert_eq!(of("release", &found(store, "tomcat 10").await), ["release:tomcat/10.1.0-M1"], "{engine}");
        assert_eq!(of("release", &found(store, "mod-ssl 2.4").await), ["release:httpd/mod-ssl/2.4.1"], "{engine}");
        assert!(of("release", &found(store, "2.5").await).is_empty(), "{engine}");

        // Keys: the fingerprint in either case, in groups, with 0x, as a prefix; the key id;
        // a user id's name and address; the owner.
        let jane = format!("key:{FPR}");
        let grouped: Vec<String> =
            FPR.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap().to_owned()).collect();
        for text in [
            FPR.to_owned(),
            FPR.to_lowercase(),
            grouped.join(" "),
            format!("0x{FPR}"),
            FPR[..12].to_owned(),
            FPR[24..].to_owned(),
            FPR[24..].to_lowercase(),
            format!("0x{}", &FPR[24..]),
            "Jane".to_owned(),
            "jane doe".to_owned(),
            "jane@apache.org".to_owned(),
            "JANE@APACHE.ORG".to_owned(),
        ] {
            assert_eq!(of("key", &found(store, &text).await), std::slice::from_ref(&jane), "{engine}: {text}");
        }
        assert_eq!(of("key", &found(store, "apache.org").await).len(), 2, "{engine}");

        // CVEs: the id in any case, a prefix of it, a word of the title or the description.
        for text in ["CVE-2024-1234", "cve-2024-1234", "Cve-2024", "traversal", "outside root"] {
            assert_eq!(of("cve", &found(store, text).await), ["cve:CVE-2024-1234"], "{engine}: {text}");
        }
        assert_eq!(of("cve", &found(store, "cve").await).len(), 2, "{engine}");
        assert!(found(store, "nothing-like-this").await.is_empty(), "{engine}");
        db.finish().await;
    }
}

#[tokio::test]
async fn hostile_text_gives_results_or_a_clear_refusal_never_a_storage_error() {
    for db in databases().await {
        let store = &db.store;
        seed(store).await;
        let engine = format!("{:?}", store.engine());
        for text in [
            "\"",
            "\"httpd",
            "httpd\"",
            "httpd*",
            "*",
            "-httpd",
            "httpd-",
            "(httpd)",
            "^httpd",
            "ident:httpd",
            "{ident words}: httpd",
            "'httpd'",
            "httpd'",
            "\\httpd",
            "httpd\\",
            "httpd\0",
            "\0",
            "httpd AND NOT tomcat",
            "NEAR(httpd tomcat)",
            "httpd OR",
            "'; DROP TABLE projects; --",
            "a:* & !b | c <-> d",
            "x''y",
            "2.4 +x",
            "é ü 中文",
            "\u{202e}httpd",
            "httpd\u{0301}",
            // Letters to Rust that the FTS5 tokenizer drops (a vowel sign), and a superscript digit.
            "\u{093e}",
            "x\u{093e}y",
            "\u{b2}",
            "..",
            "@@",
            "--",
        ] {
            match SearchTerms::parse(text) {
                Ok(terms) => {
                    let answer = SearchIndex::search(store, &terms, 10).await;
                    assert!(answer.is_ok(), "{engine}: {text:?} gave {answer:?}");
                }
                Err(SearchError::NoTerms) => {}
                Err(other) => panic!("{text:?}: {other}"),
            }
        }
        // Quoting syntax is only separation: these still find what their words name.
        for text in ["\"httpd\"*", "(httpd)", "{httpd}:", "httpd\0", "-httpd", "'; httpd --"] {
            assert!(found(store, text).await.contains(&"project:httpd".to_owned()), "{engine}: {text:?}");
        }
        // Nothing was harmed.
        assert!(ProjectRepository::get(store, &ProjectKey::parse("httpd").unwrap()).await.unwrap().is_some());
        db.finish().await;
    }
}

#[tokio::test]
async fn the_limit_bounds_each_kind_and_the_best_comes_first() {
    for db in databases().await {
        let store = &db.store;
        seed(store).await;
        let engine = format!("{:?}", store.engine());
        for n in 0..55 {
            ReleaseRepository::create(store, &release("httpd", None, &format!("3.0.{n}"))).await.unwrap();
        }
        assert_eq!(of("release", &found_with(store, "3.0", 7).await).len(), 7, "{engine}");
        assert_eq!(of("release", &found_with(store, "3.0", 0).await).len(), 1, "{engine}: at least one");
        assert_eq!(of("release", &found_with(store, "3.0", 10_000).await).len(), 50, "{engine}: at most 50");
        // Newest version first among equal matches.
        assert_eq!(of("release", &found_with(store, "3.0", 2).await), ["release:httpd/3.0.54", "release:httpd/3.0.53"]);
        // Each kind is bounded alone: one per kind.
        let one = found_with(store, "httpd", 1).await;
        assert_eq!(one, ["project:httpd", "release:httpd/3.0.54"], "{engine}");

        // A key match ranks above a mention in the description, whatever the key order.
        assert_eq!(of("project", &found(store, "httpd").await), ["project:httpd", "project:tomcat"], "{engine}");
        ProjectRepository::create(store, &project("aardvark", "Aardvark", "Talks to tomcat and httpd.", &[]))
            .await
            .unwrap();
        assert_eq!(
            of("project", &found(store, "tomcat").await),
            ["project:tomcat", "project:aardvark"],
            "{engine}: the project named tomcat first"
        );
        // Kinds come in order: projects, releases, keys, CVEs.
        let hits = found(store, "a").await;
        let kinds: Vec<&str> = hits.iter().map(|h| h.split(':').next().unwrap()).collect();
        let mut sorted = kinds.clone();
        sorted.sort_by_key(|k| ["project", "release", "key", "cve"].iter().position(|x| x == k));
        assert_eq!(kinds, sorted, "{engine}");
        assert_eq!(SearchKind::ALL.len(), 4);
        db.finish().await;
    }
}

#[tokio::test]
async fn writes_are_reflected_at_once_and_a_refused_change_indexes_nothing() {
    for db in databases().await {
        let store = &db.store;
        seed(store).await;
        let engine = format!("{:?}", store.engine());

        // A key deleted is no longer found; the other stays.
        KeyRepository::delete(store, &Fingerprint::parse(FPR).unwrap()).await.unwrap();
        assert!(of("key", &found(store, "jane").await).is_empty(), "{engine}");
        assert!(of("key", &found(store, &FPR[24..]).await).is_empty(), "{engine}");
        assert_eq!(of("key", &found(store, "rob").await), [format!("key:{FPR_OTHER}")], "{engine}");
        // A key's user ids updated: the new one is found, the old one not.
        let mut rob = signing_key(FPR_OTHER, "Robert Roe", "rob");
        rob.user_ids.push("Robert Roe <robert@example.org>".into());
        KeyRepository::upsert(store, &rob).await.unwrap();
        assert_eq!(of("key", &found(store, "robert@example.org").await), [format!("key:{FPR_OTHER}")], "{engine}");

        // A project renamed: found by its new name, not its old one; its key still finds it.
        let renamed = project("tomcat", "Catalina Server", "Servlets.", &["jasper"]);
        ProjectRepository::update(store, &renamed).await.unwrap();
        assert_eq!(of("project", &found(store, "catalina").await), ["project:tomcat"], "{engine}");
        assert_eq!(of("project", &found(store, "jasper").await), ["project:tomcat"], "{engine}");
        assert!(of("project", &found(store, "container").await).is_empty(), "{engine}");
        assert_eq!(of("project", &found(store, "tomcat").await), ["project:tomcat"], "{engine}");

        // A CVE record replaced: its new title is found, its old one not.
        let id = "CVE-2025-55555";
        CveRepository::put(store, &cve(id, "Header injection", "")).await.unwrap();
        assert_eq!(of("cve", &found(store, "injection").await), [format!("cve:{id}")], "{engine}");
        assert!(of("cve", &found(store, "smuggling").await).is_empty(), "{engine}");

        // A change whose second write is refused stores nothing, in the index neither.
        let change = Change::new()
            .write(Write::CreateRelease(release("httpd", None, "9.9.9")))
            .write(Write::CreateRelease(release("httpd", None, "2.4.68")));
        assert!(matches!(UnitOfWork::commit(store, change).await, Err(StoreError::Conflict(_))), "{engine}");
        assert!(of("release", &found(store, "9.9").await).is_empty(), "{engine}");
        // And once committed, it is there.
        let change = Change::new().write(Write::CreateRelease(release("httpd", None, "9.9.9")));
        UnitOfWork::commit(store, change).await.unwrap();
        assert_eq!(of("release", &found(store, "9.9").await), ["release:httpd/9.9.9"], "{engine}");
        db.finish().await;
    }
}

#[tokio::test]
async fn the_migration_indexes_the_rows_that_exist() {
    for db in databases().await {
        // A database at migration 4, with rows, then migrated: the rows are found.
        let url = db.url.clone();
        let engine = db.store.engine();
        db.finish().await;
        let fresh = match engine {
            atr_store::sql::Engine::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("old.db").display());
                (url, Some(dir))
            }
            atr_store::sql::Engine::Postgres => {
                let (base, _) = url.rsplit_once('/').unwrap();
                let name = format!("atr_search_backfill_{}", std::process::id());
                let admin = std::env::var("ATR_TEST_DATABASE_URL").unwrap();
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await.unwrap();
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut conn)
                    .await;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
                (format!("{base}/{name}"), None)
            }
        };
        let (url, _dir) = fresh;
        let store = SqlStore::connect(&url).await.unwrap();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        engine.migrator().run_to(4, &pool).await.unwrap();
        pool.close().await;
        seed(&store).await;
        store.migrate().await.unwrap();
        let hits = found(&store, "httpd").await;
        assert!(hits.contains(&"project:httpd".to_owned()), "{engine:?}: {hits:?}");
        assert!(hits.contains(&"release:httpd/2.4.68".to_owned()), "{engine:?}: {hits:?}");
        assert_eq!(of("key", &found(&store, "jane").await), [format!("key:{FPR}")], "{engine:?}");
        assert_eq!(of("cve", &found(&store, "cve-2024-1234").await), ["cve:CVE-2024-1234"], "{engine:?}");
        store.close().await;
        if engine == atr_store::sql::Engine::Postgres {
            let admin = std::env::var("ATR_TEST_DATABASE_URL").unwrap();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await.unwrap();
            let name = url.rsplit_once('/').unwrap().1;
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&mut conn)
                .await;
        }
    }
}

#[tokio::test]
async fn sqlite_has_fts5_and_its_plans_read_the_index() {
    let db = atr_store::testing::sqlite().await;
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&db.url).await.unwrap();
    let (fts5,): (i64,) =
        sqlx::query_as("SELECT sqlite_compileoption_used('ENABLE_FTS5')").fetch_one(&mut conn).await.unwrap();
    assert_eq!(fts5, 1, "the SQLite that sqlx builds has FTS5");
    for (sql, fts, base) in atr_store::sql::search_queries_for_plans() {
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .bind("\"x\"*")
                .bind(10_i64)
                .fetch_all(&mut conn)
                .await
                .unwrap();
        let detail: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
        assert!(detail.iter().any(|d| d.contains(&format!("SCAN {fts} VIRTUAL TABLE INDEX"))), "{detail:?}");
        assert!(
            detail.iter().any(|d| d.starts_with(&format!("SEARCH {base} USING"))),
            "the table is looked up by key, not scanned: {detail:?}"
        );
        let scans_base = |d: &&str| **d == format!("SCAN {base}") || d.starts_with(&format!("SCAN {base} "));
        assert!(!detail.iter().any(scans_base), "{detail:?}");
    }
    drop(conn);
    db.finish().await;
}
