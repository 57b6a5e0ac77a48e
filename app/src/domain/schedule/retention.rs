//! Retention: which backups a policy keeps, worked out on the list alone (a pure function,
//! tested on hand-built sets), and applied by deleting the rest.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use crate::types::{
    BackupInfo, BackupOrigin, BackupStatus, PlannedDeletion, Retention, RetentionCovers,
};

/// The backups of one namespace that `policy` deletes, newest first, with the reason. Kept
/// whatever the policy says: pinned backups, those a job uses (`in_use`), the newest
/// completed backup of the namespace, backups not completed, and those the policy does not
/// cover. Days, weeks and months are those of time zone `tz`.
pub fn plan(
    backups: &[BackupInfo],
    policy: &Retention,
    in_use: &HashSet<String>,
    tz: Tz,
) -> Vec<PlannedDeletion> {
    if !policy.is_active() {
        return Vec::new();
    }
    let mut completed: Vec<&BackupInfo> = backups
        .iter()
        .filter(|backup| backup.status == BackupStatus::Completed)
        .collect();
    completed.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let newest = completed.first().map(|backup| backup.id.clone());
    let covered: Vec<&BackupInfo> = completed
        .into_iter()
        .filter(|backup| match policy.covers {
            RetentionCovers::Scheduled => backup.origin == BackupOrigin::Scheduled,
            RetentionCovers::All => true,
        })
        .collect();

    let mut kept: HashSet<&str> = HashSet::new();
    if let Some(count) = policy.keep_last {
        kept.extend(covered.iter().take(count as usize).map(|b| b.id.as_str()));
    }
    let local = |at: DateTime<Utc>| at.with_timezone(&tz);
    keep_newest_per(&covered, policy.keep_daily, &mut kept, |at| {
        let day = local(at).date_naive();
        (day.year(), day.ordinal())
    });
    keep_newest_per(&covered, policy.keep_weekly, &mut kept, |at| {
        let week = local(at).iso_week();
        (week.year(), week.week())
    });
    keep_newest_per(&covered, policy.keep_monthly, &mut kept, |at| {
        let day = local(at);
        (day.year(), day.month())
    });

    let reason = format!("not kept by the policy ({})", policy.describe());
    covered
        .into_iter()
        .filter(|backup| {
            !kept.contains(backup.id.as_str())
                && !backup.pinned
                && !in_use.contains(&backup.id)
                && newest.as_deref() != Some(backup.id.as_str())
        })
        .map(|backup| PlannedDeletion {
            id: backup.id.clone(),
            name: backup.name.clone(),
            created_at: backup.created_at,
            reason: reason.clone(),
        })
        .collect()
}

/// Keeps the newest backup of each of the last `count` periods that have one (`backups` are
/// newest first; `period` names the period of a time).
fn keep_newest_per<'a, K: PartialEq>(
    backups: &[&'a BackupInfo],
    count: Option<u32>,
    kept: &mut HashSet<&'a str>,
    period: impl Fn(DateTime<Utc>) -> K,
) {
    let Some(count) = count else {
        return;
    };
    let mut last: Option<K> = None;
    let mut periods = 0;
    for backup in backups {
        if periods >= count {
            break;
        }
        let this = period(backup.created_at);
        if last.as_ref() != Some(&this) {
            kept.insert(backup.id.as_str());
            last = Some(this);
            periods += 1;
        }
    }
}
