//! The `atr` binary, run as an operator runs it.

use std::process::Command;

fn atr(data_dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_atr"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("ATR_DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn migrate_creates_the_database_once() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/sqlite");
    let n = std::fs::read_dir(migrations).unwrap().count();
    let (ok, out, err) = atr(dir.path(), &["migrate"]);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("{n} migration(s) applied now, {n} in all")), "{out}");
    assert!(dir.path().join("atr.db").is_file());
    let (ok, out, _) = atr(dir.path(), &["migrate"]);
    assert!(ok);
    assert!(out.contains(&format!("0 migration(s) applied now, {n} in all")), "{out}");
    let (ok, out, err) = atr(dir.path(), &["verify-events"]);
    assert!(ok, "{err}");
    assert!(out.contains("audit log intact: 0 event(s)"), "{out}");
}

/// A read command on a data directory that does not exist says which one and how to choose one,
/// and creates nothing; `migrate` creates it.
#[test]
fn read_commands_never_create_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("atr-data");
    for args in [&["committees", "list"][..], &["verify-events"]] {
        let (ok, _, err) = atr(&missing, args);
        assert!(!ok, "{args:?}");
        assert!(err.contains(&format!("the data directory {} does not exist", missing.display())), "{err}");
        assert!(err.contains("--data-dir"), "{err}");
        assert!(!missing.exists(), "{args:?} created the data directory");
    }
    // The default, in the working folder, is not created either.
    let out = Command::new(env!("CARGO_BIN_EXE_atr"))
        .args(["committees", "list"])
        .current_dir(dir.path())
        .env_remove("ATR_DATABASE_URL")
        .env_remove("ATR_DATA_DIR")
        .env_remove("ATR_CONFIG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the data directory atr-data does not exist"));
    assert!(!dir.path().join("atr-data").exists());
    let (ok, _, err) = atr(&missing, &["migrate"]);
    assert!(ok, "{err}");
    assert!(missing.is_dir());
    let (ok, _, err) = atr(&missing, &["committees", "list"]);
    assert!(ok, "{err}");
}

#[test]
fn a_bad_database_url_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = atr(dir.path(), &["--database-url", "mysql://db/atr", "migrate"]);
    assert!(!ok);
    assert!(err.contains("sqlite: or postgres://"), "{err}");
}

/// The real httpd 2.4.68 release (see `scripts/fetch-httpd-release.sh`).
fn httpd_fixture() -> std::path::PathBuf {
    let dir = std::env::var_os("ATR_HTTPD_FIXTURE").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fixtures/httpd-2.4.68"),
        std::path::PathBuf::from,
    );
    assert!(
        dir.join("httpd-2.4.68.tar.gz").is_file(),
        "the httpd release is missing in {}: run scripts/fetch-httpd-release.sh {0}",
        dir.display()
    );
    dir
}

/// A release folder: the real tarball, its signature, and a `.sha512` in `gpg --print-md` shape.
fn release_folder() -> (tempfile::TempDir, std::path::PathBuf) {
    let fixture = httpd_fixture();
    let dir = tempfile::tempdir().unwrap();
    for name in ["httpd-2.4.68.tar.gz", "httpd-2.4.68.tar.gz.asc"] {
        std::fs::copy(fixture.join(name), dir.path().join(name)).unwrap();
    }
    let digest = "DE3D6E2D D37A600B 99B63B67 40A06348 D6F76421 09F3C35E 7EB1B820 88ADE8A5 DA9145B5 2C232587 \
                  B9C2604C 33AE908D 0009ADA4 EA316867 9E7F061B 3135112D";
    let (first, second) = digest.split_at(71);
    std::fs::write(dir.path().join("httpd-2.4.68.tar.gz.sha512"), format!("httpd-2.4.68.tar.gz: {first}\n {second}\n"))
        .unwrap();
    (dir, fixture.join("KEYS"))
}

fn check(dir: &std::path::Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_atr")).arg("check").arg(dir).args(extra).output().unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn check_passes_the_real_httpd_release() {
    let (dir, keys) = release_folder();
    let (code, out) = check(dir.path(), &["--keys", keys.to_str().unwrap(), "--project", "httpd"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("signature: the signature is good"), "{out}");
    assert!(out.contains("65B2D44FE74BD5E3DE3AC3F082781DE46D5954FA"), "{out}");
    assert!(out.contains("SHA-512 of httpd-2.4.68.tar.gz matches"), "{out}");
    assert!(out.contains("0 blocker(s)"), "{out}");
    // The keys the KEYS file could not use are told by reason, each group naming its keys.
    assert!(out.contains("KEYS: 41 key(s) read, 26 skipped:"), "{out}");
    assert!(
        out.contains("  25 PGP 2 keys (version 3) skipped: OpenPGP no longer supports the format")
            && out.contains("Ben Laurie <ben@algroup.co.uk> (line 26)")
            && out.contains(" and 20 more"),
        "{out}"
    );
    assert!(out.contains("  1 second copy of a key listed earlier, merged with the first: Ian Holsman"), "{out}");
}

#[test]
fn check_blocks_a_flipped_byte_with_clear_messages() {
    let (dir, keys) = release_folder();
    let tarball = dir.path().join("httpd-2.4.68.tar.gz");
    let mut bytes = std::fs::read(&tarball).unwrap();
    bytes[5_000_000] ^= 1;
    std::fs::write(&tarball, bytes).unwrap();
    let (code, out) = check(dir.path(), &["--keys", keys.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("the signature does not match the file's bytes"), "{out}");
    assert!(out.contains("does not match httpd-2.4.68.tar.gz.sha512"), "{out}");
    assert!(out.contains("truncated or damaged"), "{out}");
}

#[test]
fn check_writes_json_and_refuses_a_missing_folder() {
    let (dir, _) = release_folder();
    std::fs::write(dir.path().join("httpd-2.4.68.tar.gz.md5"), "x").unwrap();
    let (code, out) = check(dir.path(), &["--json"]);
    assert_eq!(code, Some(1), "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["files"], 4);
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["status"] == "blocker" && f["message"].as_str().unwrap().contains("MD5")));
    // Without KEYS the signature is parsed but not verified: said, not hidden.
    assert!(findings.iter().any(|f| f["message"].as_str().unwrap().contains("no KEYS file was given")));
    let (code, out) = check(&dir.path().join("nope"), &[]);
    assert_eq!(code, Some(2));
    assert!(out.contains("is not a folder"), "{out}");
}

/// `atr serve` on a free port with a fresh data directory: it creates the database, prints where
/// it listens, answers the API, and stops on SIGINT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_starts_from_nothing_and_answers() {
    use std::io::{BufRead, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_atr"))
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--listen", "127.0.0.1:0", "--admin", "root"])
        .env_remove("ATR_DATABASE_URL")
        .env("ATR_ADMIN_PASSWORD", "a long enough password")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let address = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    assert!(data.join("atr.db").is_file());
    let client = reqwest::Client::new();
    let openapi: serde_json::Value =
        client.get(format!("{address}/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/api/projects/{project}/releases"]["post"].is_object());
    let projects = client.get(format!("{address}/api/projects")).send().await.unwrap();
    assert_eq!(projects.status(), 200);
    assert_eq!(projects.json::<serde_json::Value>().await.unwrap(), serde_json::json!([]));
    let missing = client.get(format!("{address}/api/projects/nosuch")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let error: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(error["error"]["code"], "not_found");
    // Writing needs a caller.
    let refused = client
        .post(format!("{address}/api/projects/nosuch/releases"))
        .json(&serde_json::json!({ "version": "1.0.0" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let error: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["code"], "unauthenticated");
    // The admin asked for at start can sign in; a wrong password cannot.
    let login = |password: &'static str| {
        client.post(format!("{address}/api/session")).json(&serde_json::json!({ "user": "root", "password": password }))
    };
    let ok = login("a long enough password").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.headers()["set-cookie"].to_str().unwrap().contains("HttpOnly"));
    assert_eq!(login("wrong password here").send().await.unwrap().status(), 401);
    // SIGINT: a graceful stop.
    let pid = child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// `atr serve --demo` loads a foundation with releases in every stage, all passing their checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_shows_every_stage() {
    use std::io::{BufRead, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_atr"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--demo"])
        .env_remove("ATR_DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let address = first.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_owned();
    let demo_line = lines.by_ref().map(Result::unwrap).find(|l| l.starts_with("demo loaded")).unwrap();
    assert!(demo_line.contains("alice") && demo_line.contains("visitor"), "{demo_line}");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |path: &str| http.get(format!("{address}{path}")).send();
    let stages = [("current", "2.4.66"), ("revoked", "2.4.67"), ("candidate", "2.4.68")];
    for (stage, version) in stages {
        let listed: serde_json::Value =
            get(&format!("/api/projects/httpd/releases?stage={stage}")).await.unwrap().json().await.unwrap();
        assert_eq!(listed[0]["key"]["version"], version, "{stage}: {listed}");
        let file = get(&format!("/{stage}/httpd/{version}/httpd-{version}.tar.gz")).await.unwrap();
        assert_eq!(file.status(), 200, "{stage}");
    }
    // The draft is listed to its release manager only.
    let drafts: serde_json::Value = get("/api/projects/httpd/releases").await.unwrap().json().await.unwrap();
    assert_eq!(drafts, serde_json::json!([]));
    let session = http
        .post(format!("{address}/api/session"))
        .json(&serde_json::json!({ "user": "rm", "password": "atr-demo-password" }))
        .send()
        .await
        .unwrap();
    let cookie = session.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let as_rm = |path: &str| http.get(format!("{address}{path}")).header("cookie", &cookie).send();
    let drafts: serde_json::Value = as_rm("/api/projects/httpd/releases").await.unwrap().json().await.unwrap();
    assert_eq!(drafts[0]["key"]["version"], "2.5.0");
    let product = get("/current/httpd/mod-tools/latest/httpd-mod-tools-1.0.0.tar.gz").await.unwrap();
    assert_eq!(product.status(), 307);
    for (project, version) in [("httpd", "2.4.68"), ("wayang", "1.0.0-incubating")] {
        let checks: serde_json::Value =
            as_rm(&format!("/api/projects/{project}/releases/{version}/revisions/1/checks"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        let checks = checks.as_array().unwrap();
        assert!(checks.iter().any(|c| c["checker"] == "signature" && c["status"] == "success"), "{checks:?}");
        assert!(checks.iter().all(|c| c["status"] != "blocker"), "{project}: {checks:?}");
    }
    let pid = child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_settings_file_sets_defaults_that_flags_override() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = dir.path().join("from-file");
    let settings = dir.path().join("atr.toml");
    std::fs::write(&settings, format!("data_dir = {:?}\n", from_file.display().to_string())).unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_atr"))
            .arg("--config")
            .arg(&settings)
            .args(extra)
            .arg("migrate")
            .env_remove("ATR_DATABASE_URL")
            .env_remove("ATR_DATA_DIR")
            .output()
            .unwrap()
    };
    assert!(run(&[]).status.success());
    assert!(from_file.join("atr.db").is_file());
    let flag = dir.path().join("from-flag");
    assert!(run(&["--data-dir", flag.to_str().unwrap()]).status.success());
    assert!(flag.join("atr.db").is_file());
    std::fs::write(&settings, "listen = 8080\nnot_a_setting = true\n").unwrap();
    let bad = run(&[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is invalid"));
}

#[test]
fn committees_and_accounts_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("committees.json");
    std::fs::write(
        &doc,
        r#"{"committees":[{"key":"httpd","name":"Apache HTTP Server","pmc_members":["alice"],"committers":["bob"],"release_managers":["rm"]}]}"#,
    )
    .unwrap();
    let (ok, out, err) = atr(dir.path(), &["committees", "import", doc.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains(r#""created":["httpd"]"#), "{out}");
    let (ok, out, _) = atr(dir.path(), &["committees", "list"]);
    assert!(ok);
    assert!(out.contains("httpd\tApache HTTP Server\tpmc=alice\tcommitters=bob\trelease_managers=rm"), "{out}");
    std::fs::write(&doc, r#"{"committees":[{"key":"x","name":"X","pmc_members":[],"committers":[],"oops":1}]}"#)
        .unwrap();
    let (ok, _, err) = atr(dir.path(), &["committees", "import", doc.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("oops"), "{err}");

    let create = |password: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_atr"));
        command.arg("--data-dir").arg(dir.path()).args(["account", "root", "--admin"]).env_remove("ATR_DATABASE_URL");
        match password {
            Some(p) => command.env("ATR_ACCOUNT_PASSWORD", p),
            None => command.env_remove("ATR_ACCOUNT_PASSWORD"),
        };
        command.output().unwrap()
    };
    let missing = create(None);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("ATR_ACCOUNT_PASSWORD"));
    assert!(!create(Some("short")).status.success());
    let made = create(Some("a long enough password"));
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(String::from_utf8_lossy(&made.stdout).contains("account root created (admin)"));
    assert!(!create(Some("a long enough password")).status.success(), "an account is created once");
}

/// `SIGTERM`, what service managers and container runtimes send, stops `atr serve` gracefully:
/// it stops accepting, finishes, and exits 0.
#[test]
fn sigterm_stops_the_service_gracefully() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_atr"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("ATR_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let address = first.split_whitespace().find_map(|w| w.strip_prefix("http://")).unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream.write_all(b"GET /api/projects HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let mut status = None;
    for _ in 0..300 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("atr serve still runs 30 s after SIGTERM");
    };
    assert!(status.success(), "atr serve exited with {status} after SIGTERM");
    assert!(rest.iter().any(|l| l == "ATR stopped"), "{rest:?}");
    assert!(std::net::TcpStream::connect(&address).is_err(), "the port still accepts after the stop");
}

/// `atr serve --log-format json` writes one JSON line per request with its route template,
/// status and request id, and the answer carries the id; with an `https://` public URL its
/// session cookies are `Secure`.
#[test]
fn requests_are_logged_as_json_lines_with_their_request_id() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_atr"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--no-worker", "--log-format", "json"])
        .args(["--public-url", "https://atr.example.org", "--admin", "root"])
        .env_remove("ATR_DATABASE_URL")
        .env("ATR_ADMIN_PASSWORD", "correct horse battery staple")
        .env("ATR_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let address = first.split_whitespace().find_map(|w| w.strip_prefix("http://")).unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    let request =
        "GET /api/projects/httpd HTTP/1.1\r\nHost: localhost\r\nx-request-id: probe-42\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.to_lowercase().contains("x-request-id: probe-42"), "{answer}");
    // The error body names the request too, as the header and the log line do.
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let error: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert_eq!(error["error"]["request_id"], "probe-42", "{error}");
    assert_eq!(error["error"]["code"], "not_found", "{error}");

    // Behind an https:// public URL, the session cookie is marked Secure.
    let body = r#"{"user":"root","password":"correct horse battery staple"}"#;
    let sign_in = format!(
        "POST /api/session HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream.write_all(sign_in.as_bytes()).unwrap();
    let mut signed = String::new();
    stream.read_to_string(&mut signed).unwrap();
    let cookie = signed
        .lines()
        .find(|l| l.to_lowercase().starts_with("set-cookie: atr_session="))
        .unwrap_or_else(|| panic!("{signed}"));
    assert!(cookie.contains("; Secure"), "{cookie}");

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    child.wait().unwrap();
    let entry = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["request_id"] == "probe-42")
        .unwrap_or_else(|| panic!("no JSON log line of the request in:\n{log}"));
    assert_eq!(entry["route"], "/api/projects/{project}", "{entry}");
    assert_eq!(entry["status"], 404, "{entry}");
    assert_eq!(entry["method"], "GET", "{entry}");
    assert!(!log.contains("/api/projects/httpd"), "the raw path is not logged, only its route: {log}");
}

/// Runs `atr` with `args` until it exits (at most 60 s, then it is killed and the test fails);
/// answers its exit status and stderr.
fn run_to_exit(args: &[&std::ffi::OsStr]) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    use std::process::Stdio;

    let mut child = Command::new(env!("CARGO_BIN_EXE_atr"))
        .args(args)
        .env_remove("ATR_DATABASE_URL")
        .env_remove("ATR_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..600 {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            return (status, stderr);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("atr {args:?} still runs after 60 s");
}

/// A worker or a service started on the data directory of another installation refuses to
/// start, naming both installations and the fix, and exits non-zero; nothing of either
/// installation is touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_and_serve_refuse_a_data_directory_of_another_database() {
    use std::ffi::OsStr;

    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut ids = Vec::new();
    for dir in [one.path(), two.path()] {
        let (storage, _) = atr_store::Storage::open(&atr_store::StorageConfig::new(dir)).await.unwrap();
        ids.push(storage.sql.installation_id().await.unwrap().unwrap());
        storage.sql.close().await;
    }
    let other_database = format!("sqlite://{}", two.path().join("atr.db").display());
    let expected = format!(
        "error: refused: the data directory {} belongs to another database (installation {}, the database is {}): \
         start with the --data-dir that was used with this database",
        one.path().display(),
        ids[0],
        ids[1]
    );
    let data_dir = one.path().as_os_str();
    for command in [&["worker"][..], &["serve", "--listen", "127.0.0.1:0", "--no-worker"][..]] {
        let mut args: Vec<&OsStr> = vec![OsStr::new("--data-dir"), data_dir, OsStr::new("--database-url")];
        args.push(OsStr::new(&other_database));
        args.extend(command.iter().map(OsStr::new));
        let (status, stderr) = run_to_exit(&args);
        assert!(!status.success(), "{command:?} started on the wrong data directory");
        assert_eq!(status.code(), Some(1), "{command:?}: {stderr}");
        assert!(stderr.lines().any(|l| l == expected), "{command:?}:\n{stderr}\nexpected:\n{expected}");
        assert!(!stderr.contains("Recovery {"), "no debug dump: {stderr}");
    }
    let marker = std::fs::read_to_string(one.path().join(atr_store::installation::MARKER_FILE)).unwrap();
    assert_eq!(marker.trim(), ids[0]);
}

/// What the start-up reconciliation did is told in sentences, not a debug dump.
#[test]
fn a_worker_tells_its_recovery_in_sentences() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    // Two revisions an ended process was building, in its (unlocked) temporary folder.
    for build in ["revision-1", "revision-2"] {
        std::fs::create_dir_all(dir.path().join("files/tmp/process-ended-1").join(build)).unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_atr"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["worker", "--concurrency", "1"])
        .env_remove("ATR_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let running =
        BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok).any(|l| l.contains("running tasks"));
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(running, "the worker did not start: {stderr}");
    assert!(
        stderr.lines().any(|l| l
            == "storage at start: removed 2 unfinished revision builds left by processes that ended \
                (nothing of them had been recorded)"),
        "{stderr}"
    );
    assert!(!stderr.contains("Recovery {"), "{stderr}");
    assert!(!dir.path().join("files/tmp/process-ended-1").exists());
}

/// `atr worker --metrics-listen` serves its runner's series, the queue and its readiness, and
/// stops with the worker.
#[test]
fn a_worker_serves_its_metrics_and_readiness() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;

    fn get(address: &str, path: &str) -> String {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_atr"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["worker", "--concurrency", "3", "--metrics-listen", "127.0.0.1:0"])
        .env_remove("ATR_DATABASE_URL")
        .env_remove("ATR_METRICS_ALLOW")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
    let health = lines.find(|l| l.starts_with("health: ")).unwrap_or_default();
    let address = health
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://").and_then(|a| a.strip_suffix("/metrics")))
        .unwrap_or_else(|| panic!("no metrics address in {health:?}"))
        .to_owned();
    assert!(lines.any(|l| l.contains("running tasks")));

    let metrics = get(&address, "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200 OK"), "{metrics}");
    assert!(metrics.lines().any(|l| l == "atr_runner_max_concurrency 3"), "{metrics}");
    assert!(metrics.lines().any(|l| l.starts_with("atr_db_pool_max_connections ")), "{metrics}");
    let ready = get(&address, "/readyz");
    assert!(ready.starts_with("HTTP/1.1 200 OK"), "{ready}");
    assert!(ready.contains(r#""ready":true"#), "{ready}");
    // Only the operations endpoints: the API is not served by a worker.
    let api = get(&address, "/api/projects");
    assert!(api.starts_with("HTTP/1.1 404"), "{api}");

    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let stopped = lines.any(|l| l.contains("stopped"));
    let _ = child.wait();
    assert!(stopped);
    assert!(std::net::TcpStream::connect(&address).is_err(), "the metrics port still accepts after the stop");
}
