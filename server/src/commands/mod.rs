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
        Command::Verify {
            file,
            passphrase,
            json,
        } => {
            let passphrase = passphrase
                .then(|| read_passphrase(false))
                .transpose()?
                .map(app::domain::backup::Passphrase::given)
                .transpose()
                .map_err(StartupError::Input)?;
            let keys = crate::startup::backup_keys(&cli.config)?.with_passphrase(passphrase);
            verify::verify(&file, &keys, json).await
        }
    }
}

/// A secret (a password, a passphrase) for a command: from the environment variable `env`,
/// asked on a terminal without echo (twice when `confirm`, to catch a typing mistake), or one
/// line of standard input. `what` names it in messages.
pub(crate) fn read_secret(
    what: &str,
    env: &str,
    prompt: &str,
    confirm: bool,
) -> Result<String, StartupError> {
    use std::io::{BufRead, IsTerminal, Write};
    let failed =
        |reason: String| StartupError::Input(format!("could not read the {what}: {reason}"));
    if let Ok(secret) = std::env::var(env) {
        return Ok(secret);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(prompt).map_err(|e| failed(e.to_string()))?;
        if confirm {
            let second =
                rpassword::prompt_password("Repeat it: ").map_err(|e| failed(e.to_string()))?;
            if first != second {
                return Err(StartupError::Input(format!(
                    "the two {what}s differ; nothing was changed"
                )));
            }
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| failed(e.to_string()))?;
    let _ = std::io::stdout().flush();
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// A backup's passphrase, as `--passphrase` reads it (twice on a terminal when it is new).
pub(crate) fn read_passphrase(new: bool) -> Result<String, StartupError> {
    read_secret(
        "passphrase",
        "NSBACKUP_PASSPHRASE",
        "Backup passphrase: ",
        new,
    )
}
