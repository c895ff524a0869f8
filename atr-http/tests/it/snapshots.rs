//! The API's answers along a whole release, as JSON snapshots (times, ids and chain hashes
//! redacted): every engine must give the same bytes, and any change of the wire contract shows
//! up as a diff of `tests/it/snapshots/`.

use atr_testkit::insta::assert_json_snapshot;
use atr_testkit::{Auth, Body, Method, StatusCode, TestApp};
use serde_json::json;

const RELEASE: &str = "/api/projects/demo/releases/1.0.0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_through_the_api() {
    for app in TestApp::all().await {
        let people = app.foundation().await;
        let (rm, pmc, dev) = (Auth::Session(&people.rm), Auth::Session(&people.pmc), Auth::Session(&people.committer));

        let project = app.get("/api/projects/demo", Auth::Nobody).await;
        assert_json_snapshot!("project", project.snapshot());

        let started = app.post("/api/projects/demo/releases", rm, &json!({ "version": "1.0.0" })).await;
        started.expect(StatusCode::CREATED);
        assert_json_snapshot!("started", started.snapshot());

        let artifact = "apache-demo-1.0.0.tar.gz";
        let mut uploads = Vec::new();
        for (file, bytes) in [
            (artifact.to_owned(), b"the voted bytes\n".to_vec()),
            (format!("{artifact}.asc"), b"-----BEGIN PGP SIGNATURE-----\n".to_vec()),
            (format!("{artifact}.sha512"), b"0000  apache-demo-1.0.0.tar.gz\n".to_vec()),
        ] {
            let uri = format!("{RELEASE}/files/{file}");
            let answer = app.send(Method::PUT, &uri, rm, Body::Raw("application/octet-stream", bytes)).await;
            answer.expect(StatusCode::CREATED);
            uploads.push(answer.snapshot());
        }
        assert_json_snapshot!("uploads", uploads);
        app.complete_analyze_tasks().await;

        let release = app.get(RELEASE, dev).await;
        assert_json_snapshot!("release_draft", release.snapshot());
        let revisions = app.get(&format!("{RELEASE}/revisions"), dev).await;
        assert_json_snapshot!("revisions", revisions.snapshot());

        let refused = app.post(&format!("{RELEASE}/vote"), dev, &json!({ "revision": 3 })).await;
        refused.expect(StatusCode::FORBIDDEN);
        assert_json_snapshot!("vote_refused_to_a_committer", refused.snapshot());
        let vote = app.post(&format!("{RELEASE}/vote"), rm, &json!({ "revision": 3 })).await;
        vote.expect(StatusCode::OK);
        assert_json_snapshot!("vote_started", vote.snapshot());

        let binding = app.post(&format!("{RELEASE}/ballots"), pmc, &json!({ "value": "+1", "comment": null })).await;
        binding.expect(StatusCode::CREATED);
        let other = json!({ "value": "+1", "comment": "checked the signature" });
        let non_binding = app.post(&format!("{RELEASE}/ballots"), dev, &other).await;
        non_binding.expect(StatusCode::CREATED);
        assert_json_snapshot!("ballots", [binding.snapshot(), non_binding.snapshot()]);

        let tally = app.get(&format!("{RELEASE}/tally"), Auth::Nobody).await;
        assert_json_snapshot!("tally", tally.snapshot());
        let events = app.get("/api/events?project=demo&version=1.0.0", Auth::Nobody).await;
        events.expect(StatusCode::OK);
        assert_json_snapshot!("events", events.snapshot());
        app.finish().await;
    }
}
