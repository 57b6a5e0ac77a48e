//! Scheduled backups and retention, without waiting: the scheduler takes a clock, so forty
//! days of a daily schedule (a daylight-saving change and three days of downtime among them)
//! run in moments; retention is checked on hand-built sets.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::domain::backup::{self, Engine, jobs};
use app::domain::content::{folder, namespace};
use app::domain::schedule::retention;
use app::domain::schedule::scheduler::{
    Clock, SchedulerSettings, apply_retention, daily_retention,
};
use app::domain::schedule::{self, when};
use app::domain::{Db, DomainError};
use app::types::{
    BackupInfo, BackupOrigin, BackupStatus, DEFAULT_NAME_TEMPLATE, Retention, RetentionCovers,
    RunOutcome, ScheduleDraft,
};
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use chrono_tz::Tz;

/// A clock the test moves.
#[derive(Debug)]
struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    fn at(time: DateTime<Utc>) -> Arc<Self> {
        Arc::new(Self(Mutex::new(time)))
    }
    fn set(&self, time: DateTime<Utc>) {
        *self.0.lock().expect("the clock") = time;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("the clock")
    }
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a time")
        .with_timezone(&Utc)
}

fn settings(clock: &Arc<TestClock>) -> SchedulerSettings {
    SchedulerSettings {
        busy_wait: Duration::ZERO,
        busy_retry: Duration::from_millis(10),
        clock: clock.clone(),
        ..SchedulerSettings::default()
    }
}

fn draft(ns: &str, cron: &str, retention: Retention) -> ScheduleDraft {
    ScheduleDraft {
        namespace: ns.to_string(),
        cron: cron.to_string(),
        timezone: "Europe/Berlin".to_string(),
        enabled: true,
        name_template: DEFAULT_NAME_TEMPLATE.to_string(),
        retention,
    }
}

async fn engine_with_namespace(ns: &str) -> Engine {
    with_namespace(common::backups::engine().await, ns).await
}

/// As [`engine_with_namespace`], with the backup files in `dir/backups`.
async fn engine_with_namespace_in(ns: &str, dir: &std::path::Path) -> Engine {
    with_namespace(common::backups::engine_in(dir).await, ns).await
}

/// `engine` with namespace `ns`, holding folder "Orders".
async fn with_namespace(engine: Engine, ns: &str) -> Engine {
    namespace::create(&engine.db, ns, "")
        .await
        .expect("namespace");
    folder::create(&engine.db, ns, None, "Orders")
        .await
        .expect("folder");
    engine
}

/// Namespace `ns` with an hourly schedule (Berlin time, no retention), set at midnight UTC
/// on 1 May 2026 by the test's clock.
async fn hourly() -> (Engine, Arc<TestClock>, SchedulerSettings) {
    hourly_with(engine_with_namespace("ns").await).await
}

/// As [`hourly`], on `engine`.
async fn hourly_with(engine: Engine) -> (Engine, Arc<TestClock>, SchedulerSettings) {
    let clock = TestClock::at(utc("2026-05-01T00:00:00Z"));
    let settings = settings(&clock);
    schedule::set(
        &engine,
        &draft("ns", "0 * * * *", Retention::default()),
        "admin",
        clock.now(),
    )
    .await
    .expect("set");
    (engine, clock, settings)
}

/// The local dates (Berlin) of the completed backups of `ns`, oldest first.
async fn backup_dates(db: &Db, ns: &str) -> Vec<String> {
    let berlin: Tz = "Europe/Berlin".parse().expect("a zone");
    let mut dates: Vec<(DateTime<Utc>, String)> = backup::list(db)
        .await
        .expect("list")
        .into_iter()
        .filter(|b| b.namespace == ns && b.status == BackupStatus::Completed)
        .map(|b| {
            (
                b.created_at,
                b.created_at
                    .with_timezone(&berlin)
                    .format("%m-%d %H:%M")
                    .to_string(),
            )
        })
        .collect();
    dates.sort();
    dates.into_iter().map(|(_, date)| date).collect()
}

#[tokio::test]
async fn forty_days_of_a_daily_schedule_with_a_clock_change_and_downtime() {
    let engine = engine_with_namespace("ns").await;
    let clock = TestClock::at(utc("2026-03-01T00:00:00Z"));
    let settings = settings(&clock);
    let policy = Retention {
        keep_last: Some(3),
        keep_daily: Some(7),
        keep_weekly: Some(4),
        ..Retention::default()
    };
    schedule::set(
        &engine,
        &draft("ns", "30 2 * * *", policy),
        "admin",
        clock.now(),
    )
    .await
    .expect("set");

    let mut runs = Vec::new();
    let mut now = clock.now();
    let end = utc("2026-04-10T00:00:00Z");
    // Down from 20 March to the morning of 23 March: no ticks at all.
    let (down, up) = (utc("2026-03-20T00:00:00Z"), utc("2026-03-23T09:30:00Z"));
    while now < end {
        now += Days::hours(1);
        if now >= down && now < up {
            continue;
        }
        clock.set(now);
        for run in schedule::tick(&engine, &settings).await.expect("tick") {
            runs.push(run.await.expect("the run"));
        }
        // A backup taken by hand on 5 March, and one pinned on 10 March.
        if now == utc("2026-03-05T12:00:00Z") {
            let (by_hand, job) = backup::create(&engine, "ns", "By hand", "admin")
                .await
                .expect("starts");
            common::job_end(&engine.db, &job.id).await;
            // Dated by the test's clock, as the scheduler's backups are.
            engine
                .db
                .query("UPDATE type::record('backup', $id) SET created_at = <datetime>$at")
                .bind(("id", by_hand.id))
                .bind(("at", now.to_rfc3339()))
                .await
                .expect("dated")
                .check()
                .expect("dated");
        }
        if now == utc("2026-03-10T12:00:00Z") {
            let newest = backup::list(&engine.db).await.expect("list")[0].clone();
            backup::pin(&engine, &newest.id, true, "admin")
                .await
                .expect("pinned");
        }
    }

    // One run a day, and the days of the downtime make one catch-up run on 23 March.
    assert!(
        runs.iter().all(|run| run.outcome == RunOutcome::Succeeded),
        "{runs:?}"
    );
    assert_eq!(runs.len(), 40 - 3, "{runs:#?}");
    let berlin: Tz = "Europe/Berlin".parse().expect("a zone");
    let days: HashSet<NaiveDate> = runs
        .iter()
        .map(|run| run.due.with_timezone(&berlin).date_naive())
        .collect();
    assert_eq!(days.len(), runs.len(), "no day ran twice");
    // On 29 March the clocks go forward at 02:00: 02:30 does not exist, and the run comes
    // right after the change, once.
    let change = runs
        .iter()
        .find(|run| run.due.with_timezone(&berlin).date_naive() == day(3, 29))
        .expect("a run on the day of the change");
    assert_eq!(change.due, utc("2026-03-29T01:00:00Z"));

    // Retention after every run: the last 7 days, and the newest of each of the last 4
    // weeks; the one made by hand is not the schedule's to delete; the pinned one stays.
    assert_eq!(
        backup_dates(&engine.db, "ns").await,
        [
            "03-05 13:00", // by hand
            "03-10 03:00", // pinned
            "03-19 03:00", // newest of the week of 16 March (20–22 were down)
            "03-29 03:00", // newest of the week of 23 March
            "04-03 03:00",
            "04-04 03:00",
            "04-05 03:00",
            "04-06 03:00",
            "04-07 03:00",
            "04-08 03:00",
            "04-09 03:00",
        ]
    );
}

fn day(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).expect("a date")
}

#[test]
fn a_clock_going_back_neither_skips_nor_doubles_a_daily_run() {
    let daily = when::parse("30 2 * * *", "Europe/Berlin").expect("parses");
    let runs = daily.next_runs(utc("2026-10-23T12:00:00Z"), 4);
    // 25 October: 02:30 happens twice (03:00 goes back to 02:00); it runs at the first.
    assert_eq!(
        runs,
        [
            utc("2026-10-24T00:30:00Z"),
            utc("2026-10-25T00:30:00Z"),
            utc("2026-10-26T01:30:00Z"),
            utc("2026-10-27T01:30:00Z"),
        ]
    );
}

#[test]
fn expressions_and_zones_are_refused_with_the_reason() {
    for (cron, zone, expected) in [
        ("61 * * * *", "UTC", "not a cron expression"),
        ("every day", "UTC", "not a cron expression"),
        ("", "UTC", "Write when it runs"),
        ("0 2 * * *", "Mars/Olympus", "not a time zone"),
        ("0 0 31 2 *", "UTC", "never runs"),
    ] {
        let refused = when::parse(cron, zone).expect_err(cron);
        assert!(refused.contains(expected), "{cron} {zone}: {refused}");
    }
    let hourly = when::parse("@hourly", "UTC").expect("a nickname");
    assert_eq!(
        hourly.next_runs(utc("2026-01-01T10:15:00Z"), 2),
        [utc("2026-01-01T11:00:00Z"), utc("2026-01-01T12:00:00Z")]
    );
}

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

#[tokio::test]
async fn the_preview_shows_the_next_runs_and_what_the_policy_would_delete() {
    let (engine, clock, settings) = hourly().await;
    for hour in 1..=4 {
        clock.set(utc("2026-05-01T00:00:00Z") + Days::hours(hour));
        for run in schedule::tick(&engine, &settings).await.expect("tick") {
            run.await.expect("run");
        }
    }
    let keep_two = draft(
        "ns",
        "0 3 * * *",
        Retention {
            keep_last: Some(2),
            ..Retention::default()
        },
    );
    let preview = schedule::preview(&engine, &keep_two, clock.now())
        .await
        .expect("preview");
    assert_eq!(preview.problem, None);
    assert_eq!(preview.next_runs.len(), 5);
    assert_eq!(preview.next_runs[0], utc("2026-05-02T01:00:00Z"));
    let names: Vec<&str> = preview.deletions.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        ["Scheduled 2026-05-01 04:00", "Scheduled 2026-05-01 03:00"]
    );
    assert!(preview.deletions[0].reason.contains("keep the last 2"));
    // Nothing was deleted by looking.
    assert_eq!(backup::list(&engine.db).await.expect("list").len(), 4);
    // Saved and applied, exactly those go, audited with the rule.
    schedule::set(&engine, &keep_two, "admin", clock.now())
        .await
        .expect("set");
    assert_eq!(apply_retention(&engine, "ns").await.expect("applied"), 2);
    assert_eq!(backup::list(&engine.db).await.expect("list").len(), 2);
    let bad = draft("ns", "0 25 * * *", Retention::default());
    let preview = schedule::preview(&engine, &bad, clock.now())
        .await
        .expect("preview");
    assert!(
        preview
            .problem
            .is_some_and(|p| p.contains("not a cron expression"))
    );
}

/// A backup of `ns` for the retention tests, made at `at`.
fn made(id: &str, at: &str, origin: BackupOrigin) -> BackupInfo {
    BackupInfo {
        id: id.to_string(),
        name: id.to_string(),
        namespace: "ns".to_string(),
        created_at: utc(at),
        status: BackupStatus::Completed,
        origin,
        size: Some(1),
        sha256: None,
        error: None,
        created_by: "(scheduler)".to_string(),
        pinned: false,
        schema_version: Some(app::types::SCHEMA_VERSION),
        made_from: None,
    }
}

fn deleted(backups: &[BackupInfo], policy: &Retention, in_use: &[&str]) -> Vec<String> {
    let in_use: HashSet<String> = in_use.iter().map(|id| id.to_string()).collect();
    let mut ids: Vec<String> = retention::plan(backups, policy, &in_use, chrono_tz::UTC)
        .into_iter()
        .map(|d| d.id)
        .collect();
    ids.sort();
    ids
}

#[test]
fn retention_keeps_exactly_what_its_rules_name() {
    use BackupOrigin::{Created, Scheduled};
    let set = vec![
        made("a", "2026-01-01T10:00:00Z", Scheduled),
        made("b", "2026-01-01T22:00:00Z", Scheduled), // newest of 1 January
        made("c", "2026-01-05T10:00:00Z", Scheduled), // Monday of a new week
        made("d", "2026-01-06T10:00:00Z", Created),   // by hand
        made("e", "2026-01-20T10:00:00Z", Scheduled),
        made("f", "2026-02-02T10:00:00Z", Scheduled),
        made("g", "2026-02-03T10:00:00Z", Scheduled),
    ];
    // No rule: nothing goes.
    assert!(deleted(&set, &Retention::default(), &[]).is_empty());
    // The last two scheduled ones.
    let last_two = Retention {
        keep_last: Some(2),
        ..Retention::default()
    };
    assert_eq!(deleted(&set, &last_two, &[]), ["a", "b", "c", "e"]);
    // A job uses `a`: it stays.
    assert_eq!(deleted(&set, &last_two, &["a"]), ["b", "c", "e"]);
    // Daily 3: the newest of 3 February, 2 February and 20 January.
    let daily = Retention {
        keep_daily: Some(3),
        ..Retention::default()
    };
    assert_eq!(deleted(&set, &daily, &[]), ["a", "b", "c"]);
    // Weekly 3 (ISO weeks): g (week 6), e (week 4), c (week 2).
    let weekly = Retention {
        keep_weekly: Some(3),
        ..Retention::default()
    };
    assert_eq!(deleted(&set, &weekly, &[]), ["a", "b", "f"]);
    // Monthly 1 over every backup, by hand ones too: only February's newest, g.
    let monthly_all = Retention {
        keep_monthly: Some(1),
        covers: RetentionCovers::All,
        ..Retention::default()
    };
    assert_eq!(
        deleted(&set, &monthly_all, &[]),
        ["a", "b", "c", "d", "e", "f"]
    );
    // Pinned ones stay, whatever the rules.
    let mut pinned = set.clone();
    pinned[0].pinned = true;
    assert_eq!(
        deleted(&pinned, &monthly_all, &[]),
        ["b", "c", "d", "e", "f"]
    );
    // The newest completed backup of the namespace is never deleted, even when the
    // policy covers nothing newer: here the newest is made by hand and kept anyway, and a
    // policy over scheduled ones keeps the rules' own.
    let mut only_old = vec![made("x", "2026-01-01T10:00:00Z", Scheduled)];
    only_old.push(made("y", "2026-01-02T10:00:00Z", Scheduled));
    let keep_one = Retention {
        keep_last: Some(1),
        ..Retention::default()
    };
    assert_eq!(deleted(&only_old, &keep_one, &[]), ["x"]);
    only_old[1].status = BackupStatus::Failed;
    assert!(
        deleted(&only_old, &keep_one, &[]).is_empty(),
        "the newest completed one stays"
    );
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

#[tokio::test]
async fn the_retention_pass_runs_once_a_day() {
    let engine = engine_with_namespace("ns").await;
    let clock = TestClock::at(utc("2026-05-01T00:00:00Z"));
    // The last backup of any kind is kept; the schedule's own runs do not matter here.
    let keep_last = Retention {
        keep_last: Some(1),
        covers: RetentionCovers::All,
        ..Retention::default()
    };
    schedule::set(
        &engine,
        &draft("ns", "0 3 1 1 *", keep_last),
        "admin",
        clock.now(),
    )
    .await
    .expect("set");
    let made = |name: &'static str| {
        let engine = engine.clone();
        async move {
            let (_, job) = backup::create(&engine, "ns", name, "admin")
                .await
                .expect("starts");
            assert_eq!(
                common::job_end(&engine.db, &job.id).await.status,
                app::types::JobStatus::Succeeded
            );
        }
    };
    let names = || async {
        backup::list(&engine.db)
            .await
            .expect("list")
            .into_iter()
            .map(|b| b.name)
            .collect::<Vec<_>>()
    };
    made("One").await;
    made("Two").await;
    daily_retention(&engine, utc("2026-05-01T06:00:00Z"))
        .await
        .expect("a pass");
    assert_eq!(names().await, ["Two"]);
    // Later that day the pass does not run again; a day after the last, it does.
    made("Three").await;
    daily_retention(&engine, utc("2026-05-01T18:00:00Z"))
        .await
        .expect("a pass");
    assert_eq!(names().await, ["Three", "Two"]);
    daily_retention(&engine, utc("2026-05-02T06:00:00Z"))
        .await
        .expect("a pass");
    assert_eq!(names().await, ["Three"]);
}
