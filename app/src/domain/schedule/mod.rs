//! Scheduled backups with retention (`docs/architecture.md`, "Schedules"): one schedule per
//! namespace, kept in the database with its next due time; every replica's scheduler looks
//! for due schedules and claims each run with a conditional update, so that a run starts
//! exactly once however many replicas look.
//!
//! - [`when`]: cron expressions in a time zone (parsed by `croner`), their next run times;
//! - [`store`](mod@store): schedules as they are set, previewed and listed;
//! - [`scheduler`]: due runs claimed and run, taking the clock as an argument;
//! - [`retention`]: which backups a policy keeps, and deleting the rest.

pub mod retention;
pub mod scheduler;
mod store;
pub mod when;

pub use self::scheduler::{Clock, SchedulerSettings, SystemClock, run_scheduler, tick};
pub use self::store::{delete, get, list, pause, preview, resume, set};
