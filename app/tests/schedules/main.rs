//! Scheduled backups and retention, without waiting: the scheduler takes a clock, so forty
//! days of a daily schedule (a daylight-saving change and three days of downtime among them)
//! run in moments; retention is checked on hand-built sets.

#[path = "../common/mod.rs"]
mod common;

mod calendar;
mod retention;
mod runs;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::domain::backup::Engine;
use app::domain::content::{folder, namespace};
use app::domain::schedule;
use app::domain::schedule::scheduler::{Clock, SchedulerSettings};
use app::types::{DEFAULT_NAME_TEMPLATE, Retention, ScheduleDraft};
use chrono::{DateTime, Utc};

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
