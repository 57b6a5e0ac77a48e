//! Start-up, in the order the design fixes: configuration → database → schema migrations →
//! recovery → router → serve, and a graceful stop on Ctrl-C or SIGTERM.

use app::types::AuditAction;
use std::io::Write;
use std::path::{Path, PathBuf};

use app::domain::content::namespace;
use app::domain::db::retry_conflicts;
use app::domain::seed::{self, SeedOptions};
use app::domain::{self, Db, DomainError, Services, schema};
use leptos::config::{Env, LeptosOptions};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{Config, SeedArgs};
use crate::routes;

/// Why nsbackup could not start or stopped early. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("invalid log filter `{filter}`: {reason}")]
    LogFilter { filter: String, reason: String },

    #[error("the data directory {} cannot be used: {reason}. Choose another with --data-dir or fix its permissions", path.display())]
    DataDir { path: PathBuf, reason: String },

    #[error(
        "cannot listen on {addr}: {reason}. Stop the program that uses it or choose another address with --listen"
    )]
    Listen {
        addr: std::net::SocketAddr,
        reason: String,
    },

    #[error("{0}")]
    Domain(#[from] DomainError),

    #[error("{0}")]
    Input(String),

    #[error("the server stopped unexpectedly: {0}")]
    Serve(std::io::Error),

    /// The server (or a file checked offline) said no: the message says why.
    #[error("{0}")]
    Refused(String),

    /// Something failed (a job, the server, writing a file).
    #[error("{0}")]
    Failed(String),

    /// The server could not be reached.
    #[error("{0}")]
    Unreachable(String),

    /// A sound backup file that this version cannot restore (made by a newer one).
    #[error("{0}")]
    TooNew(String),
}

impl StartupError {
    /// The exit code: 2 for a refusal, 3 for a server that cannot be reached, 4 for a sound
    /// backup that only a newer version can restore, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            StartupError::Refused(_) => 2,
            StartupError::Unreachable(_) => 3,
            StartupError::TooNew(_) => 4,
            _ => 1,
        }
    }
}

/// Sets up structured logging to standard error with the given filter.
///
/// # Errors
///
/// [`StartupError::LogFilter`] when the filter does not parse.
pub fn init_logging(filter: &str) -> Result<(), StartupError> {
    let env_filter = EnvFilter::builder()
        .parse(filter)
        .map_err(|e| StartupError::LogFilter {
            filter: filter.to_string(),
            reason: e.to_string(),
        })?;
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second initialisation (tests run several servers in one process) keeps the first.
    let _ = tracing_subscriber::registry()
        .with(env_filter)
        .with(RedundantCloseWarning)
        .with(output)
        .try_init();
    Ok(())
}

/// Leaves out one warning of the storage engine that is always noise: when the last handle
/// of the embedded database goes, the engine shuts its store down properly (it flushes and
/// closes it; `surrealdb-engine-local`'s session task), and afterwards the store's own `Drop`
/// tries to close it once more from a thread without a runtime and warns "No runtime
/// available for closing the store correctly". Nothing is left undone then; every other
/// message of the engine passes.
struct RedundantCloseWarning;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RedundantCloseWarning {
    fn event_enabled(
        &self,
        event: &tracing::Event<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        // Only warnings can be it (the engine logs through `log`, whose records arrive with
        // a target of their own, so the message itself is what is matched).
        if *event.metadata().level() != tracing::Level::WARN {
            return true;
        }
        let mut found = MessageContains {
            needle: "No runtime available for closing the store",
            found: false,
        };
        event.record(&mut found);
        !found.found
    }
}

/// Whether an event's message contains `needle`.
struct MessageContains {
    needle: &'static str,
    found: bool,
}

impl tracing::field::Visit for MessageContains {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" && format!("{value:?}").contains(self.needle) {
            self.found = true;
        }
    }
}

/// The backup store the configuration names: a directory under the data directory, or an
/// S3 bucket (reached and listed before anything else happens).
async fn open_store(
    config: &Config,
) -> Result<std::sync::Arc<dyn domain::backup::store::BackupStore>, StartupError> {
    use domain::backup::store::{BackupStore, LocalStore};

    let backups = config.data_dir.join("backups");
    match config.store.as_deref().filter(|url| !url.is_empty()) {
        None => {
            let store = LocalStore::open(&backups).map_err(|e| {
                StartupError::Input(format!(
                    "cannot use the backup directory {}: {e}",
                    backups.display()
                ))
            })?;
            Ok(std::sync::Arc::new(store))
        }
        Some(url) => {
            let store = open_s3(config, url).await?;
            // Backups still in the directory would be missing from the list's point of view
            // (and found "damaged"): they must be moved first.
            let local = LocalStore::open(&backups).map_err(|e| {
                StartupError::Input(format!(
                    "cannot read the backup directory {}: {e}",
                    backups.display()
                ))
            })?;
            let left = local.list().await.map_err(|e| {
                StartupError::Input(format!("cannot read {}: {e}", backups.display()))
            })?;
            if !left.is_empty() {
                return Err(StartupError::Input(format!(
                    "{} backup file(s) in {} are not in {url}: move them there with `nsbackup store migrate` (same settings), then start again",
                    left.len(),
                    backups.display()
                )));
            }
            tracing::info!(store = url, "backup files are kept in S3");
            Ok(std::sync::Arc::new(store))
        }
    }
}

/// The S3 bucket of `--store`, reached and listed.
async fn open_s3(
    config: &Config,
    url: &str,
) -> Result<domain::backup::store::S3Store, StartupError> {
    let options = domain::backup::store::S3Options {
        url: url.to_string(),
        endpoint: config.s3_endpoint.clone(),
        region: Some(config.s3_region.clone()),
        credentials: None,
    };
    // Files are put together, and fetched for restores, in the data directory.
    domain::backup::store::S3Store::open(
        &options,
        &config.data_dir.join("backups").join(".scratch"),
    )
    .await
    .map_err(StartupError::Input)
}

/// What every request reaches, as the configuration sets it up.
fn services(
    config: &Config,
    db: Db,
    store: std::sync::Arc<dyn domain::backup::store::BackupStore>,
) -> Services {
    let mut services = Services {
        session_lifetime: config.session_lifetime,
        ..Services::new(db, store)
    };
    services.backups.max_upload_bytes = config.max_upload_size;
    services.backups.snapshot_retention = config.snapshot_retention;
    services.backups.limits = domain::backup::archive::Limits {
        max_entries: config.archive_max_entries,
        max_entry_bytes: config.archive_max_entry_size,
        max_total_bytes: config.archive_max_total_size,
        max_ratio: config.archive_max_ratio,
    };
    services
}

/// `nsbackup store check`: every completed backup's file against what was written (damaged
/// ones are listed as such), the files of deleted backups that could not be removed yet
/// (tried again), and the files that no backup names (after a day: sound backups listed
/// again, the rest removed).
///
/// # Errors
///
/// A [`StartupError`] when the check cannot run, or when it finds a problem (after the
/// report on standard output).
pub async fn check_store(config: &Config) -> Result<(), StartupError> {
    with_engine(config, |engine| async move {
        let (checked, damaged) = domain::backup::verify::check_all(&engine).await?;
        println!("Checked {checked} backup file(s): {damaged} damaged (listed as damaged)");
        domain::backup::retry_deletions(&engine).await?;
        let pending = domain::backup::pending_deletions(&engine.db).await?;
        println!(
            "{} deleted backup(s) whose file could not be removed from the store yet",
            pending.len()
        );
        for deletion in &pending {
            println!(
                "  {}.zip ({}): tried {} time(s): {}",
                deletion.id,
                deletion.name,
                deletion.attempts,
                deletion.error.as_deref().unwrap_or("no reason recorded")
            );
        }
        use domain::backup::verify::{UNNAMED_GRACE, Unnamed, settle_unnamed};
        let unnamed = settle_unnamed(&engine, UNNAMED_GRACE).await?;
        println!("{} file(s) in the store that no backup names", unnamed.len());
        let mut waiting = 0;
        for file in &unnamed {
            match file {
                Unnamed::Waiting { id, age } => {
                    waiting += 1;
                    println!(
                        "  {id}.zip: stored {} minute(s) ago; after a day it is listed again if it is a sound backup, or removed",
                        age.as_secs() / 60
                    );
                }
                Unnamed::Listed { id, namespace } => {
                    println!("  {id}.zip: a sound backup of namespace {namespace}: listed again");
                }
                Unnamed::Removed { id, reason } => {
                    println!("  {id}.zip: not a sound backup ({reason}): removed");
                }
            }
        }
        let aborted = engine
            .store
            .abort_stale_uploads(UNNAMED_GRACE)
            .await
            .map_err(DomainError::from)?;
        if aborted > 0 {
            println!("{aborted} unfinished upload(s) older than a day aborted");
        }
        if damaged + pending.len() + waiting > 0 {
            return Err(StartupError::Input(
                "the store check found problems (above): delete damaged backups or upload intact copies; check that the store accepts deletions; an unnamed file can be uploaded to list it now".into(),
            ));
        }
        Ok(())
    })
    .await
}

/// Opens the store and the database (migrated), runs `work` with the backup engine on
/// them, and closes the database.
///
/// # Errors
///
/// As [`run`], or what `work` returns.
pub async fn with_engine<F, Fut, T>(config: &Config, work: F) -> Result<T, StartupError>
where
    F: FnOnce(domain::backup::Engine) -> Fut,
    Fut: std::future::Future<Output = Result<T, StartupError>>,
{
    let store = open_store(config).await?;
    with_database(config, |db| async move {
        work(services(config, db, store).backups).await
    })
    .await
}

/// `nsbackup store migrate`: moves the backup files of the data directory into the S3 bucket
/// of `--store`. The database is opened (and so held) meanwhile: an embedded one refuses a
/// second user, so this cannot run beside a server that uses the directory.
///
/// # Errors
///
/// A [`StartupError`] that names what is wrong: no S3 store configured, the bucket, a file.
pub async fn migrate_store(config: &Config) -> Result<(), StartupError> {
    let Some(url) = config.store.as_deref().filter(|url| !url.is_empty()) else {
        return Err(StartupError::Input(
            "name the S3 bucket to move the backup files into with --store s3://BUCKET/PREFIX (or NSBACKUP_STORE)".into(),
        ));
    };
    let backups = config.data_dir.join("backups");
    with_database(config, |_db| async move {
        let target = open_s3(config, url).await?;
        let local = domain::backup::store::LocalStore::open(&backups).map_err(|e| {
            StartupError::Input(format!("cannot read {}: {e}", backups.display()))
        })?;
        let moved = domain::backup::store::move_into(&local, &target)
            .await
            .map_err(|e| {
                StartupError::Input(format!(
                    "the move into {url} stopped at {e}; the files not moved are still in {}. Run it again to go on",
                    backups.display()
                ))
            })?;
        println!(
            "Moved {} backup file(s) from {} into {url} ({} were there already)",
            moved.moved,
            backups.display(),
            moved.already_there
        );
        Ok(())
    })
    .await
}

/// Opens the database, migrates it, recovers, and serves until asked to stop.
///
/// # Errors
///
/// As [`run`].
pub async fn serve(config: Config) -> Result<(), StartupError> {
    prepare_data_dir(&config.data_dir)?;
    // The store first: a bucket that cannot be used stops nsbackup before it changes anything.
    let store = open_store(&config).await?;
    let db_options = config.db_options();
    tracing::info!(url = %redact(&db_options.url), "opening the database");
    let db = domain::db::connect(&db_options).await?;
    let result = serve_with(&config, db.clone(), store).await;
    // Every other handle went with the router; closing waits for the engine to let go of
    // its files, also when start-up failed half-way.
    if !domain::db::close(db, &db_options).await {
        tracing::warn!("the database did not close within ten seconds");
    }
    result
}

/// Migrates, recovers and serves on an open database.
async fn serve_with(
    config: &Config,
    db: Db,
    store: std::sync::Arc<dyn domain::backup::store::BackupStore>,
) -> Result<(), StartupError> {
    let report = schema::migrate(&db).await?;
    if report.migrated() {
        tracing::info!(
            from = report.from,
            to = report.to,
            "database schema brought up to date"
        );
    } else {
        tracing::info!(version = report.to, "database schema is up to date");
    }
    // Replicas starting at the same moment do the same start-up work; where their writes
    // collide, the loser's step runs again (each step is safe to repeat).
    retry_conflicts(|| namespace::recover(&db)).await?;
    if config.demo && namespace::list(&db).await?.is_empty() {
        let options = SeedOptions {
            namespace: "demo".into(),
            title: "Demo content".into(),
            folders: 12,
            items: 60,
            avg_size: 2048,
            seed: 1,
        };
        match retry_conflicts(|| seed::seed_namespace(&db, &options, |_, _| {})).await {
            Ok(_) => tracing::info!("created the demo namespace `demo`"),
            // Another replica, started at the same moment, is making it.
            Err(DomainError::Conflict(_)) => {
                tracing::info!("the demo namespace was created by another server");
            }
            Err(error) => return Err(error.into()),
        }
    }
    retry_conflicts(|| domain::sessions::sweep(&db)).await?;
    create_first_admin(config, &db).await?;
    let mut services = services(config, db, store);
    services.backups.replica =
        domain::backup::Replica::new(&replica_name(config)?, config.job_lease);
    tracing::info!(replica = %services.backups.replica.id, "this server's name among replicas");
    retry_conflicts(|| domain::backup::recover(&services.backups)).await?;
    let leases = domain::backup::keep_leases(services.backups.clone());
    let scheduler = domain::schedule::run_scheduler(
        services.backups.clone(),
        domain::schedule::SchedulerSettings {
            tick: config.scheduler_tick,
            ..domain::schedule::SchedulerSettings::default()
        },
    );
    let checker = config
        .verify_interval
        .0
        .map(|every| domain::backup::verify::check_periodically(services.backups.clone(), every));

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| StartupError::Listen {
            addr: config.listen,
            reason: e.to_string(),
        })?;
    let addr = listener.local_addr().map_err(|e| StartupError::Listen {
        addr: config.listen,
        reason: e.to_string(),
    })?;
    let router = routes::router(services, leptos_options(config, addr));

    let stop = shutdown_signal();
    tracing::info!(%addr, max_upload_size = config.max_upload_size, "nsbackup is ready");
    // The one line on standard output: scripts and tests read the address from it.
    println!("nsbackup is listening on http://{addr}");
    let _ = std::io::stdout().flush();

    axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
        .map_err(StartupError::Serve)?;
    for task in checker.into_iter().chain([leases, scheduler]) {
        task.abort();
        let _ = task.await;
    }
    namespace::stop_background_sweep().await;
    tracing::info!("nsbackup stopped");
    Ok(())
}

/// The user every new installation starts with: `admin`, an administrator.
const FIRST_ADMIN: &str = "admin";

/// Creates the administrator `admin` when there is no user at all, with the configured
/// initial password or a random one that is printed once, so that whoever started nsbackup
/// can sign in at once.
async fn create_first_admin(config: &Config, db: &Db) -> Result<(), StartupError> {
    if domain::users::any(db).await? {
        return Ok(());
    }
    let (password, generated) = match &config.initial_admin_password {
        Some(password) => (password.clone(), false),
        None => (domain::users::random_password()?, true),
    };
    let created = retry_conflicts(|| async {
        if domain::users::any(db).await? {
            return Err(DomainError::Conflict("made by another server".into()));
        }
        domain::users::create(db, FIRST_ADMIN, app::types::Role::Admin, &password).await
    })
    .await;
    match created {
        Ok(_) => {}
        // Another replica, started at the same moment on the same database, made it.
        Err(DomainError::Conflict(_)) => {
            tracing::info!("the first administrator was created by another server");
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    }
    let event = domain::audit::Event {
        actor: domain::audit::COMMAND_LINE,
        action: AuditAction::UserCreate,
        target: FIRST_ADMIN,
        outcome: app::types::Outcome::Succeeded,
        detail: "first administrator, created at start-up",
    };
    domain::audit::record_or_log(db, event).await;
    if generated {
        println!(
            "Created the administrator `{FIRST_ADMIN}` with the password {password}\n\
             Sign in with it and change it under Administration → Users. It is not shown again."
        );
    } else {
        println!("Created the administrator `{FIRST_ADMIN}` with the configured initial password");
    }
    Ok(())
}

/// `nsbackup seed`: opens and migrates the database, creates and fills one namespace, and
/// shows progress on standard error.
///
/// # Errors
///
/// As [`run`]; a namespace that exists already is refused.
pub async fn seed(config: Config, args: SeedArgs) -> Result<(), StartupError> {
    with_database(&config, |db| async move {
        let options = SeedOptions {
            namespace: args.namespace.clone(),
            title: args.title.clone(),
            folders: args.folders,
            items: args.items,
            avg_size: args.avg_size,
            seed: args.seed,
        };
        let started = std::time::Instant::now();
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let mut last_report = std::time::Instant::now();
        seed::seed_namespace(&db, &options, |done, total| {
            let percent = (done * 100).checked_div(total).unwrap_or(100);
            if terminal {
                eprint!(
                    "\rseeding {}: {done}/{total} items ({percent}%)",
                    options.namespace
                );
            } else if last_report.elapsed().as_secs() >= 5 || done == total {
                eprintln!(
                    "seeding {}: {done}/{total} items ({percent}%)",
                    options.namespace
                );
                last_report = std::time::Instant::now();
            }
        })
        .await?;
        if terminal {
            eprintln!();
        }
        println!(
            "Created namespace {} with {} folders and {} items in {:.1} s",
            args.namespace,
            args.folders,
            args.items,
            started.elapsed().as_secs_f64()
        );
        Ok(())
    })
    .await
}

/// Opens and migrates the database for a one-off command, runs `work` on it, and closes the
/// database whatever the outcome (`work` gets the only other handle and drops it).
///
/// # Errors
///
/// As [`run`], or what `work` returns.
pub async fn with_database<F, Fut, T>(config: &Config, work: F) -> Result<T, StartupError>
where
    F: FnOnce(Db) -> Fut,
    Fut: std::future::Future<Output = Result<T, StartupError>>,
{
    prepare_data_dir(&config.data_dir)?;
    let db_options = config.db_options();
    let db = domain::db::connect(&db_options).await?;
    let result = match schema::migrate(&db).await {
        Ok(_) => work(db.clone()).await,
        Err(error) => Err(error.into()),
    };
    if !domain::db::close(db, &db_options).await {
        tracing::warn!("the database did not close within ten seconds");
    }
    result
}

/// The file in the data directory that keeps this server's replica name.
const REPLICA_FILE: &str = "replica";

/// This server's name among replicas: `--replica`, else the one kept in the data directory,
/// else a new one made from the host name (and kept).
fn replica_name(config: &Config) -> Result<String, StartupError> {
    let valid = |name: &str| {
        !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if let Some(name) = &config.replica {
        return if valid(name) {
            Ok(name.clone())
        } else {
            Err(StartupError::Input(format!(
                "the replica name `{name}` is not usable: write 1 to 64 letters, digits, `-`, `_` or `.`"
            )))
        };
    }
    let path = config.data_dir.join(REPLICA_FILE);
    let fail = |e: std::io::Error| StartupError::DataDir {
        path: path.clone(),
        reason: e.to_string(),
    };
    match std::fs::read_to_string(&path) {
        Ok(kept) if valid(kept.trim()) => return Ok(kept.trim().to_string()),
        Ok(_) => {
            return Err(StartupError::Input(format!(
                "{} does not hold a usable replica name; remove it (a new one is made) or give --replica",
                path.display()
            )));
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(fail(error)),
    }
    let name = domain::backup::Replica::fresh_name();
    std::fs::write(&path, format!("{name}\n")).map_err(fail)?;
    Ok(name)
}

/// Creates the data directory when missing and proves that it is writable, so that a bad
/// directory fails at start-up rather than at the first backup.
fn prepare_data_dir(path: &Path) -> Result<(), StartupError> {
    let fail = |e: std::io::Error| StartupError::DataDir {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(path).map_err(fail)?;
    let probe = path.join(".nsbackup-write-test");
    std::fs::write(&probe, b"ok").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)?;
    Ok(())
}

fn leptos_options(config: &Config, addr: std::net::SocketAddr) -> LeptosOptions {
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("DEV") | Ok("dev") => Env::DEV,
        _ => Env::PROD,
    };
    // A release build names its files after their hashes and lists them in the site's
    // `hash.txt` (see `make release`); the pages then link to those names.
    let hash_file = routes::assets::hash_file(&config.site_root);
    let hash_files = hash_file.is_file();
    let hash_file = std::path::absolute(&hash_file).unwrap_or(hash_file);
    LeptosOptions::builder()
        .output_name("nsbackup")
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(env)
        .hash_files(hash_files)
        .hash_file(std::sync::Arc::<str>::from(hash_file.to_string_lossy()))
        .build()
}

/// A database URL fit for the log: credentials in it are hidden.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Listens for Ctrl-C and SIGTERM from the moment it is called — before the address is
/// announced, so that a signal sent right after it is not lost (it would end the process
/// at once) — and returns a future that ends at the first of them.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind, name: &'static str| {
            signal(kind)
                .map_err(|error| tracing::warn!(%error, "cannot listen for {name}"))
                .ok()
        };
        (
            listen(SignalKind::interrupt(), "Ctrl-C"),
            listen(SignalKind::terminate(), "SIGTERM"),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
        }
        #[cfg(not(unix))]
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("stopping: finishing the requests in progress");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_database_urls_are_hidden() {
        assert_eq!(redact("ws://root:secret@db:8000"), "ws://***@db:8000");
        assert_eq!(redact("surrealkv://./data/db"), "surrealkv://./data/db");
    }

    #[test]
    fn a_data_directory_that_is_a_file_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"x").expect("write");
        let error = prepare_data_dir(&file.join("data")).expect_err("must fail");
        assert!(error.to_string().contains("cannot be used"), "{error}");
    }

    #[test]
    fn a_replica_keeps_its_name_across_restarts_unless_one_is_given() {
        use clap::Parser;
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().to_string_lossy().into_owned();
        let config = |extra: &[&str]| {
            let args = [&["nsbackup", "--data-dir", &data][..], extra].concat();
            crate::config::Cli::try_parse_from(args)
                .expect("parses")
                .config
        };
        let first = replica_name(&config(&[])).expect("a name");
        assert_eq!(replica_name(&config(&[])).expect("a name"), first);
        assert_eq!(
            replica_name(&config(&["--replica", "eu-1"])).expect("given"),
            "eu-1"
        );
        let refused = replica_name(&config(&["--replica", "two words"])).expect_err("refused");
        assert!(refused.to_string().contains("not usable"), "{refused}");
        std::fs::write(dir.path().join(REPLICA_FILE), "\n").expect("write");
        let refused = replica_name(&config(&[])).expect_err("refused");
        assert!(refused.to_string().contains("--replica"), "{refused}");
    }
}
