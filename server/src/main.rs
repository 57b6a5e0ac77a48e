//! `nsbackup`: parse the command line, set up logging, run the command, and end with one
//! clear line when it fails.

use std::process::ExitCode;

use clap::Parser;
use nsbackup::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Two TLS back-ends are linked in (through SurrealDB's dependencies); `wss://` needs one
    // chosen before the first connection. An error only means one was chosen already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Err(error) = nsbackup::logging::init_logging(&cli.config.log) {
        eprintln!("nsbackup: {error}");
        return ExitCode::FAILURE;
    }
    match nsbackup::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("nsbackup: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
