//! The `nsbackup` binary's library: the command line, the configuration, the commands and
//! the HTTP router. `main.rs` only parses the command line and hands over to [`run`].

pub mod cli;
pub mod commands;
pub mod config;
pub mod logging;
pub mod routes;
pub mod startup;

pub use cli::{
    BackupCommand, Cli, Command, ScheduleCommand, StoreCommand, TokenCommand, UserCommand,
};
pub use commands::run;
pub use config::Config;
pub use startup::StartupError;
