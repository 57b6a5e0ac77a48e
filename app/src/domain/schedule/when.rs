//! When a schedule runs: a cron expression in an IANA time zone.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// A parsed schedule: its expression and its time zone.
#[derive(Clone, Debug)]
pub struct When {
    cron: Cron,
    tz: Tz,
}

/// Parses expression `cron` (5 fields, or 6 with seconds first; `@daily` and the like) in
/// time zone `timezone`.
///
/// # Errors
///
/// A sentence that says what is wrong, for the person typing it.
pub fn parse(cron: &str, timezone: &str) -> Result<When, String> {
    let tz = Tz::from_str(timezone.trim()).map_err(|_| {
        format!("`{timezone}` is not a time zone; choose one like Europe/Berlin or UTC")
    })?;
    let expression = cron.trim();
    if expression.is_empty() {
        return Err("Write when it runs, for example `0 2 * * *` (every day at 02:00).".into());
    }
    let parsed = Cron::from_str(expression).map_err(|error| {
            format!("`{expression}` is not a cron expression: {error}. Write five fields: minute hour day month weekday, for example `0 2 * * *`.")
        })?;
    let when = When { cron: parsed, tz };
    if when.next_after(Utc::now()).is_none() {
        return Err(format!("`{expression}` never runs."));
    }
    Ok(when)
}

impl When {
    /// The first run time strictly after `after`. A local time that a daylight-saving change
    /// skips runs once, right after the change; one that occurs twice runs once.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.tz);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|next| next.with_timezone(&Utc))
    }

    /// The next `count` run times after `after`.
    pub fn next_runs(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut runs = Vec::with_capacity(count);
        let mut from = after;
        while runs.len() < count {
            match self.next_after(from) {
                Some(next) if next > from => {
                    runs.push(next);
                    from = next;
                }
                _ => break,
            }
        }
        runs
    }

    /// The expression in words.
    pub fn describe(&self) -> String {
        self.cron.describe()
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }
}

/// The server's own time zone (from `TZ` or the system), `UTC` when it cannot be told.
pub fn server_timezone() -> String {
    std::env::var("TZ")
        .ok()
        .filter(|tz| Tz::from_str(tz).is_ok())
        .or_else(|| {
            iana_time_zone::get_timezone()
                .ok()
                .filter(|tz| Tz::from_str(tz).is_ok())
        })
        .unwrap_or_else(|| "UTC".to_string())
}
