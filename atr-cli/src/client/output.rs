//! What the client writes: answers on stdout, progress and errors on stderr, colors only on a
//! terminal and never under `NO_COLOR`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use super::api::Failure;

/// Whether to color a stream: never when `NO_COLOR` is set (to anything but the empty string),
/// always when `CLICOLOR_FORCE` is set (to anything but `0`), else only on a terminal.
pub(crate) fn color_enabled(terminal: bool) -> bool {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    if std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") {
        return true;
    }
    terminal
}

/// ANSI colors for one stream, or none.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paint {
    on: bool,
}

impl Paint {
    pub(crate) fn stdout() -> Self {
        Self { on: color_enabled(std::io::stdout().is_terminal()) }
    }

    pub(crate) fn stderr() -> Self {
        Self { on: color_enabled(std::io::stderr().is_terminal()) }
    }

    fn wrap(self, code: &str, text: &str) -> String {
        if self.on { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    pub(crate) fn red(self, text: &str) -> String {
        self.wrap("1;31", text)
    }

    pub(crate) fn yellow(self, text: &str) -> String {
        self.wrap("33", text)
    }

    pub(crate) fn green(self, text: &str) -> String {
        self.wrap("32", text)
    }

    pub(crate) fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }
}

/// Writes a failure to stderr: the `error:` line, then what to do next.
pub(crate) fn report(failure: &Failure) {
    let paint = Paint::stderr();
    eprintln!("{} {}", paint.red("error:"), failure.message);
    if let Some(hint) = &failure.hint {
        eprintln!("{} {hint}", paint.bold("hint:"));
    }
}

/// Writes a JSON value to stdout, pretty.
pub(crate) fn print_json(value: &Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

/// A byte progress bar on stderr (bytes, rate, time left), only when stderr is a terminal.
pub(crate) fn progress_bar(len: u64, label: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}")
        .map_or_else(|_| ProgressStyle::default_bar(), |s| s.progress_chars("=> "));
    bar.set_style(style);
    bar.set_message(label.to_owned());
    Some(bar)
}

/// A spinner on stderr, only when stderr is a terminal.
pub(crate) fn spinner(message: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

/// A Unix time in seconds as `2026-01-31 14:05 UTC`.
pub(crate) fn date(seconds: i64) -> String {
    // RFC 3339 (`2026-01-31T14:05:09Z`) cut to the minute, for people.
    let rfc3339 = atr_core::types::Timestamp::from_unix(seconds).to_string();
    format!("{} {} UTC", &rfc3339[..10], &rfc3339[11..16])
}

/// A text that may be absent, or `-`.
pub(crate) fn text(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}

/// Texts joined with `,`, or `-` when there are none.
pub(crate) fn list<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() { "-".to_owned() } else { items.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(",") }
}

/// The name a value of one of the API's enums has on the wire, such as `candidate` or `manage_keys`.
pub(crate) fn name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name,
        _ => "-".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_read_to_the_minute_in_utc() {
        assert_eq!(super::date(1_780_000_000), "2026-05-28 20:26 UTC");
        assert_eq!(super::date(0), "1970-01-01 00:00 UTC");
    }

    #[test]
    fn names_and_lists() {
        assert_eq!(super::name(&atr_api::ReleaseState::AtRest), "atrest");
        assert_eq!(super::name(&atr_api::Activity::ManageKeys), "manage_keys");
        assert_eq!(super::list::<String>(&[]), "-");
        assert_eq!(super::list(&["a", "b"]), "a,b");
        assert_eq!(super::text(None), "-");
    }
}
