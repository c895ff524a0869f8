//! Talking to the service: one HTTP client per command, the service's error shape turned into a
//! [`Failure`] with an exit code and a next step.

use std::fmt::Write as _;

use atr_api::Operation;
use atr_api::endpoints::SignOut;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The exit codes of the client commands.
pub(crate) mod exit {
    /// Failed checks (blockers), or any other error.
    pub(crate) const FAILED: i32 = 1;
    /// The command line, or a value it carried, is wrong.
    pub(crate) const USAGE: i32 = 2;
    /// Not signed in, or the service refused the action (401, 403).
    pub(crate) const REFUSED: i32 = 3;
    /// What the command names does not exist (404).
    pub(crate) const NOT_FOUND: i32 = 4;
    /// The action conflicts with the current state (409).
    pub(crate) const CONFLICT: i32 = 5;
    /// The checks of the revision have not completed: still queued or running, waiting for a
    /// task runner that is not there, or ended without completing.
    pub(crate) const CHECKS_INCOMPLETE: i32 = 6;
}

/// Why a command failed: the `error:` line, what to do next, and the exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    pub code: i32,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    pub(crate) fn new(code: i32, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), hint: None }
    }

    /// A failure with exit code 1.
    pub(crate) fn other(message: impl Into<String>) -> Self {
        Self::new(exit::FAILED, message)
    }

    /// A failure with exit code 2: the command line is wrong.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(exit::USAGE, message)
    }

    /// Replaces the next step.
    #[must_use]
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Replaces the next step of a failure with this exit code only.
    #[must_use]
    pub(crate) fn hint_for(self, code: i32, hint: impl Into<String>) -> Self {
        if self.code == code { self.hint(hint) } else { self }
    }
}

/// The result of a client command.
pub(crate) type Outcome<T = ()> = Result<T, Failure>;

/// A connection to the service.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    server: String,
    token: Option<String>,
    /// A session cookie (`atr_session=...`), sent instead of the token.
    session: Option<String>,
    /// Whose session it is.
    session_user: Option<String>,
}

/// What a request carried to say who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    Nothing,
    Token,
    /// A session; the user, if known, is for the hint.
    Session,
}

impl Api {
    /// A client of `server` (`http://host:port`, without a trailing slash) that sends `token`.
    pub(crate) fn new(server: &str, token: Option<String>) -> Outcome<Self> {
        let server = server.trim().trim_end_matches('/').to_owned();
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            return Err(Failure::usage(format!("the server {server:?} is not an http:// or https:// address"))
                .hint("pass --server https://atr.example.org (or set ATR_SERVER)"));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(30))
            .user_agent(concat!("atr/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Failure::other(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { http, server, token, session: None, session_user: None })
    }

    pub(crate) fn server(&self) -> &str {
        &self.server
    }

    pub(crate) fn has_token(&self) -> bool {
        self.token.is_some() || self.session.is_some()
    }

    /// A client that sends the session `cookie` (`atr_session=...`) of `user` instead of a token.
    pub(crate) fn with_session(&self, cookie: String, user: Option<String>) -> Self {
        Self { session: Some(cookie), session_user: user, ..self.clone() }
    }

    /// The session cookie this client sends, if any.
    pub(crate) fn session_cookie(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// Signs in with a local account (`POST /api/session`), for what tokens may not do (create
    /// tokens, vote): the answer is a client that sends the session instead of the token.
    pub(crate) async fn sign_in(&self, user: &str, password: &str) -> Outcome<Self> {
        Ok(self.start_session(user, password).await?.0)
    }

    /// Signs in like [`Api::sign_in`], answering the session's description too.
    pub(crate) async fn open_session(&self, user: &str, password: &str) -> Outcome<(Self, atr_api::Session)> {
        let (session, described) = self.start_session(user, password).await?;
        match described {
            Ok(described) => Ok((session, described)),
            Err(failure) => {
                session.sign_out().await;
                Err(failure)
            }
        }
    }

    /// Signs in: the client with the session, and the session's description as the service
    /// answered it.
    async fn start_session(&self, user: &str, password: &str) -> Outcome<(Self, Outcome<atr_api::Session>)> {
        use atr_api::Operation as _;
        let path = atr_api::endpoints::SignInWithPassword::ENDPOINT.path;
        let body = atr_api::SignIn { user: user.to_owned(), password: password.to_owned() };
        let request = self.http.post(self.url(path)).json(&body);
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        if !response.status().is_success() {
            let failure = failure_of(response, Sent::Nothing).await;
            return Err(failure.hint_for(exit::REFUSED, "check the user, and the password in ATR_PASSWORD"));
        }
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(str::trim)
            .find(|pair| pair.starts_with("atr_session="))
            .map(str::to_owned)
            .ok_or_else(|| Failure::other("the service answered the sign-in without a session"))?;
        let described = Reply::<atr_api::Session>::read(response).await.map(|reply| reply.body);
        Ok((
            Self { session: Some(cookie), session_user: Some(user.to_owned()), token: None, ..self.clone() },
            described,
        ))
    }

    /// Ends the session of a client from [`Api::sign_in`]; a failure only leaves it to expire.
    pub(crate) async fn sign_out(&self) {
        if self.session.is_some() {
            let _ = self.request_for(SignOut, SignOut::ENDPOINT.path).send().await;
        }
    }

    /// The absolute address of a path of the service.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }

    /// A request to a path of the service, with the token if there is one.
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self.http.request(method, self.url(path));
        match (&self.session, &self.token) {
            (Some(cookie), _) => builder.header(reqwest::header::COOKIE, cookie),
            (None, Some(token)) => builder.bearer_auth(token),
            (None, None) => builder,
        }
    }

    /// A request to any address, without the token (downloads are public).
    pub(crate) fn anonymous(&self, method: Method, url: &str) -> RequestBuilder {
        self.http.request(method, url)
    }

    /// Sends a request; an answer that is not a success becomes a [`Failure`].
    pub(crate) async fn send(&self, request: RequestBuilder) -> Outcome<Response> {
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            let sent = match (&self.session, &self.token) {
                (Some(_), _) => Sent::Session,
                (None, Some(_)) => Sent::Token,
                (None, None) => Sent::Nothing,
            };
            let failure = failure_of(response, sent).await;
            Err(match (sent, &self.session_user) {
                (Sent::Session, Some(user)) => failure.hint_for(
                    exit::REFUSED,
                    format!(
                        "the session of {user} has ended or was refused: sign in again with `atr login --user {user}`"
                    ),
                ),
                _ => failure,
            })
        }
    }

    /// A request for `operation` of the API's catalogue at `path` (its template filled in, see
    /// [`path_of`]), with the token if there is one.
    pub(crate) fn request_for<O: Operation>(&self, _: O, path: &str) -> RequestBuilder {
        self.request(method_of(O::ENDPOINT.method), path)
    }

    /// Calls `operation` at `path` with a JSON `body` (none for `None`), and reads its typed answer.
    pub(crate) async fn op<O>(&self, operation: O, path: &str, body: Option<&O::Request>) -> Outcome<Reply<O::Response>>
    where
        O: Operation,
        O::Request: Serialize,
        O::Response: DeserializeOwned,
    {
        let mut request = self.request_for(operation, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        Reply::read(self.send(request).await?).await
    }

    /// The failure of a request that got no answer.
    pub(crate) fn unreachable(&self, error: &reqwest::Error) -> Failure {
        let mut message = format!("cannot reach {}: {error}", self.server);
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            let _ = write!(message, ": {cause}");
            source = cause.source();
        }
        Failure::other(message)
            .hint("check the address (--server, ATR_SERVER or `atr login`) and that the service runs")
    }
}

/// A successful answer: its status, the JSON as the service sent it (what `--json` prints), and
/// the same read as the API's wire type.
#[derive(Debug)]
pub(crate) struct Reply<T> {
    pub status: StatusCode,
    pub json: Value,
    pub body: T,
}

impl<T: DeserializeOwned> Reply<T> {
    /// Reads a successful answer as `T`.
    pub(crate) async fn read(response: Response) -> Outcome<Self> {
        let status = response.status();
        let json = read_json(response).await?;
        let body = serde_json::from_value(json.clone()).map_err(|e| {
            Failure::other(format!("the service answered JSON that does not fit the API's description: {e}"))
                .hint("the service and this atr may be of different versions: `atr --version` shows this one's")
        })?;
        Ok(Self { status, json, body })
    }
}

/// The path of `operation` with its parameters filled in (each percent-encoded) and a `query`
/// (`?a=b&...`, or empty) appended.
pub(crate) fn path_of<O: Operation>(_: O, params: &[(&str, &str)], query: &str) -> String {
    format!("{}{query}", O::ENDPOINT.fill(params))
}

fn method_of(method: atr_api::endpoints::Method) -> Method {
    match method {
        atr_api::endpoints::Method::Get => Method::GET,
        atr_api::endpoints::Method::Post => Method::POST,
        atr_api::endpoints::Method::Put => Method::PUT,
        atr_api::endpoints::Method::Delete => Method::DELETE,
    }
}

/// The JSON of a successful answer; an empty body is `null`.
pub(crate) async fn read_json(response: Response) -> Outcome<Value> {
    let text = response.text().await.map_err(|e| Failure::other(format!("the answer was cut off: {e}")))?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text)
        .map_err(|e| Failure::other(format!("the service answered something that is not JSON: {e}")))
}

/// The failure of an answer that is not a success, from the service's error shape
/// `{"error": {"code", "message", "details"}}`.
pub(crate) async fn failure_of(response: Response, sent: Sent) -> Failure {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| {
            let text = text.trim();
            if text.is_empty() { format!("the service answered {status}") } else { format!("{status}: {text}") }
        });
    match status {
        StatusCode::UNAUTHORIZED if sent == Sent::Token => Failure::new(exit::REFUSED, message)
            .hint("the token was refused: create a new one (`atr token create`) and store it with `atr login`"),
        StatusCode::UNAUTHORIZED if sent == Sent::Session => Failure::new(exit::REFUSED, message)
            .hint("the session has ended: sign in again with `atr login --user USER`"),
        StatusCode::UNAUTHORIZED => Failure::new(exit::REFUSED, message).hint(
            "sign in first: run `atr login --server URL` with a token or `atr login --user USER` \
             (or pass --token / set ATR_TOKEN)",
        ),
        StatusCode::FORBIDDEN => Failure::new(exit::REFUSED, message).hint(
            "use an account or a token that has this permission (`atr whoami` shows what yours allows; \
             `atr token create --action ...` makes one)",
        ),
        StatusCode::NOT_FOUND => Failure::new(exit::NOT_FOUND, message)
            .hint("check the names: `atr release show PROJECT VERSION` shows a release"),
        StatusCode::CONFLICT => Failure::new(exit::CONFLICT, message)
            .hint("the release is not in a state that allows this: `atr release show PROJECT VERSION` shows it"),
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            Failure::new(exit::USAGE, message).hint("fix the value named above and run the command again")
        }
        StatusCode::PAYLOAD_TOO_LARGE => Failure::other(message).hint("the service's upload limit is lower"),
        _ => Failure::other(message),
    }
}

/// Percent-encodes one path segment.
pub(crate) fn segment(text: &str) -> String {
    atr_api::endpoints::segment(text)
}

/// Percent-encodes a path of segments separated by `/`.
pub(crate) fn segments(path: &str) -> String {
    path.split('/').map(segment).collect::<Vec<_>>().join("/")
}
