//! `nsbackup token …`: personal API tokens from the command line.

use app::domain::audit::COMMAND_LINE;
use app::domain::tokens;

use crate::cli::{TokenCommand, parse_expiry};
use crate::config::Config;
use crate::startup::{StartupError, with_database};

/// Runs one `nsbackup token` command.
///
/// # Errors
///
/// A [`StartupError`] whose message says what went wrong (an unknown user or handle, an
/// expiry that is not a duration).
pub async fn run(config: &Config, command: TokenCommand) -> Result<(), StartupError> {
    let lifetime = match &command {
        TokenCommand::Create { expires, .. } => {
            parse_expiry(expires).map_err(|why| StartupError::Input(format!("--expires: {why}")))?
        }
        _ => None,
    };
    with_database(config, |db| async move {
        match command {
            TokenCommand::Create { name, user, .. } => {
                let made = tokens::create(&db, &user, &name, lifetime, COMMAND_LINE).await?;
                if made.info.expires_at.is_none() {
                    eprintln!(
                        "warning: this token never expires; it works until someone revokes it (nsbackup token revoke {})",
                        made.info.handle
                    );
                }
                eprintln!(
                    "Created token {} \u{201c}{}\u{201d} for {user}; it is shown this once:",
                    made.info.handle, made.info.name
                );
                println!("{}", made.secret);
            }
            TokenCommand::List => {
                for token in tokens::list(&db).await? {
                    let state = match (token.revoked_at, token.expires_at) {
                        (Some(at), _) => format!("revoked {}", at.format("%Y-%m-%d %H:%M UTC")),
                        (None, Some(at)) => format!("expires {}", at.format("%Y-%m-%d %H:%M UTC")),
                        (None, None) => "never expires".to_string(),
                    };
                    let used = token.last_used_at.map_or_else(
                        || "never used".to_string(),
                        |at| format!("last used {}", at.format("%Y-%m-%d %H:%M UTC")),
                    );
                    println!(
                        "{}\t{}\t{}\t{state}\t{used}",
                        token.handle, token.user, token.name
                    );
                }
            }
            TokenCommand::Revoke { handle } => {
                let token = tokens::revoke(&db, &handle, COMMAND_LINE).await?;
                println!("Revoked token {} \u{201c}{}\u{201d}", token.handle, token.name);
            }
        }
        Ok(())
    })
    .await
}
