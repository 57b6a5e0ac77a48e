//! Retention: what a policy would delete, shown before it is saved; the rules on hand-built
//! sets; the pass that runs once a day.

use std::collections::HashSet;

use app::domain::backup;
use app::domain::schedule;
use app::domain::schedule::retention;
use app::domain::schedule::scheduler::{Clock, apply_retention, daily_retention};
use app::types::{BackupInfo, BackupOrigin, BackupStatus, Retention, RetentionCovers};
use chrono::Duration as Days;

use super::{TestClock, draft, engine_with_namespace, hourly, utc};
use crate::common;

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
        encryption: None,
        locked: None,
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
