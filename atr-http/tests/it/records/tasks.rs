//! The task queue: reading tasks, counts, Analyze queued once per revision, cancel and retry.

use axum::http::StatusCode;
use serde_json::{Value, json};

use atr_store::sql::{DEFAULT_MAX_ATTEMPTS, NewTask};

use super::sites;

fn ids(answer: &Value) -> Vec<i64> {
    answer.as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn analyze_is_queued_once_per_revision() {
    for site in sites().await {
        let uri = "/api/projects/demo/releases/1.0.0/analyze";
        let first = site.post(uri, Some("pmc"), json!({ "revision": 1 })).await;
        let first = first.expect(StatusCode::CREATED).clone();
        assert_eq!(first["kind"], "analyze");
        assert_eq!(first["status"], "queued");
        assert_eq!(first["args"]["revision"], 1);
        assert_eq!(first["args"]["release"]["version"], "1.0.0");
        assert_eq!(
            first["id"], site.analyze_task,
            "the upload's task is still queued: the same work is not queued twice"
        );
        let second = site.post(uri, Some("pmc"), json!({ "revision": 1 })).await;
        assert_eq!(second.expect(StatusCode::CREATED)["id"], first["id"]);

        // A new revision gets its own task.
        let upload = site.upload("1.0.0", "NOTICE", "Apache Demo\nCopyright The Apache Software Foundation\n").await;
        let second_revision = site.post(uri, Some("pmc"), json!({ "revision": 2 })).await;
        let second_revision = second_revision.expect(StatusCode::CREATED);
        assert_eq!(second_revision["id"], upload["analyze_task"]["id"]);
        assert_ne!(second_revision["id"], first["id"]);

        // Refusals.
        site.post(uri, None, json!({ "revision": 1 })).await.expect(StatusCode::UNAUTHORIZED);
        let committer = site.post(uri, Some("committer"), json!({ "revision": 1 })).await;
        assert_eq!(committer.expect(StatusCode::FORBIDDEN)["error"]["details"]["activity"], "manage_release");
        site.post(uri, Some("pmc"), json!({ "revision": 7 })).await.expect(StatusCode::NOT_FOUND);
        site.post(uri, Some("pmc"), json!({ "revision": 0 })).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        site.post(uri, Some("pmc"), json!({ "revision": "one" })).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let unknown = "/api/projects/demo/releases/9.9.9/analyze";
        site.post(unknown, Some("pmc"), json!({ "revision": 1 })).await.expect(StatusCode::NOT_FOUND);
        let bad = "/api/projects/demo/releases/1..0/analyze";
        site.post(bad, Some("pmc"), json!({ "revision": 1 })).await.expect(StatusCode::BAD_REQUEST);
        // Running every check again, reusing nothing, is an admin's call.
        let forced = site.post(uri, Some("pmc"), json!({ "revision": 1, "force": true })).await;
        assert_eq!(forced.expect(StatusCode::FORBIDDEN)["error"]["details"]["activity"], "manage_tasks");
        let queued = site.get("/api/tasks?status=queued", Some("pmc")).await;
        assert_eq!(ids(queued.expect(StatusCode::OK)).len(), 2, "refused requests queue nothing");
        let forced = site.post(uri, Some("admin"), json!({ "revision": 1, "force": true })).await;
        let forced = forced.expect(StatusCode::CREATED).clone();
        assert_eq!((&forced["args"]["force"], &forced["args"]["revision"]), (&json!(true), &json!(1)));
        assert_ne!(forced["id"], first["id"], "a forced run is work of its own");
        site.finish().await;
    }
}

#[tokio::test]
async fn tasks_are_read_by_signed_in_callers_who_may_see_the_project() {
    for site in sites().await {
        let id = site.analyze_task;
        let one = site.get(&format!("/api/tasks/{id}"), Some("committer")).await;
        let one = one.expect(StatusCode::OK);
        assert_eq!(one["id"], id);
        assert_eq!(one["status"], "queued");
        assert!(one.get("fence").is_none() && one.get("lease_owner").is_none(), "{one}");
        site.get(&format!("/api/tasks/{id}"), None).await.expect(StatusCode::UNAUTHORIZED);
        site.get("/api/tasks?status=queued", None).await.expect(StatusCode::UNAUTHORIZED);
        site.get("/api/tasks/status", None).await.expect(StatusCode::UNAUTHORIZED);

        let queued = site.get("/api/tasks?status=queued", Some("committer")).await;
        assert_eq!(ids(queued.expect(StatusCode::OK)), [id]);
        let queued = site.get("/api/tasks?status=queued", Some("visitor")).await;
        assert_eq!(ids(queued.expect(StatusCode::OK)), Vec::<i64>::new(), "a visitor sees no project's tasks");
        let failed = site.get("/api/tasks?status=failed", Some("pmc")).await;
        assert_eq!(ids(failed.expect(StatusCode::OK)), Vec::<i64>::new());

        site.get("/api/tasks/abc", Some("pmc")).await.expect(StatusCode::BAD_REQUEST);
        site.get("/api/tasks/-3", Some("pmc")).await.expect(StatusCode::BAD_REQUEST);
        site.get("/api/tasks/999999", Some("pmc")).await.expect(StatusCode::NOT_FOUND);
        site.get("/api/tasks?status=sleeping", Some("pmc")).await.expect(StatusCode::BAD_REQUEST);
        site.get("/api/tasks", Some("pmc")).await.expect(StatusCode::BAD_REQUEST);
        site.finish().await;
    }
}

#[tokio::test]
async fn a_task_is_cancelled_and_retried_by_those_who_may_and_counted() {
    for site in sites().await {
        let id = site.analyze_task;
        let cancel = format!("/api/tasks/{id}/cancel");
        let retry = format!("/api/tasks/{id}/retry");
        let counts = site.get("/api/tasks/status", Some("pmc")).await;
        let counts = counts.expect(StatusCode::OK);
        assert_eq!(counts["kinds"]["analyze"]["queued"], 1, "{counts}");
        assert_eq!(counts["kinds"]["analyze"]["cancelled"], 0, "{counts}");
        assert_eq!(counts["total"]["queued"], 1, "{counts}");

        site.post(&cancel, None, json!({})).await.expect(StatusCode::UNAUTHORIZED);
        let committer = site.post(&cancel, Some("committer"), json!({})).await;
        assert_eq!(committer.expect(StatusCode::FORBIDDEN)["error"]["details"]["activity"], "perform_actions");
        let task = site.get(&format!("/api/tasks/{id}"), Some("pmc")).await;
        assert_eq!(task.expect(StatusCode::OK)["status"], "queued", "a refused cancel changes nothing");

        let cancelled = site.post(&cancel, Some("pmc"), json!({})).await;
        assert_eq!(cancelled.expect(StatusCode::OK)["status"], "cancelled");
        site.post(&cancel, Some("pmc"), json!({})).await.expect(StatusCode::CONFLICT);
        let counts = site.get("/api/tasks/status", Some("pmc")).await;
        let counts = counts.expect(StatusCode::OK);
        assert_eq!(counts["kinds"]["analyze"]["queued"], 0, "{counts}");
        assert_eq!(counts["kinds"]["analyze"]["cancelled"], 1, "{counts}");
        let listed = site.get("/api/tasks?status=cancelled", Some("pmc")).await;
        assert_eq!(ids(listed.expect(StatusCode::OK)), [id]);

        site.post(&retry, None, json!({})).await.expect(StatusCode::UNAUTHORIZED);
        let committer = site.post(&retry, Some("committer"), json!({})).await;
        assert_eq!(committer.expect(StatusCode::FORBIDDEN)["error"]["details"]["activity"], "perform_actions");
        let retried = site.post(&retry, Some("pmc"), json!({})).await;
        let retried = retried.expect(StatusCode::OK);
        assert_eq!(retried["status"], "queued");
        assert_eq!(retried["attempts"], 0);
        site.post(&retry, Some("pmc"), json!({})).await.expect(StatusCode::CONFLICT);
        let counts = site.get("/api/tasks/status", Some("pmc")).await;
        let counts = counts.expect(StatusCode::OK);
        assert_eq!(counts["kinds"]["analyze"]["queued"], 1, "{counts}");
        assert_eq!(counts["kinds"]["analyze"]["cancelled"], 0, "{counts}");

        // An admin may act on any project's task.
        let by_admin = site.post(&cancel, Some("admin"), json!({})).await;
        assert_eq!(by_admin.expect(StatusCode::OK)["status"], "cancelled");

        // While the same work is queued again, the cancelled task cannot be retried.
        let analyze = "/api/projects/demo/releases/1.0.0/analyze";
        let fresh = site.post(analyze, Some("pmc"), json!({ "revision": 1 })).await;
        let fresh = fresh.expect(StatusCode::CREATED);
        assert_ne!(fresh["id"], id, "a cancelled task is not pending: the work is queued anew");
        site.post(&retry, Some("pmc"), json!({})).await.expect(StatusCode::CONFLICT);

        site.post("/api/tasks/999999/cancel", Some("admin"), json!({})).await.expect(StatusCode::NOT_FOUND);
        site.post("/api/tasks/999999/retry", Some("admin"), json!({})).await.expect(StatusCode::NOT_FOUND);
        site.post("/api/tasks/x/cancel", Some("admin"), json!({})).await.expect(StatusCode::BAD_REQUEST);
        site.post("/api/tasks/0/retry", Some("admin"), json!({})).await.expect(StatusCode::BAD_REQUEST);
        site.finish().await;
    }
}

/// The current time in milliseconds, as the queue counts it.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap())
}

/// Defect: any signed-in caller could read any project's task, with the stored failure text,
/// which may carry storage errors and paths. A task is its project's, and a failure shows a code.
#[tokio::test]
async fn an_outsider_cannot_read_a_projects_task_and_no_one_sees_storage_detail_in_its_error() {
    for site in sites().await {
        let id = site.analyze_task;
        // The task fails for good with the kind of text a wrapped storage error carries.
        let leak = "storage failed: error returned from database: (code: 5) database is locked at /srv/atr/data/atr.db";
        let sql = &site.state.storage.sql;
        loop {
            let now = now_ms();
            let Some(claimed) = sql.claim_task(&["analyze"], "test-worker", now, 60_000).await.unwrap() else {
                panic!("the analyze task is claimable until it fails for good");
            };
            assert_eq!(claimed.id, id);
            if sql.fail_task(id, claimed.fence, leak, now, now).await.unwrap() == atr_core::model::TaskStatus::Failed {
                break;
            }
        }

        // An outsider (signed in, no role on the project) is refused, and finds nothing listed.
        let refused = site.get(&format!("/api/tasks/{id}"), Some("visitor")).await;
        let refused = refused.expect(StatusCode::FORBIDDEN);
        assert_eq!(refused["error"]["details"]["activity"], "view_tasks", "{refused}");
        let listed = site.get("/api/tasks?status=failed", Some("visitor")).await;
        assert_eq!(ids(listed.expect(StatusCode::OK)), Vec::<i64>::new());

        // The project's people see the failure as a code and a generic message, never the text.
        for who in ["committer", "pmc", "admin"] {
            let task = site.get(&format!("/api/tasks/{id}"), Some(who)).await;
            let task = task.expect(StatusCode::OK).clone();
            assert_eq!(task["status"], "failed", "{task}");
            assert_eq!(task["error_code"], "failed", "{task}");
            let text = task.to_string();
            for detail in ["storage", "database", "/srv/atr", "locked"] {
                assert!(!text.contains(detail), "{who} sees {detail:?}: {text}");
            }
            assert!(task["error"].as_str().unwrap().contains("service's log"), "{task}");
            let listed = site.get("/api/tasks?status=failed", Some(who)).await;
            let listed = listed.expect(StatusCode::OK);
            assert_eq!(ids(listed), [id]);
            assert!(!listed.to_string().contains("storage"), "{listed}");
        }

        // A task of no release is the foundation's: only an admin reads or steers it.
        let (foundation, _) = sql
            .queue_task(
                &NewTask {
                    kind: "report".into(),
                    args: json!({ "week": 27 }),
                    release: None,
                    revision: None,
                    priority: 0,
                    max_attempts: DEFAULT_MAX_ATTEMPTS,
                    scheduled_at_ms: now_ms() + 3_600_000,
                },
                now_ms(),
            )
            .await
            .unwrap();
        let uri = format!("/api/tasks/{}", foundation.id);
        let refused = site.get(&uri, Some("pmc")).await;
        assert_eq!(refused.expect(StatusCode::FORBIDDEN)["error"]["details"]["target"], "the foundation");
        assert_eq!(site.get(&uri, Some("admin")).await.expect(StatusCode::OK)["kind"], "report");
        let cancel = format!("{uri}/cancel");
        let refused = site.post(&cancel, Some("pmc"), json!({})).await;
        assert_eq!(refused.expect(StatusCode::FORBIDDEN)["error"]["details"]["activity"], "manage_tasks");
        assert_eq!(site.post(&cancel, Some("admin"), json!({})).await.expect(StatusCode::OK)["status"], "cancelled");
        site.finish().await;
    }
}

/// Where a revision's checks stand is the core's answer: no runner ever, a runner that stopped
/// being seen, a live one with the task queued, then running; the queue's status lists the runners
/// and says which kind waits for one.
#[tokio::test]
async fn the_checks_status_says_when_no_task_runner_is_there() {
    use atr_core::ports::RunnerRecord;

    for site in sites().await {
        let uri = "/api/projects/demo/releases/1.0.0/revisions/1/checks/status";
        let status = site.get(uri, Some("pmc")).await;
        let status = status.expect(StatusCode::OK).clone();
        assert_eq!(status["state"], "waiting_for_runner", "{status}");
        assert_eq!(status["message"], "waiting for a task runner; none has ever run against this database");
        assert_eq!((status["completed"].as_bool(), status["moving"].as_bool()), (Some(false), Some(false)));
        assert_eq!((status["pending"].as_u64(), status["revision"].as_u64()), (Some(1), Some(1)));
        let queue = site.get("/api/tasks/status", Some("pmc")).await;
        let queue = queue.expect(StatusCode::OK).clone();
        assert_eq!(queue["runners"], json!([]), "{queue}");
        assert_eq!(queue["waiting"][0]["kind"], "analyze", "{queue}");
        assert_eq!(queue["waiting"][0]["message"], status["message"], "{queue}");

        // A runner seen five minutes ago is no longer there: its last heartbeat is named.
        let sql = &site.state.storage.sql;
        let seen_ms = (now_ms() / 1000 - 300) * 1000;
        let runner = RunnerRecord {
            id: "build1-7-00000001".into(),
            name: "build1-7".into(),
            host: "build1".into(),
            pid: 7,
            kinds: vec!["analyze".into()],
            concurrency: 2,
            started_at_ms: seen_ms,
            last_seen_ms: seen_ms,
            stopped_at_ms: None,
        };
        sql.register_runner(&runner).await.unwrap();
        let status = site.get(uri, Some("pmc")).await;
        let status = status.expect(StatusCode::OK).clone();
        let seen = atr_core::types::Timestamp::from_unix(seen_ms / 1000);
        assert_eq!(
            status["message"],
            format!("waiting for a task runner; none has been seen since {seen}"),
            "{status}"
        );
        assert_eq!(status["runner_last_seen"], seen_ms / 1000, "{status}");

        // Its heartbeat now: the checks are queued for it, then running once it claims them.
        assert!(sql.runner_heartbeat(&runner.id, now_ms(), 2).await.unwrap());
        let status = site.get(uri, Some("pmc")).await;
        let status = status.expect(StatusCode::OK).clone();
        assert_eq!((status["state"].as_str(), status["moving"].as_bool()), (Some("queued"), Some(true)), "{status}");
        let queue = site.get("/api/tasks/status", Some("pmc")).await;
        let queue = queue.expect(StatusCode::OK).clone();
        assert_eq!(queue["runners"][0]["id"], runner.id, "{queue}");
        assert_eq!(queue["runners"][0]["live"], true, "{queue}");
        assert_eq!(queue["waiting"], json!([]), "{queue}");
        sql.claim_task(&["analyze"], &runner.name, now_ms(), 60_000).await.unwrap().unwrap();
        let status = site.get(uri, Some("pmc")).await;
        assert_eq!(status.expect(StatusCode::OK)["state"], "running");

        // Stopped gracefully, it is not there either, whatever it held.
        sql.runner_stopped(&runner.id, now_ms()).await.unwrap();
        let status = site.get(uri, Some("pmc")).await;
        assert_eq!(status.expect(StatusCode::OK)["state"], "waiting_for_runner");

        // Read as the check results are: a draft is not found for anonymous callers.
        site.get(uri, None).await.expect(StatusCode::NOT_FOUND);
        let missing = "/api/projects/demo/releases/1.0.0/revisions/9/checks/status";
        site.get(missing, Some("pmc")).await.expect(StatusCode::NOT_FOUND);
        let bad = "/api/projects/demo/releases/1.0.0/revisions/x/checks/status";
        site.get(bad, Some("pmc")).await.expect(StatusCode::BAD_REQUEST);
        site.finish().await;
    }
}
