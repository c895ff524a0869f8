//! What the tests that run `atr` processes on a data directory share: the command with nothing
//! from the environment, a process killed when dropped, and hexadecimal digests.

use std::process::{Child, Command, Stdio};

use atr_store::StorageConfig;

/// `atr` with the data directory and database of the test and nothing from the environment (a
/// client configuration of its own inside the data directory).
pub(crate) fn atr(config: &StorageConfig) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_atr"));
    command.arg("--data-dir").arg(&config.data_dir);
    if let Some(url) = &config.database_url {
        command.arg("--database-url").arg(url);
    }
    for name in ["ATR_DATABASE_URL", "ATR_CONFIG", "ATR_SERVER", "ATR_TOKEN", "ATR_PASSWORD"] {
        command.env_remove(name);
    }
    command.env("XDG_CONFIG_HOME", config.data_dir.join("client-config"));
    command.stdin(Stdio::null());
    command
}

/// A running process, killed with SIGKILL when dropped.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Bytes as lowercase hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
        out
    })
}
