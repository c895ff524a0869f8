//! Unit tests of the one rule that tells waiting work from work no runner is there to take, and
//! of where the checks of a revision stand: no runner ever, a runner no longer seen, a live one.

use std::time::Duration;

use super::*;
use crate::ports::{RunnerRecord, TaskRecord};
use crate::services::{
    ChecksProgress, DEFAULT_STALE_RUNNER_AFTER, NoRunner, checks_progress, runner_live, task_failure,
    waiting_for_runner,
};

const MINUTE: Duration = Duration::from_mins(1);

fn ms(at: Timestamp) -> i64 {
    at.unix() * 1000
}

fn runner(id: &str, kinds: &[&str], last_seen: Timestamp) -> RunnerRecord {
    RunnerRecord {
        id: id.into(),
        name: id.into(),
        host: "build1".into(),
        pid: 42,
        kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
        concurrency: 2,
        started_at_ms: ms(T0),
        last_seen_ms: ms(last_seen),
        stopped_at_ms: None,
    }
}

fn analyze_task(id: u64, status: TaskStatus, error: Option<&str>) -> TaskRecord {
    TaskRecord {
        id,
        kind: "analyze".into(),
        args: serde_json::json!({}),
        release: Some(key()),
        status,
        priority: 0,
        attempts: 1,
        max_attempts: 5,
        created_at_ms: ms(T0),
        scheduled_at_ms: ms(T0),
        started_at_ms: None,
        finished_at_ms: None,
        error: error.map(str::to_owned),
        result: None,
    }
}

/// An hour after the checks were queued.
fn later() -> Timestamp {
    T0.plus_hours(1)
}

#[test]
fn queued_checks_with_no_runner_ever_say_so() {
    let tasks = [analyze_task(1, TaskStatus::Queued, None)];
    let progress = checks_progress(&tasks, None, &[], later(), MINUTE);
    assert_eq!(
        progress,
        ChecksProgress::WaitingForRunner { pending: 1, runner: NoRunner { kind: "analyze".into(), last_seen: None } }
    );
    assert_eq!(progress.to_string(), "waiting for a task runner; none has ever run against this database");
    assert!(!progress.completed() && !progress.moving());
    assert_eq!(progress.code(), "waiting_for_runner");
    // A runner of other kinds does not take analyze tasks.
    let other = [runner("r1", &["report"], later())];
    let progress = checks_progress(&tasks, None, &other, later(), MINUTE);
    assert_eq!(progress.to_string(), "waiting for a task runner; none has ever run against this database");
}

#[test]
fn a_runner_no_longer_seen_is_named_with_its_last_heartbeat() {
    let tasks = [analyze_task(1, TaskStatus::Queued, None)];
    let seen = later().plus_seconds(-61);
    let stale = [runner("old", &["analyze"], seen.plus_seconds(-600)), runner("r1", &["analyze"], seen)];
    let progress = checks_progress(&tasks, None, &stale, later(), MINUTE);
    assert_eq!(progress.to_string(), format!("waiting for a task runner; none has been seen since {seen}"));
    assert_eq!(progress.to_string(), "waiting for a task runner; none has been seen since 2025-06-15T16:05:39Z");
    // A task still shown active whose runner is gone is not being run either.
    let held = [analyze_task(1, TaskStatus::Active, None)];
    assert!(matches!(checks_progress(&held, None, &stale, later(), MINUTE), ChecksProgress::WaitingForRunner { .. }));
    // A runner that stopped gracefully a moment ago is not there either.
    let mut stopped = runner("r2", &["analyze"], later());
    stopped.stopped_at_ms = Some(ms(later()));
    assert!(!runner_live(&stopped, later(), MINUTE));
    let progress = checks_progress(&tasks, None, &[stopped], later(), MINUTE);
    assert_eq!(progress.to_string(), format!("waiting for a task runner; none has been seen since {}", later()));
}

#[test]
fn with_a_live_runner_the_checks_are_queued_or_running() {
    let live = [runner("r1", &["analyze"], later().plus_seconds(-59))];
    let queued = [analyze_task(2, TaskStatus::Queued, None)];
    let progress = checks_progress(&queued, None, &live, later(), MINUTE);
    assert_eq!(progress, ChecksProgress::Queued { pending: 1 });
    assert!(progress.moving() && !progress.completed());
    let running = [analyze_task(2, TaskStatus::Active, None), analyze_task(1, TaskStatus::Failed, None)];
    let progress = checks_progress(&running, None, &live, later(), MINUTE);
    assert_eq!(progress, ChecksProgress::Running { pending: 1 });
    assert_eq!(progress.to_string(), "the checks are running (1 task(s) pending)");
    // The same runner, one second older than the limit, is no longer there.
    let stale = [runner("r1", &["analyze"], later().plus_seconds(-61))];
    assert!(matches!(
        checks_progress(&running, None, &stale, later(), MINUTE),
        ChecksProgress::WaitingForRunner { .. }
    ));
    // A longer limit keeps it.
    assert_eq!(checks_progress(&running, None, &stale, later(), 2 * MINUTE), ChecksProgress::Running { pending: 1 });
}

#[test]
fn ended_checks_say_whether_they_completed_and_why_not() {
    // A recorded run with nothing pending: completed, whatever runners there are.
    let done = [analyze_task(1, TaskStatus::Completed, None)];
    let progress = checks_progress(&done, Some(&completed_run()), &[], later(), MINUTE);
    assert_eq!(progress, ChecksProgress::Completed { at: T0 });
    assert!(progress.completed());
    // A rerun pending: not completed until it is.
    let rerun = [analyze_task(2, TaskStatus::Queued, None), analyze_task(1, TaskStatus::Completed, None)];
    assert!(!checks_progress(&rerun, Some(&completed_run()), &[], later(), MINUTE).completed());
    // Failed for good: the task and a sentence a release manager can act on, without the detail.
    let failed = [analyze_task(3, TaskStatus::Failed, Some("timed out after 1800 s"))];
    let progress = checks_progress(&failed, None, &[], later(), MINUTE);
    assert_eq!(progress.code(), "failed");
    let said = progress.to_string();
    assert!(said.starts_with("the checks failed for good (task 3): the last attempt ran longer"), "{said}");
    assert!(said.contains("retry the task"), "{said}");
    let cancelled = [analyze_task(4, TaskStatus::Cancelled, None)];
    assert_eq!(checks_progress(&cancelled, None, &[], later(), MINUTE), ChecksProgress::Cancelled { task: 4 });
    assert_eq!(checks_progress(&[], None, &[], later(), MINUTE), ChecksProgress::NotQueued);
}

#[test]
fn every_failure_says_what_to_do() {
    for stored in [
        "timed out after 600 s",
        "no handler for this task kind",
        "the worker running the last attempt stopped answering",
        "storage failed: connection refused",
    ] {
        let failure = task_failure(stored);
        assert!(failure.message.contains("retry"), "{stored}: {}", failure.message);
        assert!(failure.message.contains("operators"), "{stored}: {}", failure.message);
        assert!(!failure.message.contains("storage failed"));
    }
    assert_eq!(task_failure("the worker running the last attempt stopped answering").code, "runner_lost");
}

#[test]
fn pending_work_of_several_kinds_is_told_per_kind() {
    let runners = [runner("r1", &["analyze"], later())];
    let pending = [("analyze", TaskStatus::Queued), ("report", TaskStatus::Active)];
    let waiting = waiting_for_runner(pending, &runners, later(), MINUTE).unwrap();
    assert_eq!(waiting.kind, "report");
    assert_eq!(waiting_for_runner([("analyze", TaskStatus::Queued)], &runners, later(), MINUTE), None);
    assert_eq!(waiting_for_runner([("report", TaskStatus::Failed)], &runners, later(), MINUTE), None);
}

/// The service reads the revision's tasks, its check run and the runners through the ports, and
/// decides with the services' `stale_runner_after`.
#[tokio::test]
async fn the_checks_status_of_a_revision_comes_from_the_queue_and_the_runners() {
    let seen = later().plus_seconds(-90);
    let build = |stale_after: Duration| {
        let (mut m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
        m.revisions.expect_get().returning(|_, n| Ok((n == rev(1)).then(|| revision_with(&["a.tar.gz"]))));
        m.revisions.expect_check_run().returning(|_, _| Ok(None));
        m.queue.expect_revision_tasks().returning(|_, _| Ok(vec![analyze_task(1, TaskStatus::Queued, None)]));
        m.queue.expect_runners().returning(move || Ok(vec![runner("r1", &["analyze"], seen)]));
        m.with_release(draft_with(1)).services().with_stale_runner_after(stale_after)
    };
    let s = build(DEFAULT_STALE_RUNNER_AFTER);
    let status = s.checks_status(&person("rm"), &key(), rev(1), later()).await.unwrap();
    assert_eq!(status.revision, rev(1));
    assert_eq!(status.progress.to_string(), format!("waiting for a task runner; none has been seen since {seen}"));
    let status = build(2 * MINUTE).checks_status(&person("rm"), &key(), rev(1), later()).await.unwrap();
    assert_eq!(status.progress, ChecksProgress::Queued { pending: 1 });
    // A revision the release does not have, and a draft an outsider may not read, are not found.
    assert!(matches!(s.checks_status(&person("rm"), &key(), rev(2), later()).await, Err(ServiceError::NotFound(_))));
    assert!(matches!(
        s.checks_status(&Principal::Anonymous, &key(), rev(1), later()).await,
        Err(ServiceError::NotFound(_))
    ));
}

#[tokio::test]
async fn the_queue_report_lists_the_runners_and_the_kinds_without_one() {
    let (mut m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    m.queue.expect_counts().returning(|| {
        Ok(vec![
            crate::ports::TaskCount { kind: "analyze".into(), status: TaskStatus::Queued, count: 3 },
            crate::ports::TaskCount { kind: "analyze".into(), status: TaskStatus::Completed, count: 9 },
        ])
    });
    let seen = later().plus_seconds(-300);
    m.queue.expect_runners().returning(move || Ok(vec![runner("r1", &["analyze"], seen)]));
    let report = m.services().queue_report(later()).await.unwrap();
    assert_eq!(report.runners.len(), 1);
    assert!(!report.runners[0].live);
    assert_eq!(report.waiting, [NoRunner { kind: "analyze".into(), last_seen: Some(seen) }]);
}
