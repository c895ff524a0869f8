//! The stored sign-in: `credentials.toml` in the user's config directory (`$XDG_CONFIG_HOME/atr`
//! or `~/.config/atr` on Linux), readable by its owner only, holding one server and either a
//! token (`atr login`) or a person's short-lived session (`atr login --user`).

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::api::{Failure, Outcome};

/// What `atr login` stores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Stored {
    pub server: String,
    /// An access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A session cookie, `atr_session=...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Who the session is of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// When the session ends (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_expires_at: Option<i64>,
}

impl Stored {
    /// A token for `server`.
    pub(crate) fn token(server: &str, token: String) -> Self {
        Self { server: server.to_owned(), token: Some(token), session: None, user: None, session_expires_at: None }
    }

    /// A session of `user` on `server`.
    pub(crate) fn session(server: &str, cookie: String, user: &str, expires_at: i64) -> Self {
        Self {
            server: server.to_owned(),
            token: None,
            session: Some(cookie),
            user: Some(user.to_owned()),
            session_expires_at: Some(expires_at),
        }
    }
}

/// Where the credentials live, if the system has a config directory.
pub(crate) fn path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("atr").join("credentials.toml"))
}

/// The stored credentials, if any.
pub(crate) fn load() -> Outcome<Option<Stored>> {
    let Some(path) = path() else { return Ok(None) };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Failure::other(format!("cannot read {}: {e}", path.display()))),
    };
    if let Ok(meta) = std::fs::metadata(&path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!("warning: {} is readable by others; run `chmod 600` on it", path.display());
    }
    toml::from_str(&text).map(Some).map_err(|e| {
        Failure::other(format!("{} is not a credentials file: {e}", path.display()))
            .hint("run `atr login` again to rewrite it")
    })
}

/// Stores the credentials, replacing the file atomically; the file is created with mode 0600.
pub(crate) fn save(stored: &Stored) -> Outcome<PathBuf> {
    let path = path().ok_or_else(|| Failure::other("this system has no config directory to keep the token in"))?;
    let dir = path.parent().ok_or_else(|| Failure::other("the credentials path has no folder"))?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Failure::other(format!("cannot create {}: {e}", dir.display())))?;
    let text = toml::to_string(stored).map_err(|e| Failure::other(format!("cannot write the credentials: {e}")))?;
    let temporary = dir.join(".credentials.toml.new");
    let _ = std::fs::remove_file(&temporary);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(Failure::other(format!("cannot write {}: {e}", path.display())));
    }
    Ok(path)
}

/// Deletes the stored credentials; false if there were none.
pub(crate) fn forget() -> Outcome<bool> {
    let Some(path) = path() else { return Ok(false) };
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Failure::other(format!("cannot delete {}: {e}", path.display()))),
    }
}
