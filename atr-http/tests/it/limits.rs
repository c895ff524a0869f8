//! The service's defences against hostile and slow clients: sign-in throttling, the request
//! head timeout (also the idle timeout of kept-alive connections), the cap on open connections,
//! and uploads that stall.

use std::time::{Duration, Instant};

use atr_http::{HttpConfig, ServeConfig};
use atr_testkit::{Auth, StatusCode, TestApp};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn sign_in(user: &str, password: &str) -> serde_json::Value {
    json!({ "user": user, "password": password })
}

#[tokio::test]
async fn refused_sign_ins_are_throttled_by_account_and_by_address() {
    let app = TestApp::sqlite().await;
    for user in ["alice", "bob"] {
        app.account(user, false).await;
    }
    // Five refusals for alice lock her account name, even with the right password after.
    for _ in 0..5 {
        app.post("/api/session", Auth::Nobody, &sign_in("alice", "wrong password guess")).await.expect(401_u16);
    }
    let locked = app.post("/api/session", Auth::Nobody, &sign_in("alice", atr_testkit::PASSWORD)).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{}", locked.text);
    assert_eq!(locked.code(), "too_many_requests");
    let retry: u64 = locked.header("retry-after").parse().expect("a Retry-After in seconds");
    assert!((1..=300).contains(&retry), "{retry}");
    assert_eq!(locked.json["error"]["details"]["retry_after"], retry);
    assert!(locked.set_cookie_absent(), "a throttled sign-in starts no session");
    // Bob, from the same address, is not locked by alice's refusals.
    app.post("/api/session", Auth::Nobody, &sign_in("bob", atr_testkit::PASSWORD)).await.expect(200_u16);

    // Twenty refusals from one address, each for another name, lock the address for everyone.
    for n in 0..20 {
        app.post("/api/session", Auth::Nobody, &sign_in(&format!("guess{n}"), "wrong password guess")).await;
    }
    let address_locked = app.post("/api/session", Auth::Nobody, &sign_in("bob", atr_testkit::PASSWORD)).await;
    assert_eq!(address_locked.status, StatusCode::TOO_MANY_REQUESTS, "{}", address_locked.text);
    app.finish().await;
}

/// Reads until the server closes the connection, at most `bound`; answers what came and when
/// the connection closed.
async fn read_until_closed(stream: &mut TcpStream, bound: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let read = tokio::time::timeout(bound, stream.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the server kept the connection open for {bound:?}");
    (String::from_utf8_lossy(&received).into_owned(), started.elapsed())
}

async fn app_with(serving: ServeConfig, config: HttpConfig) -> TestApp {
    TestApp::start_serving(atr_store::testing::sqlite().await, config, serving).await
}

fn address(app: &TestApp) -> String {
    app.url.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn slow_heads_and_idle_connections_are_closed_after_the_head_timeout() {
    let serving = ServeConfig { header_read_timeout: Duration::from_secs(1), ..ServeConfig::default() };
    let app = app_with(serving, HttpConfig::default()).await;

    // A client that sends half a request head and then nothing.
    let mut slow = TcpStream::connect(address(&app)).await.unwrap();
    slow.write_all(b"GET /api/projects HTTP/1.1\r\nHost: loc").await.unwrap();
    let (answer, after) = read_until_closed(&mut slow, Duration::from_secs(10)).await;
    assert!(after >= Duration::from_millis(900), "closed too early: {after:?}");
    assert!(!answer.contains("200 OK"), "a half head was answered: {answer}");

    // A client that is answered, keeps the connection and goes quiet.
    let mut idle = TcpStream::connect(address(&app)).await.unwrap();
    idle.write_all(b"GET /api/projects HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let (answer, _) = read_until_closed(&mut idle, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("[]"), "the listing of no projects: {answer}");
    app.finish().await;
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_closes() {
    let serving =
        ServeConfig { max_connections: 1, header_read_timeout: Duration::from_secs(30), ..ServeConfig::default() };
    let app = app_with(serving, HttpConfig::default()).await;
    let holder = TcpStream::connect(address(&app)).await.unwrap();
    // Let the server take the first connection before the second arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut waiting = TcpStream::connect(address(&app)).await.unwrap();
    waiting.write_all(b"GET /api/projects HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut first = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), waiting.read(&mut first)).await;
    assert!(early.is_err(), "the second connection was served while the cap was taken");
    drop(holder);
    let (answer, _) = read_until_closed(&mut waiting, Duration::from_secs(10)).await;
    let answer = format!("{}{answer}", String::from_utf8_lossy(&first));
    assert!(answer.contains("200 OK"), "{answer}");
    app.finish().await;
}

#[tokio::test]
async fn an_upload_that_stalls_is_dropped_and_leaves_no_revision() {
    let config = HttpConfig { body_stall_timeout: Duration::from_secs(1), ..HttpConfig::default() };
    let app = app_with(ServeConfig::default(), config).await;
    let people = app.foundation().await;
    let rm = Auth::Session(&people.rm);
    app.post("/api/projects/demo/releases", rm, &json!({ "version": "1.0.0" })).await.expect(201_u16);

    let mut stalling = TcpStream::connect(address(&app)).await.unwrap();
    let head = format!(
        "PUT /api/projects/demo/releases/1.0.0/files/a.tar.gz HTTP/1.1\r\nHost: localhost\r\n\
         Cookie: atr_session={}\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nonly a few bytes",
        people.rm
    );
    stalling.write_all(head.as_bytes()).await.unwrap();
    let (answer, after) = read_until_closed(&mut stalling, Duration::from_secs(20)).await;
    assert!(after >= Duration::from_millis(900), "dropped too early: {after:?}");
    assert!(answer.contains("sent nothing for 1 s"), "{answer}");
    let revisions = app.get("/api/projects/demo/releases/1.0.0/revisions", Auth::Session(&people.rm)).await;
    assert_eq!(revisions.expect(200_u16), &json!([]), "the stalled upload made a revision");
    app.finish().await;
}

/// What axum's router and extractors answer on their own has the API's error shape too, and no
/// message names the service's types.
#[tokio::test]
async fn every_api_refusal_has_the_error_shape() {
    let config = HttpConfig { max_upload_bytes: 1 << 20, ..HttpConfig::default() };
    let app = app_with(ServeConfig::default(), config).await;
    let people = app.foundation().await;
    let rm = Auth::Session(&people.rm);

    // An unknown route under /api, and a method a route does not take.
    let nowhere = app.get("/api/no/such/thing", Auth::Nobody).await;
    assert_eq!((nowhere.status, nowhere.code()), (StatusCode::NOT_FOUND, "no_route"), "{}", nowhere.text);
    let wrong_method = app.delete("/api/projects", Auth::Nobody).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.code(), "method_not_allowed", "{}", wrong_method.text);
    assert!(!wrong_method.header("allow").is_empty(), "a 405 says which methods the path takes");

    // A path parameter that is not UTF-8, sent raw.
    let (status, raw) =
        app.raw("GET /api/projects/%FF%FE HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status, 400, "{raw}");
    assert!(raw.contains("\"code\":\"bad_request\""), "{raw}");

    // A body of the wrong type names no type of the service.
    let mistyped = app.post("/api/projects/demo/releases", rm, &json!(100)).await;
    assert_eq!(mistyped.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", mistyped.text);
    assert!(mistyped.message().contains("expected a JSON object"), "{}", mistyped.text);
    assert!(!mistyped.text.contains("NewRelease"), "{}", mistyped.text);

    // A JSON body past a route's limit is 413, not a failure to buffer.
    let big = json!({ "version": "1.0.0", "product": "x".repeat(3 << 20) });
    let too_big = app.post("/api/projects/demo/releases", rm, &big).await;
    assert_eq!((too_big.status, too_big.code()), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"), "{}", too_big.text);
    app.finish().await;
}

#[tokio::test]
async fn one_person_runs_a_bounded_number_of_uploads_at_once() {
    let config = HttpConfig { max_uploads_per_person: 1, ..HttpConfig::default() };
    let app = app_with(ServeConfig::default(), config).await;
    let people = app.foundation().await;
    let rm = Auth::Session(&people.rm);
    app.post("/api/projects/demo/releases", rm, &json!({ "version": "1.0.0" })).await.expect(201_u16);
    let files = "/api/projects/demo/releases/1.0.0/files";

    // An upload that is still sending holds the release manager's only slot. Each attempt
    // waits until the slow upload has reached the server, and only then tries a second one, so
    // that the two never race for the slot.
    let put_other = || async {
        let body = atr_testkit::Body::Raw("application/octet-stream", b"x".to_vec());
        app.send(atr_testkit::Method::PUT, &format!("{files}/other.txt"), rm, body).await
    };
    let mut holding = None;
    for _ in 0..20 {
        let mut slow = TcpStream::connect(address(&app)).await.unwrap();
        let head = format!(
            "PUT {files}/slow.tar.gz HTTP/1.1\r\nHost: localhost\r\nCookie: atr_session={}\r\n\
             Content-Length: 1000\r\n\r\nthe first bytes",
            people.rm
        );
        slow.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let answer = put_other().await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            holding = Some((slow, answer));
            break;
        }
    }
    let (slow, refused) = holding.expect("a second upload while the first still sends is refused");
    assert_eq!(refused.code(), "too_many_requests");
    assert!(refused.message().contains("already runs 1 uploads"), "{}", refused.text);
    assert_eq!(refused.header("retry-after"), "5");

    // When the slow client goes away, its slot comes back.
    drop(slow);
    let mut stored = false;
    for _ in 0..50 {
        let answer = put_other().await;
        if answer.status == StatusCode::CREATED {
            stored = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(stored, "the slot of the dropped upload was never given back");
    app.finish().await;
}
