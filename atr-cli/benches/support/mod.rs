//! What the benches share: `atr serve --demo` over a fresh data directory, the release manager's
//! session, and the percentiles of a series of request times.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `atr serve --demo`, stopped when dropped.
pub(crate) struct Demo {
    child: Child,
    /// The service's address, `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    /// Its data directory, removed when the service has stopped.
    pub(crate) data: Option<tempfile::TempDir>,
}

impl Demo {
    /// Starts the service with the demo data and `extra` flags, and waits until the demo is loaded.
    pub(crate) fn start(extra: &[&str]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_atr"))
            .arg("--data-dir")
            .arg(data.path())
            .args(["serve", "--listen", "127.0.0.1:0", "--demo"])
            .args(extra)
            .env_remove("ATR_DATABASE_URL")
            .env_remove("ATR_CONFIG")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let base = first.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_owned();
        lines.by_ref().map(Result::unwrap).find(|l| l.starts_with("demo loaded")).unwrap();
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, base, data: Some(data) }
    }

    /// The `Cookie` value of a session of the demo's release manager.
    pub(crate) async fn rm_cookie(&self, client: &reqwest::Client) -> String {
        let signed_in = client
            .post(format!("{}/api/session", self.base))
            .json(&serde_json::json!({ "user": "rm", "password": "atr-demo-password" }))
            .send()
            .await
            .unwrap();
        signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(data) = self.data.take() {
            let _ = data.close();
        }
    }
}

/// The 95th and 50th percentiles of `times`.
pub(crate) fn percentiles(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    let at = (times.len() * 95).div_ceil(100).saturating_sub(1);
    (times[at], times[times.len() / 2])
}
