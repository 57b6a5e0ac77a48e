//! The configuration every command shares. Every option can also be set through an
//! `NSBACKUP_…` environment variable; a flag wins over the variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use app::domain::DbOptions;
use clap::Args;

/// The configuration shared by every command.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address and port to listen on. Port 0 picks a free port; the address actually used is
    /// printed at start-up.
    #[arg(
        long,
        env = "NSBACKUP_LISTEN",
        default_value = "127.0.0.1:3000",
        value_name = "ADDR",
        global = true
    )]
    pub listen: SocketAddr,
    /// The server `nsbackup backup …` talks to.
    #[arg(
        long,
        env = "NSBACKUP_SERVER",
        default_value = "http://127.0.0.1:3000",
        value_name = "URL",
        global = true
    )]
    pub server: String,

    /// Directory for nsbackup's own data: the embedded database (unless --db says otherwise)
    /// and the backup files. Created when missing.
    #[arg(
        long,
        env = "NSBACKUP_DATA_DIR",
        default_value = "./data",
        value_name = "DIR",
        global = true
    )]
    pub data_dir: PathBuf,

    /// The database: `surrealkv://PATH` (embedded, on disk; the default is `<data-dir>/db`),
    /// `mem://` (in memory, gone at exit) or `ws://HOST:PORT` / `wss://HOST:PORT` for a
    /// remote SurrealDB server shared by several nsbackup replicas.
    #[arg(long, env = "NSBACKUP_DB", value_name = "URL", global = true)]
    pub db: Option<String>,

    /// Open an embedded database whose log is damaged before its end, keeping only the writes
    /// before the damage. Without it nsbackup refuses to start on such a log, and says where
    /// the damaged part's copy is kept: use it once, after reading that message.
    #[arg(long, env = "NSBACKUP_REPAIR_DATABASE_LOG", global = true)]
    pub repair_database_log: bool,

    /// Root user for a remote database.
    #[arg(long, env = "NSBACKUP_DB_USER", value_name = "NAME", global = true)]
    pub db_user: Option<String>,

    /// Password of the remote database's user. Prefer the environment variable: other users
    /// of the machine can read command lines.
    #[arg(
        long,
        env = "NSBACKUP_DB_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub db_password: Option<String>,

    /// Where backup files are kept: `<data-dir>/backups` by default, or an S3 bucket,
    /// `s3://BUCKET` or `s3://BUCKET/PREFIX` (credentials from `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY`), for backups away from the machine whose data they protect.
    #[arg(long, env = "NSBACKUP_STORE", value_name = "URL", global = true)]
    pub store: Option<String>,

    /// The S3 server's address, for S3-compatible servers (`https://s3.example.net`,
    /// `http://127.0.0.1:8333`); AWS itself when not given.
    #[arg(long, env = "NSBACKUP_S3_ENDPOINT", value_name = "URL", global = true)]
    pub s3_endpoint: Option<String>,

    /// The S3 region.
    #[arg(
        long,
        env = "NSBACKUP_S3_REGION",
        default_value = "us-east-1",
        value_name = "REGION",
        global = true
    )]
    pub s3_region: String,

    /// Largest backup file accepted for upload: a number of bytes, or with a unit (`500MB`,
    /// `2GiB`).
    #[arg(long, env = "NSBACKUP_MAX_UPLOAD_SIZE", default_value = "2GiB", value_name = "SIZE", value_parser = parse_size, global = true)]
    pub max_upload_size: u64,

    /// What to log: a level (`error`, `warn`, `info`, `debug`, `trace`) or directives per
    /// module (`info,app=debug`). The database engine logs only warnings unless told otherwise.
    #[arg(
        long,
        env = "NSBACKUP_LOG",
        default_value = "info,surrealdb=warn,surrealdb_core=warn,surrealkv=warn",
        value_name = "FILTER",
        global = true
    )]
    pub log: String,

    /// When the database holds no namespace at start-up, create a small demo namespace
    /// (`demo`) so that there is something to look at.
    #[arg(long, env = "NSBACKUP_DEMO", global = true)]
    pub demo: bool,

    /// Most entries a backup archive (created or uploaded) may hold.
    #[arg(
        long,
        env = "NSBACKUP_ARCHIVE_MAX_ENTRIES",
        default_value_t = 200_000,
        value_name = "N",
        global = true
    )]
    pub archive_max_entries: usize,

    /// Most bytes one entry of a backup archive may unpack to (counted while reading).
    #[arg(long, env = "NSBACKUP_ARCHIVE_MAX_ENTRY_SIZE", default_value = "4GiB", value_name = "SIZE", value_parser = parse_size, global = true)]
    pub archive_max_entry_size: u64,

    /// Most bytes a whole backup archive may unpack to (counted while reading).
    #[arg(long, env = "NSBACKUP_ARCHIVE_MAX_TOTAL_SIZE", default_value = "16GiB", value_name = "SIZE", value_parser = parse_size, global = true)]
    pub archive_max_total_size: u64,

    /// Most bytes an entry above a mebibyte may unpack to per compressed byte (refuses zip
    /// bombs).
    #[arg(
        long,
        env = "NSBACKUP_ARCHIVE_MAX_RATIO",
        default_value_t = 250,
        value_name = "N",
        global = true
    )]
    pub archive_max_ratio: u64,

    /// How long a sign-in lasts before the user must sign in again: a duration such as
    /// `12h`, `30m` or `90s`.
    #[arg(long, env = "NSBACKUP_SESSION_LIFETIME", default_value = "12h", value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub session_lifetime: std::time::Duration,

    /// This server's name among the replicas that share a database, as job messages and the
    /// log name it. When not given, the name kept in `<data-dir>/replica` (made from the host
    /// name the first time), so that after a restart the server knows its own jobs.
    #[arg(long, env = "NSBACKUP_REPLICA", value_name = "NAME", global = true)]
    pub replica: Option<String>,

    /// How long a running backup or restore stays this server's without a renewal: when a
    /// server dies, another ends its jobs (as failed) within about twice this long.
    #[arg(long, env = "NSBACKUP_JOB_LEASE", default_value = "30s", value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub job_lease: std::time::Duration,

    /// Encrypt every new backup to this age recipient (a public key, `age1…`, made with
    /// `age-keygen`); repeat it for several. Without one, backups are plain zip files.
    #[arg(
        long = "backup-recipient",
        env = "NSBACKUP_BACKUP_RECIPIENT",
        value_delimiter = ',',
        value_name = "AGE1…",
        global = true
    )]
    pub backup_recipients: Vec<String>,

    /// A file with the age secret key(s) (`AGE-SECRET-KEY-1…`, one a line) that open
    /// encrypted backups, for restores, previews and uploads. It is read at start-up, never
    /// copied, logged or stored.
    #[arg(
        long,
        env = "NSBACKUP_BACKUP_IDENTITY",
        value_name = "FILE",
        global = true
    )]
    pub backup_identity: Option<PathBuf>,

    /// How long the content a restore replaced is kept as a restore point, to switch the
    /// namespace back to it: a duration such as `7d` or `12h`.
    #[arg(long, env = "NSBACKUP_SNAPSHOT_RETENTION", default_value = "7d", value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub snapshot_retention: std::time::Duration,

    /// How often the scheduler looks for scheduled backups that are due.
    #[arg(long, env = "NSBACKUP_SCHEDULER_TICK", default_value = "30s", value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub scheduler_tick: std::time::Duration,

    /// How often every stored backup's file is checked against the size and SHA-256 it was
    /// written with (damaged ones are listed as such): a duration such as `24h`, or `off`.
    #[arg(long, env = "NSBACKUP_VERIFY_INTERVAL", default_value = "24h", value_name = "DURATION", value_parser = parse_interval, global = true)]
    pub verify_interval: Interval,

    /// Password for the administrator `admin` that is created when the database has no user
    /// at all. Without it a random password is made and printed once at start-up.
    #[arg(
        long,
        env = "NSBACKUP_INITIAL_ADMIN_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub initial_admin_password: Option<String>,

    /// Directory of the compiled web assets (WASM, JavaScript, CSS, icons), as built by
    /// `cargo leptos build`.
    #[arg(
        long,
        env = "NSBACKUP_SITE_ROOT",
        default_value = "target/site",
        value_name = "DIR",
        global = true
    )]
    pub site_root: PathBuf,
}

impl Config {
    /// Where and how to open the database.
    pub fn db_options(&self) -> DbOptions {
        let url = self
            .db
            .clone()
            .unwrap_or_else(|| DbOptions::surrealkv(&self.data_dir.join("db")).url);
        DbOptions {
            url,
            username: self.db_user.clone(),
            password: self.db_password.clone(),
            repair_log: self.repair_database_log,
        }
    }
}

/// Parses a duration such as `90s`, `30m`, `12h` or `7d` (a bare number is seconds).
pub(crate) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let problem = || format!("`{text}` is not a duration; write one like 90s, 30m, 12h or 7d");
    let number: u64 = number.parse().map_err(|_| problem())?;
    let seconds = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(problem()),
    };
    if number == 0 {
        return Err(format!(
            "`{text}` is too short: it must be at least a second"
        ));
    }
    Ok(std::time::Duration::from_secs(
        number.saturating_mul(seconds),
    ))
}

/// How often something runs: every so long, or never (`off`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval(pub Option<std::time::Duration>);

/// A duration as [`parse_duration`] reads it, or `off`.
fn parse_interval(text: &str) -> Result<Interval, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(Interval(None));
    }
    parse_duration(text)
        .map(|every| Interval(Some(every)))
        .map_err(|_| format!("`{text}` is not an interval; write one like 30m, 24h or 7d, or off"))
}

/// Parses a size such as `1048576`, `500MB`, `2GiB` or `1.5 GB` into bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| {
        format!(
            "`{text}` is not a size; write a number of bytes or one with a unit, like 500MB or 2GiB"
        )
    })?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        other => {
            return Err(format!(
                "`{other}` is not a size unit; use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"
            ));
        }
    };
    let bytes = number * multiplier as f64;
    if !(1.0..=u64::MAX as f64).contains(&bytes) {
        return Err(format!("`{text}` is out of range; give at least one byte"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    #[test]
    fn sizes_parse_with_and_without_units() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("2GiB"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("1.5 gb"), Ok(1_500_000_000));
        assert_eq!(parse_size("64kib"), Ok(65_536));
    }

    #[test]
    fn bad_sizes_are_refused_with_a_hint() {
        assert!(parse_size("lots").unwrap_err().contains("500MB"));
        assert!(
            parse_size("5 parsecs")
                .unwrap_err()
                .contains("not a size unit")
        );
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn every_option_reads_its_environment_variable() {
        use clap::CommandFactory;
        let command = Cli::command();
        for arg in command.get_arguments().filter(|a| a.get_long().is_some()) {
            let long = arg.get_long().unwrap_or_default();
            if ["help", "version"].contains(&long) {
                continue;
            }
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            let expected = format!("NSBACKUP_{}", long.to_ascii_uppercase().replace('-', "_"));
            assert_eq!(env.as_deref(), Some(expected.as_str()), "--{long}");
            assert!(arg.get_help().is_some(), "--{long} has no help text");
        }
        command.debug_assert();
    }

    #[test]
    fn the_database_defaults_to_surrealkv_in_the_data_directory() {
        let cli = Cli::try_parse_from(["nsbackup", "--data-dir", "/srv/nsbackup"]).expect("parses");
        assert_eq!(cli.config.db_options().url, "surrealkv:///srv/nsbackup/db");
        let cli = Cli::try_parse_from(["nsbackup", "serve", "--db", "mem://"]).expect("parses");
        assert_eq!(cli.config.db_options().url, "mem://");
    }
}
