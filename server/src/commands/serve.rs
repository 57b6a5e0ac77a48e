//! `nsbackup serve`, in the order the design fixes: configuration → database → schema
//! migrations → recovery → router → serve, and a graceful stop on Ctrl-C or SIGTERM.

use std::io::Write;

use app::domain::content::namespace;
use app::domain::db::retry_conflicts;
use app::domain::seed::{self, SeedOptions};
use app::domain::{self, Db, DomainError, schema};
use app::types::AuditAction;
use leptos::config::{Env, LeptosOptions};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::routes;
use crate::startup::{
    StartupError, backup_keys, open_store, prepare_data_dir, redact, replica_name, services,
};

/// Opens the database, migrates it, recovers, and serves until asked to stop.
///
/// # Errors
///
/// As [`crate::run`].
pub async fn serve(config: Config) -> Result<(), StartupError> {
    prepare_data_dir(&config.data_dir)?;
    // The store first: a bucket that cannot be used stops nsbackup before it changes anything.
    let keys = backup_keys(&config)?;
    let store = open_store(&config).await?;
    let db_options = config.db_options();
    tracing::info!(url = %redact(&db_options.url), "opening the database");
    let db = domain::db::connect(&db_options).await?;
    let result = serve_with(&config, db.clone(), store, keys).await;
    // Every other handle went with the router; closing waits for the engine to let go of
    // its files, also when start-up failed half-way.
    domain::db::close(db, &db_options).await;
    result
}

/// Migrates, recovers and serves on an open database.
async fn serve_with(
    config: &Config,
    db: Db,
    store: std::sync::Arc<dyn domain::backup::store::BackupStore>,
    keys: domain::backup::archive::Keys,
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
    retry_conflicts(|| domain::generation::recover(&db)).await?;
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
    let mut services = services(config, db, store, keys);
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
    domain::generation::stop_background_sweep().await;
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
