//! Scheduled backups and retention: one schedule per namespace, what it last did, and what
//! a retention policy would delete.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which backups a retention policy may delete.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum RetentionCovers {
    /// Only the backups the schedule made: manual and uploaded ones are kept.
    #[default]
    Scheduled,
    /// Every backup of the namespace (pinned ones are still kept).
    All,
}

/// How many backups to keep, in the grandfather-father-son scheme: the last `keep_last`,
/// and the newest of each of the last `keep_daily` days, `keep_weekly` weeks and
/// `keep_monthly` months that have one. A backup kept by any rule is kept. With no rule at
/// all, nothing is deleted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Retention {
    #[serde(default)]
    pub keep_last: Option<u32>,
    #[serde(default)]
    pub keep_daily: Option<u32>,
    #[serde(default)]
    pub keep_weekly: Option<u32>,
    #[serde(default)]
    pub keep_monthly: Option<u32>,
    #[serde(default)]
    pub covers: RetentionCovers,
}

impl Retention {
    /// Whether the policy deletes anything at all.
    pub fn is_active(&self) -> bool {
        [
            self.keep_last,
            self.keep_daily,
            self.keep_weekly,
            self.keep_monthly,
        ]
        .iter()
        .any(Option::is_some)
    }

    /// The policy in words: "keep the last 7, daily 14, weekly 8, monthly 12".
    pub fn describe(&self) -> String {
        let rules: Vec<String> = [
            ("the last", self.keep_last),
            ("daily", self.keep_daily),
            ("weekly", self.keep_weekly),
            ("monthly", self.keep_monthly),
        ]
        .iter()
        .filter_map(|(label, count)| count.map(|count| format!("{label} {count}")))
        .collect();
        if rules.is_empty() {
            "keep everything".to_string()
        } else {
            format!("keep {}", rules.join(", "))
        }
    }
}

/// A schedule as it is set: the cron expression (5 fields, or 6 with seconds first) in an
/// IANA time zone, whether it runs, the name of the backups it makes, and retention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScheduleDraft {
    pub namespace: String,
    pub cron: String,
    pub timezone: String,
    pub enabled: bool,
    /// `{date}`, `{time}` and `{namespace}` are filled in (in the schedule's time zone).
    pub name_template: String,
    #[serde(default)]
    pub retention: Retention,
}

/// The default name of scheduled backups: "Scheduled 2026-11-30 02:00".
pub const DEFAULT_NAME_TEMPLATE: &str = "Scheduled {date} {time}";

/// How a scheduled run went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum RunOutcome {
    /// Claimed and on its way (waiting for the namespace, or backing up).
    Running,
    Succeeded,
    Failed,
    /// Not run: the namespace stayed busy with another job, or did not exist.
    Skipped,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Running => "running",
            RunOutcome::Succeeded => "succeeded",
            RunOutcome::Failed => "failed",
            RunOutcome::Skipped => "skipped",
        }
    }
}

/// The last run of a schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScheduleRun {
    /// When it was due.
    pub due: DateTime<Utc>,
    pub outcome: RunOutcome,
    /// The reason of a failure or a skip; the backup's name otherwise.
    pub detail: String,
    /// The backup it made.
    #[serde(default)]
    pub backup: Option<String>,
}

/// A schedule as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScheduleInfo {
    #[serde(flatten)]
    pub draft: ScheduleDraft,
    /// When it runs next (none while paused).
    pub next_run: Option<DateTime<Utc>>,
    pub last_run: Option<ScheduleRun>,
    /// The expression in words ("At 02:00 every day").
    pub description: String,
}

/// What saving a draft would do, shown before it is saved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SchedulePreview {
    /// Why the draft cannot be saved; `None` when it can.
    pub problem: Option<String>,
    /// The expression in words.
    pub description: String,
    /// The next five run times.
    pub next_runs: Vec<DateTime<Utc>>,
    /// The backups the retention policy would delete now, with the reason.
    pub deletions: Vec<PlannedDeletion>,
}

/// A backup a retention policy deletes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlannedDeletion {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Why: which policy it falls outside of.
    pub reason: String,
}
