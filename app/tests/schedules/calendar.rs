//! Runs over the calendar: forty days of a daily schedule (a clock change and downtime among
//! them), a clock going back, and expressions and zones refused with the reason.

use std::collections::HashSet;

use app::domain::Db;
use app::domain::backup;
use app::domain::schedule::scheduler::Clock;
use app::domain::schedule::{self, when};
use app::types::{BackupStatus, Retention, RunOutcome};
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{TestClock, draft, engine_with_namespace, settings, utc};
use crate::common;

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
