//! `nsbackup user …`: user accounts from the command line.

use app::types::AuditAction;

use app::domain::audit::{self, COMMAND_LINE};
use app::domain::{Db, DomainError, accounts, users};
use app::types::Role;

use crate::cli::UserCommand;
use crate::config::Config;
use crate::startup::{StartupError, with_database};

/// Runs one `nsbackup user` command.
///
/// # Errors
///
/// A [`StartupError`] whose message says what went wrong (a taken name, a short password,
/// the last administrator, …).
pub async fn run(config: &Config, command: UserCommand) -> Result<(), StartupError> {
    // Ask before opening the database: nothing is locked while someone types.
    let password = match &command {
        UserCommand::Create { name, .. } | UserCommand::Passwd { name } => {
            Some(read_password(name)?)
        }
        UserCommand::List | UserCommand::Delete { .. } => None,
    };
    with_database(config, |db| async move {
        match command {
            UserCommand::Create { name, admin } => {
                let role = if admin { Role::Admin } else { Role::Modeler };
                let password = password.as_deref().unwrap_or_default();
                let created = users::create(&db, &name, role, password).await;
                let detail = format!("role {}", role.as_str());
                let user = audited(&db, AuditAction::UserCreate, &name, &detail, created).await?;
                println!("Created user {} ({})", user.name, user.role.as_str());
            }
            UserCommand::List => {
                for user in users::list(&db).await? {
                    println!(
                        "{}\t{}\t{}",
                        user.name,
                        user.role.as_str(),
                        user.created_at.format("%Y-%m-%d %H:%M UTC")
                    );
                }
            }
            UserCommand::Passwd { name } => {
                let password = password.as_deref().unwrap_or_default();
                let changed = accounts::change_password(&db, &name, password, None).await;
                audited(&db, AuditAction::UserPassword, &name, "", changed).await?;
                println!("Changed the password of {name}; their sessions have ended");
            }
            UserCommand::Delete { name } => {
                let deleted = accounts::delete(&db, &name, COMMAND_LINE).await;
                audited(&db, AuditAction::UserDelete, &name, "", deleted).await?;
                println!("Deleted user {name}");
            }
        }
        Ok(())
    })
    .await
}

/// Records a command-line change in the audit log, then passes its result on.
async fn audited<T>(
    db: &Db,
    action: AuditAction,
    target: &str,
    detail: &str,
    result: Result<T, DomainError>,
) -> Result<T, DomainError> {
    audit::audited(db, COMMAND_LINE, action, target, detail, result).await
}

/// The new password: from `NSBACKUP_PASSWORD`, asked twice on a terminal (without echo), or
/// one line of standard input.
fn read_password(name: &str) -> Result<String, StartupError> {
    super::read_secret(
        "password",
        "NSBACKUP_PASSWORD",
        &format!("Password for {name}: "),
        true,
    )
}
