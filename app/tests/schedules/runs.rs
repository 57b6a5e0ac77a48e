//! How a due run goes: once with two replicas looking, skipped when its namespace is busy,
//! not at all while paused, and always into the audit log.

use std::time::Duration;

use app::domain::DomainError;
use app::domain::backup::{self, Engine, jobs};
use app::domain::content::namespace;
use app::domain::schedule;
use app::domain::schedule::scheduler::{Clock, SchedulerSettings};
use app::types::{BackupOrigin, Retention, RunOutcome};
use chrono::{Duration as Days, Utc};

use super::{
    TestClock, draft, engine_with_namespace, engine_with_namespace_in, hourly, hourly_with,
    settings, utc,
};

#[tokio::test]
async fn a_due_run_starts_exactly_once_with_two_replicas_looking() {
    let (engine, clock, settings) = hourly().await;
    let other = Engine {
        replica: backup::Replica::new("other", Duration::from_secs(30)),
        ..engine.clone()
    };
    for hour in 1..=5 {
        clock.set(utc("2026-05-01T00:00:00Z") + Days::hours(hour));
        let (one, two) = tokio::join!(
            schedule::tick(&engine, &settings),
            schedule::tick(&other, &settings)
        );
        let claimed: Vec<_> = one
            .expect("tick")
            .into_iter()
            .chain(two.expect("tick"))
            .collect();
        assert_eq!(claimed.len(), 1, "hour {hour}: one run");
        for run in claimed {
            assert_eq!(run.await.expect("run").outcome, RunOutcome::Succeeded);
        }
    }
    let made = backup::list(&engine.db).await.expect("list");
    assert_eq!(made.len(), 5);
    assert!(made.iter().all(|b| b.origin == BackupOrigin::Scheduled));
    assert_eq!(made[0].created_by, "(scheduler)");
    assert_eq!(made[0].name, "Scheduled 2026-05-01 07:00", "Berlin time");
    let shown = schedule::get(&engine.db, "ns")
        .await
        .expect("get")
        .expect("a schedule");
    let last = shown.last_run.expect("a last run");
    assert_eq!(last.outcome, RunOutcome::Succeeded);
    assert_eq!(last.backup.as_deref(), Some(made[0].id.as_str()));
    assert_eq!(shown.next_run, Some(utc("2026-05-01T06:00:00Z")));
}

#[tokio::test]
async fn a_run_on_a_busy_namespace_waits_then_is_skipped_and_says_why() {
    let (engine, clock, settings) = hourly().await;
    // Another job holds the namespace.
    jobs::start(
        &engine,
        "holding",
        app::types::JobKind::Restore,
        "ns",
        "some",
        "admin",
    )
    .await
    .expect("held");
    clock.set(utc("2026-05-01T01:00:00Z"));
    let runs = schedule::tick(&engine, &settings).await.expect("tick");
    assert_eq!(runs.len(), 1);
    let mut skipped = None;
    for run in runs {
        skipped = Some(run.await.expect("run"));
    }
    let skipped = skipped.expect("a run");
    assert_eq!(skipped.outcome, RunOutcome::Skipped);
    assert!(skipped.detail.contains("busy"), "{}", skipped.detail);
    assert!(backup::list(&engine.db).await.expect("list").is_empty());
    let shown = schedule::get(&engine.db, "ns")
        .await
        .expect("get")
        .expect("one");
    assert_eq!(
        shown.last_run.map(|run| run.outcome),
        Some(RunOutcome::Skipped)
    );
}

#[tokio::test]
async fn a_paused_schedule_does_not_run_and_resumes_from_now() {
    let engine = engine_with_namespace("ns").await;
    let clock = TestClock::at(utc("2026-05-01T00:00:00Z"));
    let settings = settings(&clock);
    assert!(
        schedule::list(&engine.db).await.expect("list").is_empty(),
        "no schedule yet, and no error"
    );
    assert!(
        schedule::tick(&engine, &settings)
            .await
            .expect("tick")
            .is_empty()
    );
    let mut paused = draft("ns", "0 * * * *", Retention::default());
    paused.enabled = false;
    let set = schedule::set(&engine, &paused, "admin", clock.now())
        .await
        .expect("set");
    assert_eq!(set.next_run, None);
    clock.set(utc("2026-05-01T05:00:00Z"));
    assert!(
        schedule::tick(&engine, &settings)
            .await
            .expect("tick")
            .is_empty()
    );
    let resumed = schedule::resume(&engine, "ns", "admin")
        .await
        .expect("resumed");
    assert!(resumed.next_run.is_some_and(|next| next > Utc::now()));
    // A schedule for a namespace that does not exist is refused.
    let refused = schedule::set(
        &engine,
        &draft("nowhere", "0 * * * *", Retention::default()),
        "admin",
        clock.now(),
    )
    .await;
    assert!(
        matches!(refused, Err(DomainError::NotFound(_))),
        "{refused:?}"
    );
    // The schedule belongs to its namespace: it goes when the namespace goes.
    assert_eq!(schedule::list(&engine.db).await.expect("list").len(), 1);
    namespace::delete(&engine.db, "ns").await.expect("deleted");
    assert!(schedule::list(&engine.db).await.expect("list").is_empty());
}

/// Moves `clock` to `at` and runs what is due then, to its end.
async fn runs_at(
    engine: &Engine,
    settings: &SchedulerSettings,
    clock: &TestClock,
    at: &str,
) -> Vec<app::types::ScheduleRun> {
    clock.set(utc(at));
    let mut ended = Vec::new();
    for run in schedule::tick(engine, settings).await.expect("tick") {
        ended.push(run.await.expect("run"));
    }
    ended
}

#[tokio::test]
async fn every_scheduled_run_is_in_the_audit_log_with_how_it_ended() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = dir.path().join("backups");
    let (engine, clock, settings) =
        hourly_with(engine_with_namespace_in("ns", dir.path()).await).await;

    // Ran; then skipped (another job holds the namespace); then failed (the store is gone).
    let ran = runs_at(&engine, &settings, &clock, "2026-05-01T01:00:00Z").await;
    assert_eq!(ran[0].outcome, RunOutcome::Succeeded, "{ran:?}");
    jobs::start(
        &engine,
        "holding",
        app::types::JobKind::Restore,
        "ns",
        "some",
        "admin",
    )
    .await
    .expect("held");
    let skipped = runs_at(&engine, &settings, &clock, "2026-05-01T02:00:00Z").await;
    assert_eq!(skipped[0].outcome, RunOutcome::Skipped, "{skipped:?}");
    jobs::finish(&engine, "holding", None)
        .await
        .expect("let go");
    std::fs::remove_dir_all(&files).expect("the store goes");
    let failed = runs_at(&engine, &settings, &clock, "2026-05-01T03:00:00Z").await;
    assert_eq!(failed[0].outcome, RunOutcome::Failed, "{failed:?}");

    let filter = app::types::AuditFilter {
        action: Some("schedule run".to_string()),
        ..app::types::AuditFilter::default()
    };
    let logged: Vec<(String, String, String, String)> =
        app::domain::audit::page(&engine.db, &filter, None, 100)
            .await
            .expect("audit")
            .entries
            .into_iter()
            .map(|e| (e.actor, e.target, e.outcome.as_str().to_string(), e.detail))
            .collect();
    assert_eq!(logged.len(), 3, "{logged:?}");
    let expected = [
        ("failed", "due 2026-05-01 03:00 UTC: "),
        (
            "refused",
            "due 2026-05-01 02:00 UTC: skipped: the namespace was busy",
        ),
        ("succeeded", "due 2026-05-01 01:00 UTC: "),
    ];
    for ((actor, target, outcome, detail), (want, starts)) in logged.iter().zip(expected) {
        assert_eq!((actor.as_str(), target.as_str()), ("(scheduler)", "ns"));
        assert_eq!(outcome, want, "{detail}");
        assert!(detail.starts_with(starts), "{detail}");
    }
    // The backup the run made is named in its entry.
    let made = backup::list(&engine.db).await.expect("list");
    assert!(
        logged[2].3.ends_with(&made.last().expect("one").name),
        "{logged:?}"
    );
}
