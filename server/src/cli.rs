//! The command line: `nsbackup`, its commands and their arguments. The options every
//! command shares are [`Config`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, parse_duration};

/// nsbackup backs up and restores whole namespaces of a modelling platform: folders with
/// their permissions, services, models and forms.
///
/// Without a command, `nsbackup` serves the web application.
#[derive(Debug, Parser)]
#[command(name = "nsbackup", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `nsbackup` does.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the web application (the default): open the database, bring its schema up to
    /// date, recover from an interrupted run, and listen until Ctrl-C or SIGTERM.
    Serve,
    /// Create a namespace and fill it with realistic, deterministic demo content: JSON
    /// services, BPMN models and JSON forms with a long tail of sizes, in nested folders,
    /// some with permissions of their own. Benchmarks and demos use it.
    Seed(SeedArgs),
    /// Manage user accounts: create, list, change passwords, delete.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage where backup files are kept.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Manage scheduled backups and their retention: list, set, pause, resume, delete.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Manage personal API tokens for scripts: create, list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Work with the backups of a running server (--server, token in NSBACKUP_TOKEN): list,
    /// create, download, upload, preview, restore, undo, delete.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Check a backup file as an upload would (structure, checksums, records, version),
    /// without a server.
    Verify {
        /// The backup file (a zip).
        file: PathBuf,
        /// The file is encrypted with a passphrase: read it from `NSBACKUP_PASSPHRASE`, a
        /// terminal, or one line of standard input.
        #[arg(long)]
        passphrase: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `nsbackup backup …`: a client of the server at `--server`.
#[derive(Debug, Clone, Subcommand)]
pub enum BackupCommand {
    /// List the backups, newest first.
    List {
        /// Only those of this namespace.
        #[arg(long)]
        namespace: Option<String>,
        /// Print the API's answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Back a namespace up, and wait until it is done (progress on a terminal).
    Create {
        /// The namespace.
        namespace: String,
        /// The backup's name.
        name: String,
        /// Encrypt it with a passphrase (at least 10 characters; restoring it asks for it):
        /// read from `NSBACKUP_PASSPHRASE`, asked twice on a terminal, or one line of
        /// standard input.
        #[arg(long)]
        passphrase: bool,
        /// Do not wait: print the job and end.
        #[arg(long)]
        no_wait: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Download a backup's file (to its download name, or --output).
    Download {
        /// The backup's id.
        id: String,
        /// Where to write it.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Upload a backup file, to be listed under a namespace.
    Upload {
        /// The backup file (a zip).
        file: PathBuf,
        /// The namespace it is listed under.
        #[arg(long)]
        namespace: String,
        /// Its name (the file's name when not given).
        #[arg(long)]
        name: Option<String>,
        /// The backup is encrypted with a passphrase: read it from `NSBACKUP_PASSPHRASE`, a
        /// terminal, or one line of standard input.
        #[arg(long)]
        passphrase: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Say what restoring a backup into a namespace would do, changing nothing.
    Preview {
        /// The backup's id.
        id: String,
        /// The namespace it would replace.
        #[arg(long)]
        namespace: String,
        /// The backup is encrypted with a passphrase: read it from `NSBACKUP_PASSPHRASE`, a
        /// terminal, or one line of standard input.
        #[arg(long)]
        passphrase: bool,
        /// Print the API's answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Restore a backup into a namespace (all or nothing), and wait until it is done.
    Restore {
        /// The backup's id.
        id: String,
        /// The namespace to replace (or create).
        #[arg(long)]
        namespace: String,
        /// The backup is encrypted with a passphrase: read it from `NSBACKUP_PASSPHRASE`, a
        /// terminal, or one line of standard input.
        #[arg(long)]
        passphrase: bool,
        /// Do not wait: print the job and end.
        #[arg(long)]
        no_wait: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Switch a namespace back to a restore point (the newest when --to is not given).
    Undo {
        /// The namespace.
        namespace: String,
        /// The restore point's generation.
        #[arg(long)]
        to: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a backup.
    Delete {
        /// The backup's id.
        id: String,
    },
}

/// `nsbackup token …`.
#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (this once; only its hash is kept).
    Create {
        /// What it is for: "nightly copy".
        name: String,
        /// The user it acts as.
        #[arg(long, default_value = "admin")]
        user: String,
        /// How long it works (`30d`, `12h`), or `never`.
        #[arg(long, default_value = "90d", value_name = "DURATION")]
        expires: String,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke a token by its handle (from `token list`).
    Revoke {
        /// The token's handle.
        handle: String,
    },
}

/// `--expires`: a duration, or `never`.
pub fn parse_expiry(text: &str) -> Result<Option<std::time::Duration>, String> {
    if text.trim().eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    parse_duration(text).map(Some)
}

/// `nsbackup schedule …`.
#[derive(Debug, Clone, Subcommand)]
pub enum ScheduleCommand {
    /// List the schedules with their next run, last result and retention policy.
    List,
    /// Set (create or replace) a namespace's schedule and retention policy; prints its next
    /// five runs and the backups the policy would delete now.
    Set(ScheduleSetArgs),
    /// Pause a namespace's schedule.
    Pause {
        /// The namespace.
        namespace: String,
    },
    /// Resume a paused schedule (from now on: missed runs are not made up).
    Resume {
        /// The namespace.
        namespace: String,
    },
    /// Remove a namespace's schedule (its backups stay).
    Delete {
        /// The namespace.
        namespace: String,
    },
}

/// What `nsbackup schedule set` sets.
#[derive(Debug, Clone, Args)]
pub struct ScheduleSetArgs {
    /// The namespace.
    pub namespace: String,
    /// When it runs: a cron expression (minute hour day month weekday, e.g. `0 2 * * *`;
    /// six fields with seconds first; `@daily`, `@hourly`, …).
    #[arg(long, value_name = "EXPR")]
    pub cron: String,
    /// The IANA time zone of the expression (`Europe/Berlin`); the server's when not given.
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// The name of the backups it makes; `{date}`, `{time}` and `{namespace}` are filled in.
    #[arg(long, value_name = "TEMPLATE", default_value = app::types::DEFAULT_NAME_TEMPLATE)]
    pub name: String,
    /// Save it paused.
    #[arg(long)]
    pub paused: bool,
    /// Keep the last N backups.
    #[arg(long, value_name = "N")]
    pub keep_last: Option<u32>,
    /// Keep the newest backup of each of the last N days that have one.
    #[arg(long, value_name = "N")]
    pub keep_daily: Option<u32>,
    /// Keep the newest backup of each of the last N weeks that have one.
    #[arg(long, value_name = "N")]
    pub keep_weekly: Option<u32>,
    /// Keep the newest backup of each of the last N months that have one.
    #[arg(long, value_name = "N")]
    pub keep_monthly: Option<u32>,
    /// Let the policy delete backups made by hand and uploaded ones too (by default it
    /// deletes only those the schedule made; pinned ones never).
    #[arg(long)]
    pub retention_covers_all: bool,
}

/// `nsbackup store …`.
#[derive(Debug, Clone, Subcommand)]
pub enum StoreCommand {
    /// Move the backup files of `<data-dir>/backups` into the store that `--store` names
    /// (an S3 bucket), each checked there before it leaves the directory. Run it once when
    /// an installation starts keeping its backups in S3, with nsbackup stopped.
    Migrate,
    /// Check every listed backup's file against the size and SHA-256 it was written with
    /// (a damaged one is listed as such), and list the files in the store that no backup
    /// names. Ends with a non-zero status when it finds either.
    Check,
}

/// `nsbackup user …`. Passwords are read from `NSBACKUP_PASSWORD` when it is set (for
/// scripts), otherwise asked for on the terminal, or read as one line from standard input.
#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Create a user (a modeler, or an administrator with --admin).
    Create {
        /// The user's name: letters, digits, `.`, `_`, `-` and `@`.
        name: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// List the users with their roles.
    List,
    /// Set a new password for a user.
    Passwd {
        /// The user's name.
        name: String,
    },
    /// Delete a user (never the last administrator).
    Delete {
        /// The user's name.
        name: String,
    },
}

/// What `nsbackup seed` generates.
#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Name of the namespace to create (it must not exist yet).
    #[arg(long, value_name = "NAME")]
    pub namespace: String,
    /// Title of the new namespace.
    #[arg(long, default_value = "Demo content", value_name = "TITLE")]
    pub title: String,
    /// How many folders.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub folders: usize,
    /// How many items.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub items: usize,
    /// Average content size in bytes (single items vary from a tenth to twenty times it).
    #[arg(long, default_value_t = 4096, value_name = "BYTES")]
    pub avg_size: usize,
    /// Seed of the generator: the same seed gives the same content.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
}
