//! The `nsbackup` binary's library: configuration, start-up and the HTTP router. `main.rs`
//! only parses the command line and hands over to [`run`].

pub mod client;
pub mod config;
pub mod routes;
pub mod schedules;
pub mod startup;
pub mod tokens;
pub mod users;

pub use config::{
    BackupCommand, Cli, Command, Config, ScheduleCommand, StoreCommand, TokenCommand, UserCommand,
};
pub use startup::StartupError;

/// Runs the command the command line names: serve (the default), seed, or a user command.
///
/// # Errors
///
/// A [`StartupError`] whose message is meant for the person who started nsbackup.
pub async fn run(cli: Cli) -> Result<(), StartupError> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => startup::serve(cli.config).await,
        Command::Seed(args) => startup::seed(cli.config, args).await,
        Command::User(command) => users::run(&cli.config, command).await,
        Command::Store(StoreCommand::Migrate) => startup::migrate_store(&cli.config).await,
        Command::Store(StoreCommand::Check) => startup::check_store(&cli.config).await,
        Command::Schedule(command) => schedules::run(&cli.config, command).await,
        Command::Token(command) => tokens::run(&cli.config, command).await,
        Command::Backup(command) => client::run(&cli.config.server, command).await,
        Command::Verify { file, json } => client::verify(&file, json).await,
    }
}
