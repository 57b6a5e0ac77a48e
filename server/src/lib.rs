//! The `nsbackup` binary's library: configuration, start-up and the HTTP router. `main.rs`
//! only parses the command line and hands over to [`run`].

pub mod config;
pub mod routes;
pub mod startup;
pub mod users;

pub use config::{Cli, Command, Config, UserCommand};
pub use startup::{StartupError, run};
