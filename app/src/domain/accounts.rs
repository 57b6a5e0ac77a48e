//! What happens to an account as a whole, whoever asks for it (a page or the command line):
//! a new password ends the account's other sessions, a deleted account's sessions end, and
//! nobody deletes their own account. The account records themselves are `users`; sign-in
//! and sessions are `sessions`.

use super::{Db, DomainError, sessions, users};

/// Sets `name`'s password and ends every session of theirs except `keep` (the session the
/// change was made in, when users change their own password).
///
/// # Errors
///
/// As [`users::set_password`]; a database error.
pub async fn change_password(
    db: &Db,
    name: &str,
    password: &str,
    keep: Option<&str>,
) -> Result<(), DomainError> {
    users::set_password(db, name, password).await?;
    sessions::end_all_of(db, name, keep).await
}

/// Deletes account `name` on behalf of `actor`, and ends its sessions. Nobody deletes their
/// own account (another administrator must); the last administrator stays.
///
/// # Errors
///
/// [`DomainError::Conflict`] for one's own account or the last administrator,
/// [`DomainError::NotFound`] for a missing account.
pub async fn delete(db: &Db, name: &str, actor: &str) -> Result<(), DomainError> {
    if name == actor {
        return Err(DomainError::Conflict(
            "You cannot delete your own account. Ask another administrator.".into(),
        ));
    }
    users::delete(db, name).await?;
    sessions::end_all_of(db, name, None).await
}
