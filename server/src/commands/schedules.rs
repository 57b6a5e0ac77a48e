//! `nsbackup schedule …`: scheduled backups and retention from the command line.

use app::domain::schedule::{self, when};
use app::types::{Retention, ScheduleDraft, ScheduleInfo};

use crate::cli::{ScheduleCommand, ScheduleSetArgs};
use crate::config::Config;
use crate::startup::{StartupError, with_engine};

/// Who the audit log names for changes made here.
const ACTOR: &str = app::domain::audit::COMMAND_LINE;

/// Runs one `nsbackup schedule` command.
///
/// # Errors
///
/// A [`StartupError`] whose message says what is wrong (an expression that does not parse,
/// a namespace without a schedule, …).
pub async fn run(config: &Config, command: ScheduleCommand) -> Result<(), StartupError> {
    with_engine(config, |engine| async move {
        match command {
            ScheduleCommand::List => {
                let schedules = schedule::list(&engine.db).await?;
                if schedules.is_empty() {
                    println!("No namespace has a schedule.");
                }
                for info in &schedules {
                    print_schedule(info);
                }
            }
            ScheduleCommand::Set(args) => {
                let draft = draft(&args);
                let now = chrono::Utc::now();
                let preview = schedule::preview(&engine, &draft, now).await?;
                if let Some(problem) = preview.problem {
                    return Err(StartupError::Input(problem));
                }
                let info = schedule::set(&engine, &draft, ACTOR, now).await?;
                print_schedule(&info);
                println!("  next runs:");
                for at in &preview.next_runs {
                    println!("    {}", at.format("%Y-%m-%d %H:%M UTC"));
                }
                if !preview.deletions.is_empty() {
                    println!(
                        "  the retention policy deletes {} backup(s) after the next run:",
                        preview.deletions.len()
                    );
                    for deletion in &preview.deletions {
                        println!(
                            "    {} ({})",
                            deletion.name,
                            deletion.created_at.format("%Y-%m-%d %H:%M UTC")
                        );
                    }
                }
            }
            ScheduleCommand::Pause { namespace } => {
                let info = schedule::pause(&engine, &namespace, ACTOR).await?;
                print_schedule(&info);
            }
            ScheduleCommand::Resume { namespace } => {
                let info = schedule::resume(&engine, &namespace, ACTOR).await?;
                print_schedule(&info);
            }
            ScheduleCommand::Delete { namespace } => {
                schedule::delete(&engine, &namespace, ACTOR).await?;
                println!("Removed the schedule of {namespace}; its backups stay.");
            }
        }
        Ok(())
    })
    .await
}

fn draft(args: &ScheduleSetArgs) -> ScheduleDraft {
    ScheduleDraft {
        namespace: args.namespace.clone(),
        cron: args.cron.clone(),
        timezone: args.timezone.clone().unwrap_or_else(when::server_timezone),
        enabled: !args.paused,
        name_template: args.name.clone(),
        retention: Retention {
            keep_last: args.keep_last,
            keep_daily: args.keep_daily,
            keep_weekly: args.keep_weekly,
            keep_monthly: args.keep_monthly,
            covers: if args.retention_covers_all {
                app::types::RetentionCovers::All
            } else {
                app::types::RetentionCovers::Scheduled
            },
        },
    }
}

fn print_schedule(info: &ScheduleInfo) {
    let draft = &info.draft;
    println!(
        "{}\t{} ({}, {})\t{}\t{}",
        draft.namespace,
        draft.cron,
        draft.timezone,
        info.description,
        if draft.enabled { "enabled" } else { "paused" },
        draft.retention.describe()
    );
    match &info.next_run {
        Some(next) => println!("  next run: {}", next.format("%Y-%m-%d %H:%M UTC")),
        None => println!("  next run: none (paused)"),
    }
    if let Some(last) = &info.last_run {
        println!(
            "  last run: {} due {}: {}",
            last.outcome.as_str(),
            last.due.format("%Y-%m-%d %H:%M UTC"),
            last.detail
        );
    }
}
