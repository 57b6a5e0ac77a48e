//! What every command starts from: the data directory, the backup store and the database
//! (migrated), opened as the configuration says, and the error that ends a command with a
//! message for the person who ran it.

use std::path::{Path, PathBuf};

use app::domain::{self, Db, DomainError, Services, schema};

use crate::config::Config;

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

/// The backup store the configuration names: a directory under the data directory, or an
/// S3 bucket (reached and listed before anything else happens).
pub(crate) async fn open_store(
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
pub(crate) async fn open_s3(
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

/// The keys backups are encrypted to and opened with, as the configuration names them.
///
/// # Errors
///
/// [`StartupError::Input`] naming a recipient that is no age public key, or an identity
/// file that cannot be read or holds no key (never the key itself).
pub(crate) fn backup_keys(config: &Config) -> Result<domain::backup::archive::Keys, StartupError> {
    domain::backup::archive::Keys::load(
        &config.backup_recipients,
        config.backup_identity.as_deref(),
    )
    .map_err(|reason| {
        StartupError::Input(format!(
            "{reason} Check --backup-recipient and --backup-identity."
        ))
    })
}

/// What every request reaches, as the configuration sets it up (`keys`: [`backup_keys`]).
pub(crate) fn services(
    config: &Config,
    db: Db,
    store: std::sync::Arc<dyn domain::backup::store::BackupStore>,
    keys: domain::backup::archive::Keys,
) -> Services {
    let mut services = Services {
        session_lifetime: config.session_lifetime,
        ..Services::new(db, store)
    };
    services.backups.max_upload_bytes = config.max_upload_size;
    services.backups.snapshot_retention = config.snapshot_retention;
    services.backups.keys = std::sync::Arc::new(keys);
    services.backups.limits = domain::backup::archive::Limits {
        max_entries: config.archive_max_entries,
        max_entry_bytes: config.archive_max_entry_size,
        max_total_bytes: config.archive_max_total_size,
        max_ratio: config.archive_max_ratio,
    };
    services
}

/// Opens the store and the database (migrated), runs `work` with the backup engine on
/// them, and closes the database.
///
/// # Errors
///
/// As [`crate::run`], or what `work` returns.
pub async fn with_engine<F, Fut, T>(config: &Config, work: F) -> Result<T, StartupError>
where
    F: FnOnce(domain::backup::Engine) -> Fut,
    Fut: std::future::Future<Output = Result<T, StartupError>>,
{
    let keys = backup_keys(config)?;
    let store = open_store(config).await?;
    with_database(config, |db| async move {
        work(services(config, db, store, keys).backups).await
    })
    .await
}

/// Opens and migrates the database for a one-off command, runs `work` on it, and closes the
/// database whatever the outcome (`work` gets the only other handle and drops it).
///
/// # Errors
///
/// As [`crate::run`], or what `work` returns.
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
    domain::db::close(db, &db_options).await;
    result
}

/// The file in the data directory that keeps this server's replica name.
const REPLICA_FILE: &str = "replica";

/// This server's name among replicas: `--replica`, else the one kept in the data directory,
/// else a new one made from the host name (and kept).
pub(crate) fn replica_name(config: &Config) -> Result<String, StartupError> {
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
pub(crate) fn prepare_data_dir(path: &Path) -> Result<(), StartupError> {
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

/// A database URL fit for the log: credentials in it are hidden.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_string(),
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
            crate::cli::Cli::try_parse_from(args)
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
