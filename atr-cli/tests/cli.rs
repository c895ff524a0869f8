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
    let (ok, out, err) = atr(dir.path(), &["migrate"]);
    assert!(ok, "{err}");
    assert!(out.contains("1 migration(s) applied now"), "{out}");
    assert!(dir.path().join("atr.db").is_file());
    let (ok, out, _) = atr(dir.path(), &["migrate"]);
    assert!(ok);
    assert!(out.contains("0 migration(s) applied now, 1 in all"), "{out}");
    let (ok, out, err) = atr(dir.path(), &["verify-events"]);
    assert!(ok, "{err}");
    assert!(out.contains("audit log intact: 0 event(s)"), "{out}");
}

#[test]
fn a_bad_database_url_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = atr(dir.path(), &["--database-url", "mysql://db/atr", "migrate"]);
    assert!(!ok);
    assert!(err.contains("sqlite: or postgres://"), "{err}");
}
