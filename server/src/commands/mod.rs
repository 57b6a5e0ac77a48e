//! The commands of `nsbackup`, one a file: each opens what it needs (`crate::startup`) and
//! says what it did, or ends with one line that says what went wrong.

pub mod backup;
mod client;
pub mod schedules;
pub mod seed;
pub mod serve;
pub mod store;
pub mod tokens;
pub mod users;
pub mod verify;

use crate::cli::{Cli, Command, StoreCommand};
use crate::startup::StartupError;

/// Runs the command the command line names: serve (the default), seed, or a user command.
///
/// # Errors
///
/// A [`StartupError`] whose message is meant for the person who started nsbackup.
pub async fn run(cli: Cli) -> Result<(), StartupError> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::serve(cli.config).await,
        Command::Seed(args) => seed::seed(cli.config, args).await,
        Command::User(command) => users::run(&cli.config, command).await,
        Command::Store(StoreCommand::Migrate) => store::migrate_store(&cli.config).await,
        Command::Store(StoreCommand::Check) => store::check_store(&cli.config).await,
        Command::Schedule(command) => schedules::run(&cli.config, command).await,
        Command::Token(command) => tokens::run(&cli.config, command).await,
        Command::Backup(command) => backup::run(&cli.config.server, command).await,
        Command::Verify { file, json } => {
            verify::verify(&file, &crate::startup::backup_keys(&cli.config)?, json).await
        }
    }
}
