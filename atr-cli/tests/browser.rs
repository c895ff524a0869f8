//! The web pages in a real browser: headless Chromium from Debian's `chromium` and
//! `chromium-driver`, driven over `WebDriver`, against `atr serve --demo`.
//!
//! One browser for the whole walk: the demo roles sign in through the sign-in page and take a
//! release from start to revocation through the forms (start, upload, checks, vote with binding
//! and non-binding ballots, a visitor's consent and ballot, resolve, announce, the download
//! folder, revoke), move a file of a draft, and visit the key, CVE, task and project
//! configuration pages. A form that a role is not offered is posted anyway and must be refused. Every
//! page is checked by axe-core inside the browser (no serious or critical finding) and saved as
//! screenshots at 390x844 and 1440x900 into `$ATR_SCREENSHOTS` (default: the test's temporary
//! folder under the build output, `.../screenshots`).
//!
//! Needs `/usr/bin/chromium`, `/usr/bin/chromedriver` (`scripts/setup`) and axe-core
//! (`scripts/fetch-axe-core.sh`, whose path `ATR_AXE_CORE` names); without them the test fails
//! and says what is missing.

use std::io::{BufRead as _, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const PASSWORD: &str = "atr-demo-password";
const CHROMIUM: &str = "/usr/lib/chromium/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A child process, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `atr serve --demo` on a free loopback port.
fn start_demo(data: &Path) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atr"))
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0", "--demo"])
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
    std::thread::spawn(move || lines.for_each(drop));
    (Running(child), address)
}

/// chromedriver on a free loopback port, once it accepts connections.
fn start_driver() -> (Running, String) {
    for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        assert!(
            Path::new(path).exists(),
            "{path} is missing: the browser tests need Debian's {package} package (run scripts/setup)"
        );
    }
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let running = Running(child);
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen on port {port} within 20 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    (running, format!("http://127.0.0.1:{port}"))
}

fn axe_script() -> String {
    let path = std::env::var_os("ATR_AXE_CORE").map_or_else(
        || {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/atr-ci/axe-core-4.14.1/node_modules/axe-core/axe.min.js")
        },
        PathBuf::from,
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("axe-core is missing at {} ({e}): run scripts/fetch-axe-core.sh", path.display()))
}

fn screenshots() -> PathBuf {
    let dir = std::env::var_os("ATR_SCREENSHOTS")
        .map_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots"), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Browser {
    client: Client,
    base: String,
    axe: String,
    shots: PathBuf,
    checked: Vec<String>,
}

impl Browser {
    async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn text(&self) -> String {
        self.client.find(Locator::Css("body")).await.unwrap().text().await.unwrap()
    }

    async fn has(&self, css: &str) -> bool {
        !self.client.find_all(Locator::Css(css)).await.unwrap().is_empty()
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Sets the viewport (not the window) to exactly `width` x `height`.
    async fn viewport(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
        let inner = self.client.execute("return [window.innerWidth, window.innerHeight];", vec![]).await.unwrap();
        let (w, h) = (inner[0].as_u64().unwrap(), inner[1].as_u64().unwrap());
        let (w, h) = (u32::try_from(w).unwrap(), u32::try_from(h).unwrap());
        if (w, h) != (width, height) {
            self.client.set_window_size(2 * width - w, 2 * height - h).await.unwrap();
        }
    }

    /// Checks the page with axe-core and saves it at a phone's and a desktop's size.
    async fn check_page(&mut self, name: &str) {
        self.client.execute(&self.axe, vec![]).await.unwrap();
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ['violations'] })
              .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ': ' + v.help + ' (' + v.nodes.map(n => n.target.join(' ')).join('; ') + ')')))
              .catch(e => done(['axe failed: ' + e]));";
        let found = self.client.execute_async(script, vec![]).await.unwrap();
        let found: Vec<String> = serde_json::from_value(found).unwrap();
        assert!(found.is_empty(), "accessibility findings on {name}: {found:#?}");
        for (width, height) in [(390, 844), (1440, 900)] {
            self.viewport(width, height).await;
            let png = self.client.screenshot().await.unwrap();
            assert!(png.starts_with(b"\x89PNG"), "the screenshot of {name} is not a PNG");
            std::fs::write(self.shots.join(format!("{name}-{width}x{height}.png")), png).unwrap();
        }
        self.checked.push(name.to_owned());
    }

    async fn sign_in(&self, user: &str) {
        self.goto("/signin").await;
        self.client.find(Locator::Css("#user")).await.unwrap().send_keys(user).await.unwrap();
        self.client.find(Locator::Css("#password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
        self.click("form.action button[type=submit]").await;
        let who = self.client.find(Locator::Css("#signed-in")).await.unwrap().text().await.unwrap();
        assert!(who.contains(user), "after signing in as {user} the header says {who:?}");
    }

    async fn sign_out(&self) {
        self.click("nav.wide form[action='/signout'] button").await;
        assert!(!self.has("#signed-in").await, "still signed in after signing out");
    }

    /// Marks the current document, so that [`Browser::wait_for_next`] can tell it was replaced.
    async fn mark(&self) {
        self.client.execute("window.atrOldPage = true;", vec![]).await.unwrap();
    }

    /// Waits until the marked document was replaced by a loaded one (bounded).
    async fn wait_for_next(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let done = self
                .client
                .execute("return window.atrOldPage === undefined && document.readyState === 'complete';", vec![])
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if done {
                return;
            }
            assert!(Instant::now() < deadline, "no new page within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks `css` and waits for the page it leads to.
    async fn click(&self, css: &str) {
        self.mark().await;
        self.client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
        self.wait_for_next().await;
    }

    /// Submits the form `#id` on the current page (its button) and waits for the answer.
    async fn submit(&self, id: &str) {
        self.click(&format!("form#{id} button[type=submit]")).await;
    }

    async fn notice(&self) -> String {
        match self.client.find(Locator::Css("#notice")).await {
            Ok(notice) => notice.text().await.unwrap(),
            Err(error) => panic!("no notice on the page ({error}); it says: {}", self.text().await),
        }
    }

    /// Posts a form the page does not offer, with this page's token, as a forged button would.
    async fn post_anyway(&self, action: &str, fields: Value) {
        let script = "const [action, fields] = arguments;
            const token = document.querySelector('input[name=csrf]').value;
            const form = document.createElement('form');
            form.method = 'post'; form.action = action;
            for (const [name, value] of Object.entries(Object.assign({ csrf: token }, fields))) {
              const input = document.createElement('input');
              input.type = 'hidden'; input.name = name; input.value = value; form.appendChild(input);
            }
            document.body.appendChild(form); form.submit();";
        self.mark().await;
        self.client.execute(script, vec![json!(action), fields]).await.unwrap();
        self.wait_for_next().await;
        assert!(self.has("#form-error").await, "the forged form was not refused: {}", self.text().await);
    }

    async fn cast(&self, release: &str, value: &str) {
        self.goto(release).await;
        assert!(self.has("form#ballot").await, "no ballot form: {}", self.text().await);
        let select = self.client.find(Locator::Css("#value")).await.unwrap();
        select.select_by_value(value).await.unwrap();
        self.submit("ballot").await;
        assert!(self.notice().await.contains("ballot was recorded"));
    }
}

async fn fetch(base: &str, path: &str, dir: &Path) -> PathBuf {
    let bytes = reqwest::get(format!("{base}{path}")).await.unwrap().error_for_status().unwrap().bytes().await.unwrap();
    let file = dir.join(path.rsplit('/').next().unwrap());
    std::fs::write(&file, &bytes).unwrap();
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(clippy::too_many_lines, reason = "one walk of one release, step after step, in one browser")]
async fn a_release_walks_through_the_pages() {
    let started = Instant::now();
    let axe = axe_script();
    let data = tempfile::tempdir().unwrap();
    let (_demo, base) = start_demo(data.path());
    let (_driver, driver) = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .chain([format!("--user-data-dir={}", profile.path().display())])
    .collect::<Vec<_>>();
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), json!({ "binary": CHROMIUM, "args": args }));
    let client = ClientBuilder::native().capabilities(caps).connect(&driver).await.expect("chromedriver session");
    let mut b = Browser { client, base: base.clone(), axe, shots: screenshots(), checked: Vec::new() };

    // A visitor of the directory: projects, podlings marked, latest releases.
    b.goto("/").await;
    let text = b.text().await;
    assert!(text.contains("Apache HTTP Server") && text.contains("podling") && text.contains("main 2.4.66"), "{text}");
    assert!(!b.has("#signed-in").await);
    b.check_page("directory").await;
    // The header's search box: typed into and submitted, a results page grouped by kind.
    b.client.find(Locator::Css("#site-search")).await.unwrap().send_keys("2.4.6").await.unwrap();
    b.click("form.search button[type=submit]").await;
    assert_eq!(b.path().await, "/search");
    assert!(b.has("#releases a[href='/projects/httpd/releases/2.4.68']").await, "{}", b.text().await);
    b.check_page("search").await;
    b.goto("/projects/httpd/releases/2.4.68").await;
    assert!(b.text().await.contains("Signed by the keys"));
    assert!(!b.has("#actions").await, "an anonymous visitor is offered actions");
    b.check_page("release-candidate-anonymous").await;
    // The records the release page links to: the CVE it resolves and the key that signed it.
    b.click("#cves-resolved a").await;
    let text = b.text().await;
    assert!(
        text.contains("CVE-2026-10001") && text.contains("httpd 2.4.67") && text.contains("httpd 2.4.68"),
        "{text}"
    );
    b.check_page("cve").await;
    b.goto("/projects/httpd/releases/2.4.68").await;
    b.click("#signing-keys a").await;
    let text = b.text().await;
    assert!(text.contains("Demo Release Manager") && text.contains("httpd 2.4.66"), "{text}");
    b.check_page("key").await;
    b.goto("/projects/httpd/config").await;
    let text = b.text().await;
    assert!(text.contains("Vote policy of the product mod-tools") && text.contains("Demo Release Manager"), "{text}");
    assert!(!b.has("form#import-keys").await, "an anonymous visitor is offered the KEYS import");
    b.check_page("config").await;
    b.goto("/no/such/page").await;
    assert!(b.text().await.contains("There is no page at this address"));
    b.check_page("not-found").await;

    // The files of a real signed release of the demo, to upload into a new one.
    let files = tempfile::tempdir().unwrap();
    let mut upload = Vec::new();
    for name in ["httpd-2.4.66.tar.gz", "httpd-2.4.66.tar.gz.asc", "httpd-2.4.66.tar.gz.sha512"] {
        upload.push(fetch(&base, &format!("/current/httpd/2.4.66/{name}"), files.path()).await);
    }

    // The release manager starts a release and uploads its files.
    b.goto("/signin").await;
    b.check_page("sign-in").await;
    b.sign_in("rm").await;
    b.goto("/projects/httpd").await;
    assert!(b.text().await.contains("release manager"));
    b.check_page("project").await;
    // A task of the project's checks, and a file of the demo's draft moved through the form.
    b.goto("/tasks/1").await;
    let text = b.text().await;
    assert!(text.contains("Kind\nanalyze") && text.contains("httpd"), "{text}");
    b.check_page("task").await;
    b.goto("/projects/httpd/releases/2.5.0").await;
    let from = b.client.find(Locator::Css("#move-from")).await.unwrap();
    let first = from.find(Locator::Css("option")).await.unwrap().attr("value").await.unwrap().unwrap();
    b.client.find(Locator::Css("#move-to")).await.unwrap().send_keys(&format!("moved/{first}")).await.unwrap();
    b.submit("move-file").await;
    assert!(b.notice().await.contains("moved in a new revision"));
    assert!(b.text().await.contains(&format!("moved/{first}")));
    b.goto("/projects/httpd").await;
    b.client.find(Locator::Css("#version")).await.unwrap().send_keys("2.6.0").await.unwrap();
    b.submit("start-release").await;
    assert!(b.notice().await.contains("started as a draft"));
    let release = "/projects/httpd/releases/2.6.0";
    assert_eq!(b.path().await, release);
    assert!(!b.has("form#start-vote").await, "a vote is offered on a release without files");
    for file in &upload {
        b.client.find(Locator::Css("#file")).await.unwrap().send_keys(&file.display().to_string()).await.unwrap();
        b.submit("upload").await;
        assert!(b.notice().await.contains("uploaded as a new revision"));
    }
    // The checks of the third revision, shown once the task runner recorded them.
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        b.goto(release).await;
        let summary = b.client.find(Locator::Css("#checks-summary")).await.unwrap().text().await.unwrap();
        if summary.contains("success") {
            assert!(summary.starts_with("Revision 00003: 0 blocker(s)"), "{summary}");
            break;
        }
        assert!(Instant::now() < deadline, "the checks of revision 3 were not shown within 60 s: {summary}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let text = b.text().await;
    assert!(text.contains("httpd-2.4.66.tar.gz.asc") && text.contains("the signature is good"), "{text}");
    b.check_page("release-draft").await;
    assert!(!b.has("form#ballot").await, "the release manager is offered a ballot");
    b.submit("start-vote").await;
    assert!(b.notice().await.contains("vote was started"));
    assert_eq!(b.client.find(Locator::Css("#voted-revision")).await.unwrap().text().await.unwrap(), "00003");
    // A ballot posted anyway by someone who may not vote changes nothing.
    b.post_anyway(&format!("{release}/ballot"), json!({ "value": "+1" })).await;
    let refused = b.text().await;
    assert!(refused.contains("permission denied") && refused.contains("vote"), "{refused}");
    assert!(!b.has("#ballots").await, "a refused ballot was counted");
    b.check_page("release-refused").await;
    b.sign_out().await;

    // The PMC votes, binding; a committer votes non-binding and may not resolve.
    for pmc in ["alice", "bob", "carol"] {
        b.sign_in(pmc).await;
        b.goto(release).await;
        assert!(b.text().await.contains("Cast your ballot (binding)"));
        b.cast(release, "+1").await;
        b.sign_out().await;
    }
    b.sign_in("dev").await;
    b.goto(release).await;
    assert!(b.text().await.contains("Cast your ballot (non-binding)"));
    assert!(!b.has("form#resolve").await && !b.has("form#revoke").await && !b.has("form#upload").await);
    b.cast(release, "+1").await;
    b.post_anyway(&format!("{release}/resolve"), json!({ "outcome": "passed" })).await;
    let refused = b.text().await;
    assert!(refused.contains("permission denied") && refused.contains("Phase\ncandidate"), "{refused}");
    b.sign_out().await;

    // A visitor withdraws the demo's consent (and may no longer vote), then gives it again.
    b.sign_in("visitor").await;
    b.goto("/consent").await;
    assert!(b.text().await.contains("Consent given: Demo Visitor"));
    b.click("form.action button[type=submit]").await;
    assert!(b.text().await.contains("You have not given consent"));
    b.goto(release).await;
    assert!(!b.has("form#ballot").await, "a visitor without consent is offered a ballot");
    b.post_anyway(&format!("{release}/ballot"), json!({ "value": "+1" })).await;
    assert!(b.text().await.contains("after giving consent"));
    b.goto("/consent").await;
    b.check_page("consent").await;
    b.client.find(Locator::Css("#name")).await.unwrap().send_keys("Vera Visitor").await.unwrap();
    b.client.find(Locator::Css("#email")).await.unwrap().send_keys("vera@example.org").await.unwrap();
    b.click("form.action button[type=submit]").await;
    assert!(b.text().await.contains("Consent given: Vera Visitor"));
    b.cast(release, "0").await;
    b.sign_out().await;

    // The release manager reads the tally, resolves, announces; the folder is downloadable.
    b.sign_in("rm").await;
    b.goto(release).await;
    let binding = b.client.find(Locator::Css("#tally-binding")).await.unwrap().text().await.unwrap();
    let non_binding = b.client.find(Locator::Css("#tally-non-binding")).await.unwrap().text().await.unwrap();
    assert!(binding.starts_with("+1: 3,"), "{binding}");
    assert!(non_binding.starts_with("+1: 1, +0: 0, 0: 1"), "{non_binding}");
    assert_eq!(b.client.find(Locator::Css("#verdict")).await.unwrap().text().await.unwrap(), "passes");
    b.check_page("release-candidate").await;
    b.client.find(Locator::Css("#outcome")).await.unwrap().select_by_value("passed").await.unwrap();
    b.submit("resolve").await;
    assert!(b.notice().await.contains("vote was resolved"));
    assert!(b.text().await.contains("Phase\npreview"));
    b.client.find(Locator::Css("form#announce input[name=confirm]")).await.unwrap().click().await.unwrap();
    b.submit("announce").await;
    assert!(b.notice().await.contains("was announced"));
    assert!(b.text().await.contains("Stage\ncurrent"));
    b.check_page("release-current").await;
    b.goto("/current/httpd/2.6.0/").await;
    let listing = b.text().await;
    assert!(listing.contains("httpd-2.4.66.tar.gz.sha512") && listing.contains("gpg --verify"), "{listing}");
    assert!(b.has("a[href='/api/committees/httpd/KEYS']").await);
    b.check_page("download-folder").await;

    // Revoked: still on its page, with the reason.
    b.goto(release).await;
    b.client.find(Locator::Css("#reason")).await.unwrap().send_keys("superseded in the walk").await.unwrap();
    b.submit("revoke").await;
    assert!(b.notice().await.contains("was revoked"));
    let text = b.text().await;
    assert!(text.contains("Stage\nrevoked") && text.contains("superseded in the walk"), "{text}");
    assert!(!b.has("#actions").await, "a revoked release offers actions");
    b.check_page("release-revoked").await;

    // The histories: the project's for its release manager, the foundation's with the chain's
    // verification for an admin.
    b.goto("/projects/httpd/audit").await;
    let text = b.text().await;
    assert!(text.contains("httpd 2.6.0") && text.contains("revoked") && text.contains("shown to admins"), "{text}");
    b.check_page("project-audit").await;
    b.sign_out().await;
    b.sign_in("root").await;
    b.goto("/audit").await;
    let chain = b.client.find(Locator::Css("#chain")).await.unwrap().text().await.unwrap();
    assert!(chain.starts_with("The hash chain verifies"), "{chain}");
    b.check_page("audit").await;
    b.goto("/projects/httpd/config").await;
    assert!(b.has("form#import-keys").await, "an admin is not offered the KEYS import");
    b.check_page("config-admin").await;

    b.client.close().await.unwrap();
    for name in &b.checked {
        for size in ["390x844", "1440x900"] {
            assert!(b.shots.join(format!("{name}-{size}.png")).exists());
        }
    }
    eprintln!(
        "browser walk: {} pages checked and saved in {} ({:.1} s)",
        b.checked.len(),
        b.shots.display(),
        started.elapsed().as_secs_f64()
    );
}
