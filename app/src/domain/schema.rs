//! The schema version of the data and the migrations between versions.
//!
//! The database records the version of the data it holds. At start-up [`migrate`] runs every
//! pending migration in order, each in one transaction together with its version bump, so a
//! crash leaves the database at a version it really has. A database newer than this build is
//! refused: downgrading is not supported. Backups record the same version, and restoring an
//! older backup runs the same migrations (see `docs/backup-format.md`).

use super::{Db, DomainError};

pub use crate::types::SCHEMA_VERSION;

/// One step from schema version `version - 1` to `version`.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// The version the data has after this step.
    pub version: u32,
    /// What the step does, for the log and for error messages.
    pub description: &'static str,
    /// SurrealQL that changes the database's definitions (tables, fields, indexes). Runs at
    /// start-up only.
    pub schema: &'static str,
    /// SurrealQL that changes the data. It sees `$gen`: `NONE` at start-up (all data), or one
    /// generation's id when a restored backup of an older version is brought up to date.
    pub data: &'static str,
}

/// Every migration, oldest first; the last one's version is [`SCHEMA_VERSION`].
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "namespaces, folders with permissions, services, models and forms",
        schema: "
            DEFINE TABLE IF NOT EXISTS schema_version SCHEMAFULL;
            DEFINE FIELD IF NOT EXISTS version ON schema_version TYPE int;
            DEFINE FIELD IF NOT EXISTS description ON schema_version TYPE string;
            DEFINE FIELD IF NOT EXISTS migrated_at ON schema_version TYPE datetime;

            DEFINE TABLE IF NOT EXISTS namespace SCHEMALESS;
            DEFINE TABLE IF NOT EXISTS generation SCHEMALESS;
            DEFINE INDEX IF NOT EXISTS generation_namespace ON generation FIELDS namespace;

            -- Folders and items are keyed [generation, id]: a generation is one key range.
            DEFINE TABLE IF NOT EXISTS folder SCHEMALESS;
            DEFINE INDEX IF NOT EXISTS folder_sibling_name ON folder FIELDS gen, parent, name UNIQUE;
            DEFINE TABLE IF NOT EXISTS item SCHEMALESS;
            DEFINE INDEX IF NOT EXISTS item_folder_name ON item FIELDS gen, folder, name UNIQUE;
        ",
        data: "",
    },
    Migration {
        version: 2,
        description: "structured folder permissions",
        schema: "",
        // Version 1 kept a permission as the string `KIND:NAME:ACCESS`.
        data: "
            UPDATE folder SET permissions = permissions.map(|$p| {
                LET $parts = string::split($p, ':');
                RETURN { principal: { kind: $parts[0], name: $parts[1] }, access: $parts[2] };
            })
            WHERE ($gen = NONE OR gen = $gen) AND type::is_array(permissions)
                AND type::is_string(permissions[0]);
        ",
    },
    Migration {
        version: 3,
        description: "accounts, the audit log, backups and their jobs",
        schema: "
            DEFINE TABLE IF NOT EXISTS user SCHEMALESS;
            DEFINE TABLE IF NOT EXISTS session SCHEMALESS;
            DEFINE INDEX IF NOT EXISTS session_user ON session FIELDS user;
            DEFINE TABLE IF NOT EXISTS signin_failure SCHEMALESS;
            DEFINE TABLE IF NOT EXISTS audit SCHEMALESS;
            DEFINE INDEX IF NOT EXISTS audit_key ON audit FIELDS key UNIQUE;
            DEFINE TABLE IF NOT EXISTS backup SCHEMALESS;
            DEFINE INDEX IF NOT EXISTS backup_created ON backup FIELDS created_at;
            DEFINE INDEX IF NOT EXISTS backup_sha256 ON backup FIELDS sha256;
            DEFINE TABLE IF NOT EXISTS job SCHEMALESS;
            DEFINE INDEX IF NOT EXISTS job_backup ON job FIELDS backup;
            DEFINE INDEX IF NOT EXISTS job_status ON job FIELDS status;
            DEFINE TABLE IF NOT EXISTS namespace_lock SCHEMALESS;
            DEFINE INDEX IF NOT EXISTS generation_state ON generation FIELDS state;
        ",
        // Users, sessions, the log and the backup list live outside namespaces: backups never
        // carry them.
        data: "",
    },
];

/// What [`migrate`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationReport {
    /// The version the database had before.
    pub from: u32,
    /// The version it has now.
    pub to: u32,
}

impl MigrationReport {
    /// Whether any migration ran.
    pub fn migrated(&self) -> bool {
        self.from != self.to
    }
}

/// The schema version recorded in the database; 0 for a database that has none yet.
///
/// # Errors
///
/// A database error when the database does not answer.
pub async fn current_version(db: &Db) -> Result<u32, DomainError> {
    let version: Option<i64> = db
        .query("RETURN schema_version:current.version")
        .await?
        .take(0)?;
    Ok(version.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
}

/// Brings the database up to [`SCHEMA_VERSION`].
///
/// # Errors
///
/// [`DomainError::SchemaTooNew`] when the database is newer than this build (nothing is
/// changed), [`DomainError::MigrationFailed`] when a step fails (the database stays at the
/// last version that succeeded).
pub async fn migrate(db: &Db) -> Result<MigrationReport, DomainError> {
    let report = run_migrations(db, MIGRATIONS).await?;
    define_installation(db).await?;
    Ok(report)
}

/// Definitions of what belongs to this installation alone and never to a backup (its API
/// tokens, the index that counts its backups being deleted, the one that finds the restore
/// history among every backup's job): defined at every start, whatever the schema version,
/// so that adding one does not change the version that backups record and compare.
pub const INSTALLATION: &str = "
    DEFINE TABLE IF NOT EXISTS api_token SCHEMALESS;
    DEFINE INDEX IF NOT EXISTS api_token_handle ON api_token FIELDS handle UNIQUE;
    DEFINE INDEX IF NOT EXISTS api_token_user ON api_token FIELDS user;
    DEFINE INDEX IF NOT EXISTS backup_status ON backup FIELDS status;
    DEFINE INDEX IF NOT EXISTS job_kind ON job FIELDS kind;
";

/// Runs [`INSTALLATION`].
///
/// # Errors
///
/// A database error.
pub async fn define_installation(db: &Db) -> Result<(), DomainError> {
    // Replicas starting together define the same things at the same moment.
    super::db::retry_conflicts(|| async { db.query(INSTALLATION).await?.check() }).await?;
    Ok(())
}

/// Runs the migrations of `migrations` that the database has not had yet, in order.
///
/// [`migrate`] passes [`MIGRATIONS`]; tests pass their own lists.
///
/// # Errors
///
/// As [`migrate`].
pub async fn run_migrations(
    db: &Db,
    migrations: &[Migration],
) -> Result<MigrationReport, DomainError> {
    let supported = migrations.last().map_or(0, |m| m.version);
    let from = current_version(db).await?;
    if from > supported {
        return Err(DomainError::SchemaTooNew {
            found: from,
            supported,
        });
    }
    for migration in migrations.iter().filter(|m| m.version > from) {
        if let Err(error) = apply(db, migration).await {
            // Another server starting at the same moment may have run this step first: then
            // the database already has this version and the step's failure is no failure.
            if current_version(db).await? >= migration.version {
                tracing::info!(
                    version = migration.version,
                    "schema step was run by another server"
                );
                continue;
            }
            return Err(error);
        }
        tracing::info!(
            version = migration.version,
            description = migration.description,
            "schema migrated"
        );
    }
    Ok(MigrationReport {
        from,
        to: current_version(db).await?.max(from),
    })
}

async fn apply(db: &Db, migration: &Migration) -> Result<(), DomainError> {
    let failed = |reason: String| DomainError::MigrationFailed {
        version: migration.version,
        description: migration.description,
        reason,
    };
    // The guard makes a second server that starts at the same moment fail this step instead
    // of running it twice; its own start-up then sees the new version.
    let query = format!(
        "BEGIN TRANSACTION;
         IF (schema_version:current.version ?? 0) != $from {{
             THROW 'the schema version changed while migrating; another server may be migrating'
         }};
         {schema}
         {data}
         UPSERT schema_version:current CONTENT {{
             version: $to, description: $description, migrated_at: time::now()
         }};
         COMMIT TRANSACTION;",
        schema = migration.schema,
        data = migration.data,
    );
    db.query(query)
        .bind(("from", i64::from(migration.version - 1)))
        .bind(("to", i64::from(migration.version)))
        .bind(("description", migration.description))
        .bind(("gen", Option::<String>::None))
        .await
        .and_then(super::db::check_transaction)
        .map_err(|e| failed(e.to_string()))?;
    Ok(())
}

/// Brings the data of one generation from schema version `from` up to [`SCHEMA_VERSION`]:
/// the data steps of the migrations after `from`, in one transaction. Used when a backup
/// of an older version is restored.
///
/// # Errors
///
/// [`DomainError::SchemaTooNew`] when `from` is newer than this build,
/// [`DomainError::MigrationFailed`] when a step fails (nothing of it stays).
pub async fn migrate_generation(db: &Db, generation: &str, from: u32) -> Result<(), DomainError> {
    for migration in generation_steps(from)? {
        migrate_generation_step(db, generation, migration).await?;
    }
    Ok(())
}

/// The data migrations that bring one generation from version `from` up to
/// [`SCHEMA_VERSION`], in order (versions without a data step are left out).
///
/// # Errors
///
/// [`DomainError::SchemaTooNew`] for a version newer than this build's.
pub fn generation_steps(from: u32) -> Result<Vec<&'static Migration>, DomainError> {
    if from > SCHEMA_VERSION {
        return Err(DomainError::SchemaTooNew {
            found: from,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(MIGRATIONS
        .iter()
        .filter(|m| m.version > from && !m.data.trim().is_empty())
        .collect())
}

/// Runs one data migration on one generation, in one transaction.
///
/// # Errors
///
/// [`DomainError::MigrationFailed`] naming the step.
pub async fn migrate_generation_step(
    db: &Db,
    generation: &str,
    migration: &Migration,
) -> Result<(), DomainError> {
    db.query(format!(
        "BEGIN TRANSACTION; {} COMMIT TRANSACTION;",
        migration.data
    ))
    .bind(("gen", generation.to_string()))
    .await
    .and_then(super::db::check_transaction)
    .map_err(|e| DomainError::MigrationFailed {
        version: migration.version,
        description: migration.description,
        reason: e.to_string(),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_consecutive_and_end_at_the_schema_version() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(
                migration.version as usize,
                index + 1,
                "{}",
                migration.description
            );
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }
}
