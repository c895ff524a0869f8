//! The client commands of `atr`, end to end: the real binary against `atr serve --demo`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const PASSWORD: &str = "atr-demo-password";

/// A demo service, stopped when dropped.
struct Demo {
    child: Child,
    address: String,
    data: tempfile::TempDir,
}

impl Demo {
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// `atr serve --demo` with more arguments, such as `--no-worker`.
    fn start_with(more: &[&str]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_atr"))
            .arg("--data-dir")
            .arg(data.path())
            .args(["serve", "--listen", "127.0.0.1:0", "--demo"])
            .args(more)
            .env_remove("ATR_DATABASE_URL")
            .env_remove("ATR_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let address = first.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_owned();
        lines.by_ref().map(Result::unwrap).find(|l| l.starts_with("demo loaded")).unwrap();
        // Keep reading so that the service never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, address, data }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A user of the command line: their own config directory and working folder.
struct User {
    home: tempfile::TempDir,
    server: String,
}

impl User {
    fn new(server: &str) -> Self {
        Self { home: tempfile::tempdir().unwrap(), server: server.to_owned() }
    }

    fn dir(&self) -> &Path {
        self.home.path()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_atr"));
        command
            .arg("--server")
            .arg(&self.server)
            .args(args)
            .current_dir(self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("ATR_DATA_DIR", self.home.path().join("unused-data"))
            .env_remove("ATR_SERVER")
            .env_remove("ATR_TOKEN")
            .env_remove("ATR_PASSWORD")
            .env_remove("ATR_CONFIG")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs a command that signs in with the demo password.
    fn run_with_password(&self, args: &[&str]) -> Output {
        self.command(args).env("ATR_PASSWORD", PASSWORD).output().unwrap()
    }

    /// Runs a command that must succeed, answering its stdout.
    fn ok(&self, args: &[&str]) -> String {
        succeeded(&self.run(args), args)
    }

    fn token(&self, user: &str, project: &str, actions: &[&str]) -> String {
        let mut args = vec!["token", "create", "--user", user, "--project", project];
        for action in actions {
            args.extend(["--action", action]);
        }
        let output = self.run_with_password(&args);
        let token = succeeded(&output, &args).trim().to_owned();
        assert!(token.starts_with("atr_"), "{token}");
        token
    }
}

fn succeeded(output: &Output, args: &[&str]) -> String {
    assert!(
        output.status.success(),
        "atr {args:?} failed: {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A whole release, driven through the command line only: a token, a draft, uploads, checks, a
/// vote of three PMC members, the announcement, and a verified download.
#[test]
fn a_release_goes_from_draft_to_download_through_the_cli() {
    let demo = Demo::start();
    let rm = User::new(&demo.address);

    // A token for the release manager, stored by `atr login` (never printed).
    let token = rm.token("rm", "httpd", &["manage_release", "perform_actions"]);
    let mut login =
        rm.command(&["login"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    login.stdin.take().unwrap().write_all(format!("{token}\n").as_bytes()).unwrap();
    let login = login.wait_with_output().unwrap();
    let said = succeeded(&login, &["login"]) + &stderr(&login);
    assert!(said.contains("as rm") && !said.contains(&token), "{said}");
    let stored = rm.dir().join("config/atr/credentials.toml");
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let me = json(&rm.ok(&["--json", "whoami"]));
    assert_eq!(me["person"]["id"], "rm");
    assert_eq!(me["signed_in_with"], "token");

    // The files of the demo's 2.4.66, signed by the demo key, downloaded and verified.
    let folder = rm.dir().join("upload");
    std::fs::create_dir(&folder).unwrap();
    let names = ["httpd-2.4.66.tar.gz", "httpd-2.4.66.tar.gz.asc", "httpd-2.4.66.tar.gz.sha512"];
    let mut files: Vec<PathBuf> = Vec::new();
    for name in names {
        let target = folder.join(name);
        let output = rm.run(&["download", &format!("current/httpd/2.4.66/{name}"), "-o", target.to_str().unwrap()]);
        succeeded(&output, &["download"]);
        assert!(stderr(&output).contains("SHA-512 verified"), "{}", stderr(&output));
        files.push(target);
    }

    rm.ok(&["release", "start", "httpd", "2.6.0"]);
    let mut upload = vec!["upload", "httpd", "2.6.0"];
    upload.extend(files.iter().map(|f| f.to_str().unwrap()));
    let uploaded = rm.run(&upload);
    let out = succeeded(&uploaded, &upload);
    assert!(out.contains("revision 3"), "{out}");
    // stderr is a pipe: no progress bar.
    let log = stderr(&uploaded);
    assert!(!log.contains('\r') && !log.contains("ETA") && !log.contains('\x1b'), "{log:?}");

    let checks = json(&rm.ok(&["--json", "checks", "httpd", "2.6.0", "--wait"]));
    let checks = checks.as_array().unwrap();
    assert!(!checks.is_empty());
    assert!(checks.iter().all(|c| c["status"] != "blocker"), "{checks:?}");
    assert!(checks.iter().any(|c| c["checker"] == "signature" && c["status"] == "success"), "{checks:?}");
    let human = rm.ok(&["checks", "httpd", "2.6.0", "--revision", "3"]);
    assert!(human.contains("0 blocker(s)"), "{human}");

    rm.ok(&["vote", "start", "httpd", "2.6.0", "--revision", "3"]);
    // The candidate is frozen: another upload is a conflict.
    let late = rm.run(&["upload", "httpd", "2.6.0", files[0].to_str().unwrap()]);
    assert_eq!(late.status.code(), Some(5), "{}", stderr(&late));
    assert!(stderr(&late).starts_with("error: "), "{}", stderr(&late));

    // Tokens cannot vote: each PMC member votes as themselves.
    let refused = rm.run(&["vote", "cast", "httpd", "2.6.0", "+1"]);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    for member in ["alice", "bob", "carol"] {
        let voter = User::new(&demo.address);
        let args = ["vote", "cast", "httpd", "2.6.0", "+1", "--user", member, "--comment", "checked the signatures"];
        let output = voter.run_with_password(&args);
        assert!(succeeded(&output, &args).contains(member));
    }
    let tally = json(&rm.ok(&["--json", "vote", "tally", "httpd", "2.6.0"]));
    assert_eq!(tally["passes"], true, "{tally}");
    assert_eq!(tally["binding"]["plus_one"], 3, "{tally}");
    rm.ok(&["vote", "resolve", "httpd", "2.6.0", "passed"]);
    let announced = rm.ok(&["announce", "httpd", "2.6.0"]);
    assert!(announced.contains("/current/httpd/2.6.0/"), "{announced}");
    let shown = json(&rm.ok(&["--json", "release", "show", "httpd", "2.6.0"]));
    assert_eq!(shown["stage"], "current", "{shown}");

    // The published file, by version and through `latest`, verified against the promised digest.
    for coordinates in ["current/httpd/2.6.0/httpd-2.4.66.tar.gz", "/current/httpd/latest/httpd-2.4.66.tar.gz"] {
        let target = rm.dir().join("published.tar.gz");
        let output = rm.run(&["download", coordinates, "-o", target.to_str().unwrap()]);
        succeeded(&output, &["download", coordinates]);
        assert_eq!(std::fs::read(&target).unwrap(), std::fs::read(&files[0]).unwrap());
        std::fs::remove_file(&target).unwrap();
    }
    let missing = rm.run(&["download", "current/httpd/2.6.0/no-such-file.tar.gz"]);
    assert_eq!(missing.status.code(), Some(4), "{}", stderr(&missing));
    assert!(!rm.dir().join("no-such-file.tar.gz.part").exists());

    refusals(&demo, &rm, &token);
}

/// With no task runner, `atr checks` does not pass a release that was never checked: it exits
/// with 6 and says that the checks wait for a runner, `--wait` stops at once with the same, and
/// `atr tasks status` tells it too. Once an `atr worker` runs on the service's data directory,
/// the checks complete, `atr checks` passes, and the worker is listed with its heartbeat.
#[test]
fn checks_that_no_runner_takes_say_so_until_a_worker_runs_them() {
    let demo = Demo::start_with(&["--no-worker"]);
    let rm = User::new(&demo.address);
    let token = rm.token("rm", "httpd", &["manage_release", "perform_actions"]);
    let with_token = |args: &[&str]| rm.command(args).env("ATR_TOKEN", &token).output().unwrap();

    // The demo's signed 2.4.66 files, uploaded as 2.7.0: one revision each, 3 the latest.
    let folder = rm.dir().join("upload");
    std::fs::create_dir(&folder).unwrap();
    let mut upload = vec!["upload".to_owned(), "httpd".to_owned(), "2.7.0".to_owned()];
    for name in ["httpd-2.4.66.tar.gz", "httpd-2.4.66.tar.gz.asc", "httpd-2.4.66.tar.gz.sha512"] {
        let target = folder.join(name);
        let output = rm.run(&["download", &format!("current/httpd/2.4.66/{name}"), "-o", target.to_str().unwrap()]);
        succeeded(&output, &["download"]);
        upload.push(target.to_str().unwrap().to_owned());
    }
    let upload: Vec<&str> = upload.iter().map(String::as_str).collect();
    succeeded(&with_token(&["release", "start", "httpd", "2.7.0"]), &["release", "start"]);
    succeeded(&with_token(&upload), &upload);

    let waiting = "waiting for a task runner; none has ever run against this database";
    let checks = with_token(&["checks", "httpd", "2.7.0"]);
    assert_eq!(checks.status.code(), Some(6), "{}", stderr(&checks));
    let error = stderr(&checks);
    assert!(error.contains("error: the checks of httpd 2.7.0 revision 3 have not completed: "), "{error}");
    assert!(error.contains(waiting), "{error}");
    assert!(error.contains("hint: ") && error.contains("atr worker"), "{error}");
    let out = String::from_utf8_lossy(&checks.stdout);
    assert!(out.contains("httpd 2.7.0 revision 3: 0 blocker(s)") && !out.contains("no blockers"), "{out}");
    // Anonymous callers read the same, as they read the check results; `--json` prints the results.
    let anonymous = rm.run(&["--json", "checks", "httpd", "2.7.0", "--revision", "3"]);
    assert_eq!(anonymous.status.code(), Some(4), "a draft is not public: {}", stderr(&anonymous));
    let json_out = with_token(&["--json", "checks", "httpd", "2.7.0"]);
    assert_eq!(json_out.status.code(), Some(6));
    assert_eq!(json(&String::from_utf8_lossy(&json_out.stdout)), serde_json::json!([]));

    // `--wait` does not wait out its timeout for a runner that is not there.
    let started = std::time::Instant::now();
    let waited = with_token(&["checks", "httpd", "2.7.0", "--wait", "--timeout", "300"]);
    assert_eq!(waited.status.code(), Some(6), "{}", stderr(&waited));
    assert!(stderr(&waited).contains(waiting), "{}", stderr(&waited));
    assert!(started.elapsed() < std::time::Duration::from_mins(1), "waited {:?}", started.elapsed());

    let status = succeeded(&with_token(&["tasks", "status"]), &["tasks", "status"]);
    assert!(status.contains("no task runner has ever run against this database"), "{status}");
    assert!(status.lines().any(|l| l.starts_with("analyze") && l.contains(waiting)), "{status}");

    // A worker on the service's data directory (and so its database) runs the checks.
    let mut worker = Command::new(env!("CARGO_BIN_EXE_atr"))
        .arg("--data-dir")
        .arg(demo.data.path())
        .args(["worker", "--concurrency", "1"])
        .env_remove("ATR_DATABASE_URL")
        .env_remove("ATR_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(worker.stdout.take().unwrap()).lines();
    let running = lines.by_ref().map(Result::unwrap).find(|l| l.contains("running tasks"));
    assert!(running.is_some(), "the worker did not start");
    std::thread::spawn(move || lines.for_each(drop));
    let worker = Worker(worker);

    let done = with_token(&["checks", "httpd", "2.7.0", "--wait", "--timeout", "300"]);
    let out = succeeded(&done, &["checks", "--wait"]);
    assert!(out.contains("httpd 2.7.0 revision 3: 0 blocker(s)"), "{out}");
    assert!(out.contains("the checks completed at ") && out.contains("no blockers"), "{out}");
    succeeded(&with_token(&["checks", "httpd", "2.7.0"]), &["checks"]);
    let status = succeeded(&with_token(&["tasks", "status"]), &["tasks", "status"]);
    let runner = status.lines().find(|l| l.starts_with("runner ")).unwrap_or_else(|| panic!("{status}"));
    assert!(runner.contains(": analyze, concurrency 1, live, last heartbeat 20"), "{runner}");
    assert!(!status.contains("waiting for a task runner"), "{status}");

    // Stopped gracefully, it is listed as stopped.
    let pid = worker.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut worker = worker;
    let stopped = worker.0.wait().unwrap();
    assert!(stopped.success(), "{stopped}");
    let status = succeeded(&with_token(&["tasks", "status"]), &["tasks", "status"]);
    assert!(status.lines().any(|l| l.starts_with("runner ") && l.contains(", stopped, last heartbeat ")), "{status}");
}

/// A worker process, killed when dropped.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Refused, unknown and unsigned requests exit with their own codes and say what to do next;
/// `NO_COLOR` wins over `CLICOLOR_FORCE`.
fn refusals(demo: &Demo, rm: &User, token: &str) {
    // A token of another project is refused, naming the permission.
    let wayang = rm.token("rm", "wayang", &["manage_release"]);
    let refused = rm.run(&["--token", &wayang, "release", "start", "httpd", "9.9.9"]);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    let error = stderr(&refused);
    assert!(error.starts_with("error: ") && error.contains("manage_release") && error.contains("hint:"), "{error}");
    let forced = rm
        .command(&["--token", &wayang, "release", "start", "httpd", "9.9.9"])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(stderr(&forced).contains('\x1b'), "{}", stderr(&forced));
    let plain = rm
        .command(&["--token", &wayang, "release", "start", "httpd", "9.9.9"])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stderr(&plain).contains('\x1b') && stderr(&plain).starts_with("error: "), "{}", stderr(&plain));

    // Not found, and not signed in.
    let unknown = rm.run(&["release", "show", "httpd", "0.0.1"]);
    assert_eq!(unknown.status.code(), Some(4), "{}", stderr(&unknown));
    let stranger = User::new(&demo.address);
    let anonymous = stranger.run(&["whoami"]);
    assert_eq!(anonymous.status.code(), Some(3), "{}", stderr(&anonymous));
    assert!(stderr(&anonymous).contains("atr login"), "{}", stderr(&anonymous));

    // The stored token is listed and can be revoked; then it is refused.
    let tokens = json(&rm.ok(&["--json", "token", "list"]));
    assert!(tokens["tokens"].as_array().unwrap().len() >= 2, "{tokens}");
    let id = token.split('_').nth(1).unwrap();
    rm.ok(&["token", "revoke", id]);
    let revoked = rm.run(&["whoami"]);
    assert_eq!(revoked.status.code(), Some(3), "{}", stderr(&revoked));
}

/// A download whose bytes do not match the digest promised in the `ETag` fails and leaves no
/// file behind; a matching one is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_that_does_not_match_its_digest_is_deleted() {
    use sha2::{Digest as _, Sha512};

    let body = b"release bytes".to_vec();
    let good = Sha512::digest(&body).iter().fold(String::new(), |mut hex, b| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
        hex
    });
    let bad = "0".repeat(128);
    let serve = |tag: String, body: Vec<u8>| {
        move || async move { ([(axum::http::header::ETAG, format!("\"sha512-{tag}\""))], body) }
    };
    let router = axum::Router::new()
        .route("/current/x/1.0/good.tar.gz", axum::routing::get(serve(good, body.clone())))
        .route("/current/x/1.0/bad.tar.gz", axum::routing::get(serve(bad, body.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let user = User::new(&address);
    let bad = tokio::task::spawn_blocking({
        let command = user.command(&["download", "current/x/1.0/bad.tar.gz"]);
        move || {
            let mut command = command;
            command.output().unwrap()
        }
    })
    .await
    .unwrap();
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("SHA-512"), "{}", stderr(&bad));
    assert!(!user.dir().join("bad.tar.gz").exists() && !user.dir().join("bad.tar.gz.part").exists());

    let good = tokio::task::spawn_blocking({
        let command = user.command(&["download", "current/x/1.0/good.tar.gz"]);
        move || {
            let mut command = command;
            command.output().unwrap()
        }
    })
    .await
    .unwrap();
    assert!(good.status.success(), "{}", stderr(&good));
    assert_eq!(std::fs::read(user.dir().join("good.tar.gz")).unwrap(), body);
}

/// A committee's people as the service answers them, read over plain HTTP.
fn committee_people(address: &str, key: &str, field: &str) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let text = runtime.block_on(async {
        let response = reqwest::get(format!("{address}/api/committees/{key}")).await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.text().await.unwrap()
    });
    let committee = json(&text);
    committee[field].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect()
}

/// The admin commands, signed in as the demo's admin: an account, a role granted and revoked, a
/// committee import, the audit log verified; CVE records added and listed with a token; and a
/// non-admin refused.
#[test]
fn an_admin_manages_accounts_committees_and_the_audit_log() {
    let demo = Demo::start();
    let root = User::new(&demo.address);
    let new_password = "erin's long enough password";

    // An account, its password from ATR_NEW_PASSWORD; another from the first line of stdin.
    let args = ["--json", "admin", "user", "create", "erin", "--asf-member", "--user", "root"];
    let created =
        root.command(&args).env("ATR_PASSWORD", PASSWORD).env("ATR_NEW_PASSWORD", new_password).output().unwrap();
    let created = json(&succeeded(&created, &args));
    assert_eq!(created["person"]["id"], "erin", "{created}");
    assert_eq!(
        (created["person"]["asf_member"].as_bool(), created["person"]["admin"].as_bool()),
        (Some(true), Some(false))
    );
    let args = ["admin", "user", "create", "frank", "--user", "root"];
    let mut frank =
        root.command(&args).env("ATR_PASSWORD", PASSWORD).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    frank.stdin.take().unwrap().write_all(b"frank's long enough password\n").unwrap();
    let said = succeeded(&frank.wait_with_output().unwrap(), &args);
    assert!(said.contains("account frank created"), "{said}");

    // Erin becomes a PMC member of httpd: the committee lists her, and she signs in.
    let grant = ["admin", "user", "grant", "erin", "--committee", "httpd", "--role", "pmc", "--user", "root"];
    let said = succeeded(&root.run_with_password(&grant), &grant);
    assert!(said.contains("erin is now a PMC member of httpd"), "{said}");
    let pmc = committee_people(&demo.address, "httpd", "pmc_members");
    assert!(pmc.iter().any(|p| p == "erin"), "{pmc:?}");
    for kept in ["alice", "bob", "carol"] {
        assert!(pmc.iter().any(|p| p == kept), "{pmc:?}");
    }
    assert_eq!(committee_people(&demo.address, "httpd", "committers"), ["dev"]);
    let again = root.run_with_password(&grant);
    assert!(again.status.success() && stderr(&again).contains("already"), "{}", stderr(&again));
    let args = ["token", "create", "--user", "erin", "--project", "httpd", "--action", "manage_release"];
    let token = root.command(&args).env("ATR_PASSWORD", new_password).output().unwrap();
    assert!(succeeded(&token, &args).starts_with("atr_"));

    // Revoked, she is no longer listed.
    let revoke = ["admin", "user", "revoke", "erin", "--committee", "httpd", "--role", "pmc", "--user", "root"];
    let said = succeeded(&root.run_with_password(&revoke), &revoke);
    assert!(said.contains("erin is no longer a PMC member of httpd"), "{said}");
    let pmc = committee_people(&demo.address, "httpd", "pmc_members");
    assert!(!pmc.iter().any(|p| p == "erin") && pmc.len() == 3, "{pmc:?}");
    let role =
        ["admin", "user", "grant", "frank", "--committee", "httpd", "--role", "release-manager", "--user", "root"];
    succeeded(&root.run_with_password(&role), &role);
    assert_eq!(committee_people(&demo.address, "httpd", "release_managers"), ["frank", "rm"]);
    let unknown = ["admin", "user", "grant", "erin", "--committee", "nowhere", "--role", "pmc", "--user", "root"];
    let unknown = root.run_with_password(&unknown);
    assert_eq!(unknown.status.code(), Some(4), "{}", stderr(&unknown));

    // A committee import.
    let document = root.dir().join("committees.json");
    std::fs::write(
        &document,
        r#"{"committees": [{"key": "tooling", "name": "Apache Tooling", "pmc_members": ["erin"], "committers": ["erin", "frank"]}]}"#,
    )
    .unwrap();
    let import = ["admin", "committees", "import", document.to_str().unwrap(), "--user", "root"];
    let said = succeeded(&root.run_with_password(&import), &import);
    assert!(said.contains("1 committee(s) imported") && said.contains("created tooling"), "{said}");
    assert_eq!(committee_people(&demo.address, "tooling", "committers"), ["erin", "frank"]);
    std::fs::write(&document, "not json").unwrap();
    let faulty = root.run_with_password(&import);
    assert_eq!(faulty.status.code(), Some(2), "{}", stderr(&faulty));

    // The audit log is intact.
    let verify = ["admin", "audit", "verify", "--user", "root"];
    let said = succeeded(&root.run_with_password(&verify), &verify);
    assert!(said.starts_with("the audit log is intact: "), "{said}");
    let verify = ["--json", "admin", "audit", "verify", "--user", "root"];
    let report = json(&succeeded(&root.run_with_password(&verify), &verify));
    assert_eq!(report["intact"], true, "{report}");
    assert!(report["events"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["head"].as_str().unwrap().len(), 64, "{report}");

    // CVE records, added with a token that may manage the project's metadata.
    let rm = User::new(&demo.address);
    let token = rm.token("rm", "httpd", &["manage_metadata"]);
    let add = [
        "--token",
        &token,
        "cve",
        "add",
        "httpd",
        "CVE-2026-4242",
        "--title",
        "Out-of-bounds read in mod_example",
        "--severity",
        "important",
    ];
    let said = rm.ok(&add);
    assert!(said.contains("CVE-2026-4242 recorded for httpd") && said.contains("[important]"), "{said}");
    let said = rm.ok(&["--token", &token, "cve", "add", "httpd", "CVE-2026-4242", "--title", "Out-of-bounds read"]);
    assert!(said.contains("CVE-2026-4242 updated"), "{said}");
    let listed = json(&rm.ok(&["--json", "cve", "list"]));
    let record = listed.as_array().unwrap().iter().find(|r| r["id"] == "CVE-2026-4242").expect("the new record");
    assert_eq!(record["title"], "Out-of-bounds read", "{record}");
    assert!(record["severity"].is_null(), "{record}");
    assert!(rm.ok(&["cve", "list"]).lines().any(|l| l.starts_with("CVE-2026-4242")));
    let refused = rm.run(&["cve", "add", "httpd", "CVE-2026-4243", "--title", "x"]);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));

    // A non-admin is refused, and told why.
    let dev = User::new(&demo.address);
    let args = ["admin", "user", "create", "mallory", "--user", "dev"];
    let refused =
        dev.command(&args).env("ATR_PASSWORD", PASSWORD).env("ATR_NEW_PASSWORD", new_password).output().unwrap();
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    let error = stderr(&refused);
    assert!(error.starts_with("error: ") && error.contains("admin") && error.contains("hint:"), "{error}");
    let wrong = root.command(&verify).env("ATR_PASSWORD", "not the password").output().unwrap();
    assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
}

/// A broken audit log makes `atr admin audit verify` exit with 1, naming the event where the
/// chain breaks; `--json` still writes the service's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_audit_log_fails_naming_the_event() {
    use axum::routing::{get, post};

    let report = serde_json::json!({
        "intact": false,
        "error": "event 7 was changed after it was written",
        "broken_at": 7
    });
    let router = axum::Router::new()
        .route(
            "/api/session",
            post(|| async { ([(axum::http::header::SET_COOKIE, "atr_session=s; Path=/; HttpOnly")], "{}") })
                .delete(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route("/api/admin/audit/verify", get(move || async move { axum::Json(report) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let user = User::new(&address);
    for json in [false, true] {
        let mut args = vec!["admin", "audit", "verify", "--user", "root"];
        if json {
            args.insert(0, "--json");
        }
        let mut command = user.command(&args);
        command.env("ATR_PASSWORD", PASSWORD);
        let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let error = stderr(&output);
        assert!(error.starts_with("error: the audit log is broken at event 7: event 7 was changed"), "{error}");
        let out = String::from_utf8(output.stdout).unwrap();
        if json {
            assert_eq!(self::json(&out)["broken_at"], 7, "{out}");
        } else {
            assert!(out.is_empty(), "{out}");
        }
    }
}

/// Without a service to talk to, a client command says how to name one and exits with 2.
#[test]
fn a_command_without_a_server_says_how_to_name_one() {
    let user = User::new("unused");
    let output = user.command(&["whoami"]).env_remove("ATR_SERVER").output().unwrap();
    // `--server unused` is not an address.
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let mut bare = Command::new(env!("CARGO_BIN_EXE_atr"));
    bare.arg("whoami")
        .current_dir(user.dir())
        .env("XDG_CONFIG_HOME", user.dir().join("config"))
        .env("ATR_DATA_DIR", user.dir().join("unused-data"))
        .env_remove("ATR_SERVER")
        .env_remove("ATR_TOKEN")
        .env_remove("ATR_CONFIG");
    let output = bare.output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--server"), "{}", stderr(&output));
}

/// The commands `atr --help` lists, and those of a command with subcommands.
fn help_commands(args: &[&str]) -> Vec<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_atr")).args(args).arg("--help").output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// Whether `atr COMMAND --help` lists arguments of the command itself.
fn takes_arguments(command: &str) -> bool {
    let output = Command::new(env!("CARGO_BIN_EXE_atr")).args([command, "--help"]).output().unwrap();
    String::from_utf8(output.stdout).unwrap().lines().any(|l| l.starts_with("Arguments:"))
}

/// Every `atr ...` command that docs/cli.md shows exists in the real `--help`.
#[test]
fn every_command_in_the_cli_guide_exists() {
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/cli.md")).unwrap();
    let top = help_commands(&[]);
    let mut seen = 0;
    let mut in_code = false;
    for line in guide.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            continue;
        }
        // `ATR_PASSWORD=... atr vote cast ...`: settings may come first.
        let mut words = line.split_whitespace().skip_while(|w| w.contains('='));
        if words.next() != Some("atr") {
            continue;
        }
        let mut words = words.filter(|w| !w.starts_with('-'));
        let Some(command) = words.next() else { continue };
        assert!(top.iter().any(|c| c == command), "docs/cli.md: `atr {command}` is not in `atr --help`: {line}");
        let subcommands = help_commands(&[command]);
        // A command with subcommands and arguments of its own (`atr checks PROJECT VERSION`,
        // `atr checks rerun ...`) takes either.
        if !subcommands.is_empty() && !takes_arguments(command) {
            let sub = words.next().unwrap_or_default();
            assert!(subcommands.iter().any(|c| c == sub), "docs/cli.md: `atr {command} {sub}` does not exist: {line}");
        }
        seen += 1;
    }
    assert!(seen >= 20, "docs/cli.md shows only {seen} commands");
}

/// The real httpd 2.4.68 release (see `scripts/fetch-httpd-release.sh`).
fn httpd_fixture() -> PathBuf {
    let dir = std::env::var_os("ATR_HTTPD_FIXTURE")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fixtures/httpd-2.4.68"), PathBuf::from);
    assert!(
        dir.join("httpd-2.4.68.tar.gz").is_file(),
        "the httpd release is missing in {}: run scripts/fetch-httpd-release.sh {0}",
        dir.display()
    );
    dir
}

/// The session cookie `atr login --user` stored.
fn stored_session(user: &User) -> String {
    let text = std::fs::read_to_string(user.dir().join("config/atr/credentials.toml")).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    value["session"].as_str().unwrap().to_owned()
}

/// The status of `GET /api/me` with a session cookie, over plain HTTP.
fn me_with_cookie(address: &str, cookie: &str) -> u16 {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let response = client.get(format!("{address}/api/me")).header("cookie", cookie).send().await.unwrap();
        response.status().as_u16()
    })
}

/// An admin and a release manager set up a project and run a release with `atr` only: a
/// committee and a project, KEYS imported by a PMC member signed in with `atr login --user`, the
/// vote policy, a draft with the real httpd files, a file moved and deleted, the checks run
/// again, the vote started, and everything inspected.
#[test]
#[expect(clippy::too_many_lines, reason = "one story from the first sign-in to the vote, read in order")]
fn a_project_is_set_up_and_released_with_atr_commands_only() {
    let demo = Demo::start();
    let fixture = httpd_fixture();

    // The admin signs in with a password; the session is stored, readable by the admin only.
    let admin = User::new(&demo.address);
    let said = admin.run_with_password(&["login", "--user", "root"]);
    let out = succeeded(&said, &["login", "--user", "root"]);
    assert!(out.contains("as root until") && out.contains("root's own rights"), "{out}");
    let stored = admin.dir().join("config/atr/credentials.toml");
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(stored_session(&admin).starts_with("atr_session="));
    let me = json(&admin.ok(&["--json", "whoami"]));
    assert_eq!((me["person"]["id"].as_str(), me["signed_in_with"].as_str()), (Some("root"), Some("session")));

    // A committee, then its project.
    let set = [
        "admin",
        "committees",
        "set",
        "webserver",
        "--name",
        "Apache Web Server",
        "--pmc",
        "alice,bob,carol",
        "--release-manager",
        "rm",
        "--user",
        "root",
    ];
    let out = succeeded(&admin.run_with_password(&set), &set);
    assert!(out.contains("webserver: Apache Web Server") && out.contains("pmc              alice,bob,carol"), "{out}");
    let create = [
        "project",
        "create",
        "webserver",
        "--committee",
        "webserver",
        "--name",
        "Apache Web Server",
        "--homepage",
        "https://httpd.apache.org",
    ];
    let out = admin.ok(&create);
    assert!(out.contains("project webserver created for committee webserver"), "{out}");
    let again = admin.run(&create);
    assert_eq!(again.status.code(), Some(5), "{}", stderr(&again));
    assert!(admin.ok(&["project", "list"]).lines().any(|l| l.starts_with("webserver ")));
    let committee = admin.ok(&["committee", "show", "webserver"]);
    assert!(committee.contains("release managers rm"), "{committee}");

    // A PMC member imports the committee's KEYS with her own rights, then signs out.
    let alice = User::new(&demo.address);
    succeeded(&alice.run_with_password(&["login", "--user", "alice"]), &["login", "--user", "alice"]);
    let keys = fixture.join("KEYS");
    let out = alice.ok(&["keys", "import", "webserver", keys.to_str().unwrap()]);
    assert!(out.starts_with("webserver: ") && !out.starts_with("webserver: 0 key(s) added"), "{out}");
    let listed = json(&alice.ok(&["--json", "keys", "list", "webserver"]));
    let fingerprint = listed[0]["fingerprint"].as_str().unwrap().to_owned();
    let shown = alice.ok(&["keys", "show", &fingerprint]);
    assert!(shown.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") && shown.contains("webserver"), "{shown}");
    let cookie = stored_session(&alice);
    assert_eq!(me_with_cookie(&demo.address, &cookie), 200);
    let credentials = alice.dir().join("config/atr/credentials.toml");
    let kept = std::fs::read(&credentials).unwrap();
    let out = alice.run(&["logout"]);
    assert!(stderr(&out).contains("the session was ended"), "{}", stderr(&out));
    assert!(!credentials.exists());
    assert_eq!(me_with_cookie(&demo.address, &cookie), 401, "the session still works after logout");
    assert_eq!(alice.run(&["whoami"]).status.code(), Some(3));
    // A session the service no longer knows: the hint says to sign in again.
    std::fs::write(&credentials, kept).unwrap();
    let ended = alice.run(&["whoami"]);
    assert_eq!(ended.status.code(), Some(3), "{}", stderr(&ended));
    assert!(stderr(&ended).contains("sign in again with `atr login --user alice`"), "{}", stderr(&ended));
    std::fs::remove_file(&credentials).unwrap();

    // A token cannot import KEYS or create projects: release-manager rights at most.
    let rm = User::new(&demo.address);
    let actions = ["manage_release", "perform_actions", "manage_policy", "manage_metadata", "view_release_events"];
    let token = rm.token("rm", "webserver", &actions);
    let mut login =
        rm.command(&["login"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    login.stdin.take().unwrap().write_all(format!("{token}\n").as_bytes()).unwrap();
    succeeded(&login.wait_with_output().unwrap(), &["login"]);
    let refused = rm.run(&["keys", "import", "webserver", keys.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    let refused = rm.run(&["project", "create", "other", "--committee", "webserver", "--name", "Other"]);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));

    // The release manager sets the vote policy and the project's description.
    let out = rm.ok(&["policy", "set", "webserver", "--min-hours", "96", "--vote-recipient", "dev@example.org"]);
    assert!(out.contains("min_hours = 96") && out.contains("vote_recipients = dev@example.org"), "{out}");
    let shown = rm.ok(&["policy", "show", "webserver"]);
    let line = |field: &str| shown.lines().find(|l| l.starts_with(&format!("{field} "))).unwrap().to_owned();
    assert_eq!(
        line("min_hours").split_whitespace().collect::<Vec<_>>(),
        ["min_hours", "96", "project", "96"],
        "{shown}"
    );
    let mode: Vec<String> = line("mode").split_whitespace().map(str::to_owned).collect();
    assert_eq!(mode[2..], ["foundation", "-"], "{shown}");
    let policy = json(&rm.ok(&["--json", "policy", "show", "webserver"]));
    assert_eq!(policy["effective_vote_policy"]["min_hours"], 96, "{policy}");
    assert_eq!(policy["vote_policy_sources"]["min_hours"], "project", "{policy}");
    assert_eq!(policy["vote_policy_sources"]["mode"], "foundation", "{policy}");
    assert_eq!(policy["project"]["policy"]["min_hours"], 96, "{policy}");
    assert!(policy["project"]["policy"]["mode"].is_null(), "{policy}");
    rm.ok(&["policy", "set", "webserver", "--strict-checking", "false", "--inherit", "vote_recipients"]);
    let policy = json(&rm.ok(&["--json", "policy", "show", "webserver"]));
    assert_eq!(policy["project"]["policy"]["strict_checking"], false, "{policy}");
    assert_eq!(policy["project"]["policy"]["min_hours"], 96, "kept: {policy}");
    assert!(policy["project"]["policy"]["vote_recipients"].is_null(), "{policy}");
    rm.ok(&["project", "set", "webserver", "--description", "The web server"]);
    let project = json(&rm.ok(&["--json", "project", "show", "webserver"]));
    assert_eq!(project["project"]["metadata"]["description"], "The web server", "{project}");
    assert_eq!(project["project"]["metadata"]["homepage"], "https://httpd.apache.org", "kept: {project}");

    // A draft with the real files and a stray one, which is moved, then deleted.
    let folder = rm.dir().join("upload");
    std::fs::create_dir(&folder).unwrap();
    let mut files = Vec::new();
    for name in ["httpd-2.4.68.tar.gz", "httpd-2.4.68.tar.gz.asc"] {
        std::fs::copy(fixture.join(name), folder.join(name)).unwrap();
        files.push(folder.join(name));
    }
    let digest = "de3d6e2dd37a600b99b63b6740a06348d6f7642109f3c35e7eb1b82088ade8a5\
                  da9145b52c232587b9c2604c33ae908d0009ada4ea3168679e7f061b3135112d";
    std::fs::write(folder.join("httpd-2.4.68.tar.gz.sha512"), format!("{digest}  httpd-2.4.68.tar.gz\n")).unwrap();
    files.push(folder.join("httpd-2.4.68.tar.gz.sha512"));
    std::fs::write(folder.join("notes.txt"), "not part of the release\n").unwrap();
    files.push(folder.join("notes.txt"));
    rm.ok(&["release", "start", "webserver", "2.4.68"]);
    let mut upload = vec!["upload", "webserver", "2.4.68"];
    upload.extend(files.iter().map(|f| f.to_str().unwrap()));
    assert!(rm.ok(&upload).contains("revision 4"));
    let drafts = rm.ok(&["release", "list", "webserver"]);
    assert!(
        drafts.lines().any(|l| l.contains("2.4.68") && l.contains("draft") && l.contains("revision 4")),
        "{drafts}"
    );
    let moved = rm.ok(&["mv", "webserver", "2.4.68", "notes.txt", "docs/notes.txt"]);
    assert!(moved.contains("moved notes.txt to docs/notes.txt: revision 5"), "{moved}");
    let removed = rm.ok(&["rm", "webserver", "2.4.68", "docs/notes.txt"]);
    assert!(removed.contains("deleted docs/notes.txt: revision 6"), "{removed}");
    let gone = rm.run(&["rm", "webserver", "2.4.68", "docs/notes.txt"]);
    assert_eq!(gone.status.code(), Some(2), "{}", stderr(&gone));
    assert!(
        stderr(&gone).contains("docs/notes.txt") && stderr(&gone).contains("atr release files"),
        "{}",
        stderr(&gone)
    );
    let listed = rm.ok(&["release", "files", "webserver", "2.4.68"]);
    let names: Vec<&str> = listed.lines().filter_map(|l| l.split_whitespace().nth(1)).collect();
    assert_eq!(names, ["httpd-2.4.68.tar.gz", "httpd-2.4.68.tar.gz.asc", "httpd-2.4.68.tar.gz.sha512"], "{listed}");
    let older = rm.ok(&["release", "files", "webserver", "2.4.68", "--revision", "5"]);
    assert!(older.contains("docs/notes.txt"), "{older}");
    let revisions = rm.ok(&["release", "revisions", "webserver", "2.4.68"]);
    assert_eq!(revisions.lines().count(), 6, "{revisions}");
    assert!(revisions.lines().any(|l| l.trim_start().starts_with("6  parent 5")), "{revisions}");

    // The checks of the latest revision, then run again.
    let checks = json(&rm.ok(&["--json", "checks", "webserver", "2.4.68", "--wait"]));
    let checks = checks.as_array().unwrap();
    assert!(checks.iter().all(|c| c["revision"] == 6 && c["status"] != "blocker"), "{checks:?}");
    assert!(checks.iter().any(|c| c["checker"] == "signature" && c["status"] == "success"), "{checks:?}");
    let rerun = json(&rm.ok(&["--json", "checks", "rerun", "webserver", "2.4.68"]));
    assert_eq!(rerun["kind"], "analyze", "{rerun}");
    assert_eq!(rerun["args"]["revision"], 6, "{rerun}");
    let task = rerun["id"].as_u64().unwrap().to_string();
    let human = rm.ok(&["checks", "webserver", "2.4.68", "--wait"]);
    assert!(human.contains("webserver 2.4.68 revision 6: 0 blocker(s)"), "{human}");
    let shown = json(&rm.ok(&["--json", "tasks", "show", &task]));
    assert_eq!(shown["status"], "completed", "{shown}");
    let retry = rm.run(&["tasks", "retry", &task]);
    assert_eq!(retry.status.code(), Some(5), "{}", stderr(&retry));
    let error = stderr(&retry);
    assert!(error.contains("completed") && error.contains("cannot be retried"), "{error}");
    assert!(!error.contains("release"), "{error}");
    let sboms = rm.run(&["sboms", "webserver", "2.4.68"]);
    assert!(stderr(&sboms).contains("has no SBOM file"), "{}", stderr(&sboms));

    // The vote, whose hint works as written; a PMC member signed in votes without --user.
    let started = rm.run(&["vote", "start", "webserver", "2.4.68"]);
    succeeded(&started, &["vote", "start"]);
    assert!(stderr(&started).contains("atr vote cast webserver 2.4.68 +1 --user USER"), "{}", stderr(&started));
    succeeded(&alice.run_with_password(&["login", "--user", "alice"]), &["login", "--user", "alice"]);
    let cast = alice.ok(&["vote", "cast", "webserver", "2.4.68", "+1"]);
    assert!(cast.contains("+1 cast by alice on webserver 2.4.68"), "{cast}");

    // Everything inspected.
    let candidates = rm.ok(&["release", "list", "webserver", "--stage", "candidate"]);
    assert!(candidates.lines().any(|l| l.contains("2.4.68") && l.contains("vote on revision 6")), "{candidates}");
    let drafts = rm.run(&["release", "list", "webserver"]);
    assert!(stderr(&drafts).contains("webserver has no draft or preview release"), "{}", stderr(&drafts));
    let events = rm.ok(&["events", "--project", "webserver", "--release", "2.4.68"]);
    for kind in ["release_started", "revision_created", "checks_recorded", "vote_started", "ballot_cast"] {
        assert!(events.contains(kind), "{kind}: {events}");
    }
    let events = json(&rm.ok(&["--json", "events", "--project", "webserver", "--release", "2.4.68", "--limit", "2"]));
    assert_eq!(events.as_array().unwrap().len(), 2, "{events}");
    let hits = rm.ok(&["search", "webserver"]);
    assert!(hits.lines().any(|l| l.starts_with("project") && l.contains("webserver")), "{hits}");
    let keys = rm.ok(&["keys", "user", "nobody-here"]);
    assert!(keys.is_empty(), "{keys}");
    let cves = rm.ok(&["cve", "release", "webserver", "2.4.68"]);
    assert!(cves.contains("affects     -") && cves.contains("resolved by -"), "{cves}");
}

/// A download of a revoked release says why it was revoked and `--json` sums it up; the same
/// release asked for as current is not found, with a pointer to where it went.
#[test]
fn a_revoked_release_downloads_with_its_reason_and_current_points_to_it() {
    use sha2::{Digest as _, Sha512};

    let demo = Demo::start();
    let user = User::new(&demo.address);
    let target = user.dir().join("old.tar.gz");
    let args = ["--json", "download", "revoked/httpd/2.4.67/httpd-2.4.67.tar.gz", "-o", target.to_str().unwrap()];
    let output = user.run(&args);
    let summary = json(&succeeded(&output, &args));
    assert!(
        stderr(&output).contains("warning: this release was revoked: superseded by 2.4.68 (demo)"),
        "{}",
        stderr(&output)
    );
    let bytes = std::fs::read(&target).unwrap();
    let digest = Sha512::digest(&bytes).iter().fold(String::new(), |mut hex, b| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
        hex
    });
    assert_eq!(summary["path"], target.to_str().unwrap(), "{summary}");
    assert_eq!(summary["bytes"], bytes.len(), "{summary}");
    assert_eq!(summary["sha512"], digest, "{summary}");
    assert_eq!(summary["verified"], true, "{summary}");
    assert_eq!(summary["revoked"], "superseded by 2.4.68 (demo)", "{summary}");

    // A current release carries no revocation.
    let fresh = user.dir().join("new.tar.gz");
    let args = ["--json", "download", "current/httpd/2.4.66/httpd-2.4.66.tar.gz", "-o", fresh.to_str().unwrap()];
    let summary = json(&succeeded(&user.run(&args), &args));
    assert!(summary["revoked"].is_null(), "{summary}");

    let moved = user.run(&["download", "current/httpd/2.4.67/httpd-2.4.67.tar.gz"]);
    assert_eq!(moved.status.code(), Some(4), "{}", stderr(&moved));
    assert!(
        stderr(&moved)
            .contains("release httpd 2.4.67 not found in stage current: it is revoked, under /revoked/httpd/2.4.67/"),
        "{}",
        stderr(&moved)
    );
    let refused = user.run(&["--json", "download", "current/httpd/2.4.66/httpd-2.4.66.tar.gz", "-o", "-"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
}

#[test]
fn status_reports_each_readiness_check_and_fails_when_one_failed() {
    let demo = Demo::start();
    let user = User::new(&demo.address);
    let out = user.ok(&["status"]);
    for check in ["database", "migrations", "storage"] {
        let line = out.lines().find(|l| l.starts_with(check)).unwrap_or_else(|| panic!("no {check} line: {out}"));
        assert!(line.contains("\tok\t"), "{line}");
    }
    let answer = json(&user.ok(&["--json", "status"]));
    assert_eq!(answer["ready"], true, "{answer}");

    // A service whose database is gone answers 503 with the failed check: the command names it
    // and exits with 1.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::Read as _;
        let (mut stream, _) = listener.accept().unwrap();
        let mut head = [0u8; 4096];
        let _ = stream.read(&mut head);
        let body = r#"{"ready":false,"checks":[{"name":"database","ok":false,"detail":"the database does not answer: connection refused"},{"name":"migrations","ok":false,"detail":"not checked: the database does not answer"},{"name":"storage","ok":true,"detail":"release storage takes a write"}]}"#;
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(answer.as_bytes());
    });
    let down = User::new(&address);
    let output = down.run(&["status"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.lines().any(|l| l.starts_with("database") && l.contains("FAILED") && l.contains("connection refused")),
        "{printed}"
    );
    assert!(printed.lines().any(|l| l.starts_with("storage") && l.contains("\tok\t")), "{printed}");
    assert!(stderr(&output).contains("not ready: database, migrations failed"), "{}", stderr(&output));
}

/// A release manager silences a reviewed false positive with a check ignore, sees it apart in
/// `atr checks`, deletes the ignore again, and deletes a draft so that its version starts anew.
#[test]
fn a_false_positive_is_ignored_and_a_draft_is_deleted_with_atr_commands() {
    let demo = Demo::start();
    let rm = User::new(&demo.address);
    let token = rm.token("rm", "httpd", &["manage_release", "manage_policy", "view_release_events"]);
    let mut login =
        rm.command(&["login"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    login.stdin.take().unwrap().write_all(format!("{token}\n").as_bytes()).unwrap();
    succeeded(&login.wait_with_output().unwrap(), &["login"]);

    // An unsigned tarball: blockers a vote would stop on.
    let tarball = rm.dir().join("httpd-2.7.0.tar.gz");
    let output = rm.run(&["download", "current/httpd/2.4.66/httpd-2.4.66.tar.gz", "-o", tarball.to_str().unwrap()]);
    succeeded(&output, &["download"]);
    rm.ok(&["release", "start", "httpd", "2.7.0"]);
    rm.ok(&["upload", "httpd", "2.7.0", tarball.to_str().unwrap()]);
    let checks = rm.run(&["--json", "checks", "httpd", "2.7.0", "--wait"]);
    assert_eq!(checks.status.code(), Some(1), "blockers fail the command: {}", stderr(&checks));
    let results = json(&String::from_utf8_lossy(&checks.stdout));
    let blockers: Vec<&serde_json::Value> =
        results.as_array().unwrap().iter().filter(|c| c["status"] == "blocker").collect();
    assert!(!blockers.is_empty(), "{results}");
    assert!(blockers.iter().all(|c| c.get("ignored_by").is_none()), "{results}");
    let checker = blockers[0]["checker"].as_str().unwrap().to_owned();
    let same_checker = blockers.iter().filter(|c| c["checker"] == checker.as_str()).count();

    // Nothing to select is refused by the service, with the field named.
    let empty = rm.run(&["ignore", "add", "httpd", "--reason", "everything"]);
    assert_eq!(empty.status.code(), Some(2), "{}", stderr(&empty));
    assert!(stderr(&empty).contains("at least one selector"), "{}", stderr(&empty));
    let added = rm.ok(&[
        "ignore",
        "add",
        "httpd",
        "--checker",
        &checker,
        "--path",
        "httpd-2.7.*",
        "--status",
        "blocker",
        "--reason",
        "signed after the checks",
    ]);
    let id: u64 = added.strip_prefix("ignore ").and_then(|r| r.split_whitespace().next()).unwrap().parse().unwrap();
    assert!(added.contains(&format!("checker=\"{checker}\"")) && added.contains("status=blocker"), "{added}");
    let again = rm.run(&[
        "ignore",
        "add",
        "httpd",
        "--checker",
        &checker,
        "--path",
        "httpd-2.7.*",
        "--status",
        "blocker",
        "--reason",
        "x",
    ]);
    assert_eq!(again.status.code(), Some(5), "{}", stderr(&again));
    assert!(stderr(&again).contains(&format!("(id {id})")), "{}", stderr(&again));
    let listed = rm.ok(&["ignore", "list", "httpd"]);
    assert!(
        listed.lines().any(|l| l.trim_start().starts_with(&id.to_string()) && l.contains("(signed after the checks)")),
        "{listed}"
    );

    // The ignored results are shown apart and no longer count.
    let human = rm.run(&["checks", "httpd", "2.7.0"]);
    let out = String::from_utf8_lossy(&human.stdout).into_owned();
    let left = blockers.len() - same_checker;
    assert!(out.contains(&format!("revision 1: {left} blocker(s)")), "{out}");
    assert!(out.contains(&format!("; {same_checker} ignored")), "{out}");
    let ignored_lines =
        out.lines().filter(|l| l.starts_with(&format!("ignored blocker (ignore {id}) {checker} "))).count();
    assert_eq!(ignored_lines, same_checker, "{out}");
    assert_eq!(human.status.code(), Some(i32::from(left != 0)), "{out}");
    let results = rm.run(&["--json", "checks", "httpd", "2.7.0"]);
    let results = json(&String::from_utf8_lossy(&results.stdout));
    let marked = results.as_array().unwrap().iter().filter(|c| c["ignored_by"] == id).count();
    assert_eq!(marked, same_checker, "{results}");

    // Deleted again, the results count once more.
    let deleted = rm.ok(&["ignore", "delete", "httpd", &id.to_string()]);
    assert!(deleted.contains(&format!("ignore {id} deleted from httpd")), "{deleted}");
    let unknown = rm.run(&["ignore", "delete", "httpd", &id.to_string()]);
    assert_eq!(unknown.status.code(), Some(4), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("atr ignore list httpd"), "{}", stderr(&unknown));
    let human = rm.run(&["checks", "httpd", "2.7.0"]);
    let out = String::from_utf8_lossy(&human.stdout).into_owned();
    assert!(out.contains(&format!("revision 1: {} blocker(s)", blockers.len())) && !out.contains("ignored"), "{out}");

    // A draft is deleted and its version starts anew; a published release is not deleted.
    let gone = rm.ok(&["release", "delete-draft", "httpd", "2.7.0"]);
    assert!(gone.contains("httpd 2.7.0 deleted, with its 1 revision(s)"), "{gone}");
    let shown = rm.run(&["release", "show", "httpd", "2.7.0"]);
    assert_eq!(shown.status.code(), Some(4), "{}", stderr(&shown));
    let events = rm.ok(&["events", "--project", "httpd", "--release", "2.7.0"]);
    assert!(events.contains("draft_deleted") && events.contains("release_started"), "{events}");
    rm.ok(&["release", "start", "httpd", "2.7.0"]);
    let revisions = rm.run(&["release", "revisions", "httpd", "2.7.0"]);
    assert!(stderr(&revisions).contains("httpd 2.7.0 has no revisions yet"), "{}", stderr(&revisions));
    let published = rm.run(&["release", "delete-draft", "httpd", "2.4.66"]);
    assert_eq!(published.status.code(), Some(5), "{}", stderr(&published));
    assert!(stderr(&published).contains("atr revoke httpd 2.4.66 --reason"), "{}", stderr(&published));
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Release Manager", "-c", "user.email=rm@example.org", "-c", "init.defaultBranch=main"])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A release manager names the commit a source archive was made from; the checks compare the
/// archive with it, fetched from a real git repository, and a file changed after the commit
/// blocks the release until the archive is made from the commit again.
#[test]
fn a_source_archive_is_compared_with_the_commit_it_names() {
    let demo = Demo::start_with(&["--git-protocol", "file"]);
    let rm = User::new(&demo.address);
    let token = rm.token("rm", "httpd", &["manage_release"]);
    let repo = rm.dir().join("httpd.git");
    std::fs::create_dir_all(repo.join("server")).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("README"), "Apache HTTP Server\n").unwrap();
    std::fs::write(repo.join("server/main.c"), "int main(void) { return 0; }\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "2.8.0"]);
    let commit = git(&repo, &["rev-parse", "HEAD"]);

    // The archive of the commit, then one file changed in it after the commit.
    let tarball = rm.dir().join("httpd-2.8.0.tar.gz");
    let tarball_arg = tarball.to_str().unwrap();
    git(&repo, &["archive", "--format=tar.gz", "--prefix=httpd-2.8.0/", "-o", tarball_arg, &commit]);
    let with_token = |args: &[&str]| {
        let mut all = vec!["--token", token.as_str()];
        all.extend_from_slice(args);
        rm.run(&all)
    };
    succeeded(&with_token(&["release", "start", "httpd", "2.8.0"]), &["release", "start"]);
    succeeded(&with_token(&["upload", "httpd", "2.8.0", tarball_arg]), &["upload"]);
    let address = format!("file://{}", repo.display());
    let set = with_token(&["release", "source", "httpd", "2.8.0", "--repository", &address, "--commit", &commit]);
    let printed = succeeded(&set, &["release", "source"]);
    assert!(printed.contains(&format!("source is {address} at commit {commit}")), "{printed}");
    assert!(printed.contains("the checks run again as task"), "{printed}");
    let checks = with_token(&["--json", "checks", "httpd", "2.8.0", "--wait"]);
    let results = json(&String::from_utf8_lossy(&checks.stdout));
    let source: Vec<&serde_json::Value> =
        results.as_array().unwrap().iter().filter(|c| c["checker"] == "source-git").collect();
    assert_eq!(source.len(), 1, "{results}");
    assert_eq!(source[0]["status"], "success", "{results}");
    assert!(source[0]["message"].as_str().unwrap().contains("The 2 file(s) of httpd-2.8.0.tar.gz match commit"));

    std::fs::write(repo.join("README"), "Apache HTTP Server, changed after the vote was called\n").unwrap();
    git(&repo, &["add", "-A"]);
    let changed = rm.dir().join("changed");
    std::fs::create_dir_all(&changed).unwrap();
    std::fs::write(changed.join("httpd-2.8.0.tar.gz"), {
        // The working tree's README, not the commit's: `git archive` of the index tree.
        let tree = git(&repo, &["write-tree"]);
        let out = Command::new("git")
            .current_dir(&repo)
            .args(["archive", "--format=tar.gz", "--prefix=httpd-2.8.0/", &tree])
            .output()
            .unwrap();
        out.stdout
    })
    .unwrap();
    let changed_arg = changed.join("httpd-2.8.0.tar.gz");
    succeeded(&with_token(&["upload", "httpd", "2.8.0", changed_arg.to_str().unwrap()]), &["upload"]);
    let checks = with_token(&["checks", "httpd", "2.8.0", "--wait"]);
    let out = String::from_utf8_lossy(&checks.stdout).into_owned();
    assert_eq!(checks.status.code(), Some(1), "a changed file blocks: {out}");
    assert!(
        out.lines().any(|l| l.contains("source-git") && l.contains(&format!("differ from commit {commit}: README"))),
        "{out}"
    );

    let cleared = with_token(&["release", "source", "httpd", "2.8.0", "--clear"]);
    assert!(succeeded(&cleared, &["release", "source", "--clear"]).contains("source cleared"));
}
