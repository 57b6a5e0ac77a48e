//! User accounts: a name, a role and a password kept only as an argon2id hash.
//!
//! Users are `user:⟨name⟩` records, outside every namespace: backups never carry them.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use super::db::{check_transaction, take_json};
use super::{Db, DomainError};
use crate::types::{Role, UserInfo};
use crate::validate;

const SELECT_INFO: &str = "name, role, created_at";

/// Password hashes computed at once, at most. Each takes tens of milliseconds of a core and
/// 19 MiB of memory on purpose; more at once would only queue for the cores, while the
/// request threads that serve pages and the health check must stay free.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Runs `work` (password hashing) on the blocking pool, at most [`HASHING`] at a time.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DomainError> {
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| DomainError::Corrupt(format!("password hashing: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(DomainError::stopped("password hashing"))
}

async fn hash(password: &str) -> Result<String, DomainError> {
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())
        .map_err(|e| DomainError::Corrupt(format!("salt: {e}")))?;
    let password = password.to_string();
    hashing(move || {
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| DomainError::Corrupt(format!("password hashing: {e}")))
    })
    .await?
}

fn user_not_found(name: &str) -> DomainError {
    DomainError::NotFound(format!(
        "There is no user `{name}`. `nsbackup user list` shows who there is."
    ))
}

/// Creates a user.
///
/// # Errors
///
/// [`DomainError::Invalid`] for a bad name or a short password, [`DomainError::Conflict`]
/// when the name is taken.
pub async fn create(
    db: &Db,
    name: &str,
    role: Role,
    password: &str,
) -> Result<UserInfo, DomainError> {
    validate::principal_name(name).map_err(DomainError::Invalid)?;
    validate::password(password).map_err(DomainError::Invalid)?;
    let password_hash = hash(password).await?;
    let result = db
        .query(
            "CREATE type::record('user', $name) CONTENT {
                 name: $name, role: $role, password_hash: $hash, created_at: time::now(), updated_at: time::now()
             }",
        )
        .bind(("name", name.to_string()))
        .bind(("role", role.as_str()))
        .bind(("hash", password_hash))
        .await
        .and_then(|response| response.check());
    match result {
        Ok(_) => get(db, name).await,
        Err(error) if super::db::is_duplicate(&error) => Err(DomainError::Conflict(format!(
            "A user named `{name}` exists already."
        ))),
        Err(error) => Err(error.into()),
    }
}

/// One user.
///
/// # Errors
///
/// [`DomainError::NotFound`] when there is no such user.
pub async fn get(db: &Db, name: &str) -> Result<UserInfo, DomainError> {
    if validate::principal_name(name).is_err() {
        return Err(user_not_found(name));
    }
    let mut response = db
        .query(format!(
            "SELECT {SELECT_INFO} FROM ONLY type::record('user', $name)"
        ))
        .bind(("name", name.to_string()))
        .await?;
    let user: Option<UserInfo> = take_json(&mut response, 0)?;
    user.ok_or_else(|| user_not_found(name))
}

/// Every user, sorted by name.
///
/// # Errors
///
/// A database error.
pub async fn list(db: &Db) -> Result<Vec<UserInfo>, DomainError> {
    let mut response = db
        .query(format!("SELECT {SELECT_INFO} FROM user ORDER BY name"))
        .await?;
    take_json(&mut response, 0)
}

/// Sets a new password.
///
/// # Errors
///
/// [`DomainError::Invalid`] for a short password, [`DomainError::NotFound`] for a missing
/// user.
pub async fn set_password(db: &Db, name: &str, password: &str) -> Result<(), DomainError> {
    validate::password(password).map_err(DomainError::Invalid)?;
    get(db, name).await?;
    db.query(
        "UPDATE type::record('user', $name) SET password_hash = $hash, updated_at = time::now()",
    )
    .bind(("name", name.to_string()))
    .bind(("hash", hash(password).await?))
    .await?
    .check()?;
    Ok(())
}

/// A random password of 20 letters and digits (about 119 bits), for the first administrator.
///
/// # Errors
///
/// [`DomainError::Corrupt`] when the system has no randomness to give.
pub fn random_password() -> Result<String, DomainError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)
        .map_err(|e| DomainError::Corrupt(format!("no randomness for a password: {e}")))?;
    // 256 is not a multiple of the alphabet's size; the bias is negligible for this purpose.
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

/// Whether any user exists (a new installation has none).
///
/// # Errors
///
/// A database error.
pub async fn any(db: &Db) -> Result<bool, DomainError> {
    let count: Option<i64> = db
        .query("RETURN count(SELECT VALUE id FROM user LIMIT 1)")
        .await?
        .take(0)?;
    Ok(count.unwrap_or(0) > 0)
}

/// Changes a user's role. The last administrator cannot become a modeler.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing user, [`DomainError::Conflict`] for the last
/// administrator.
pub async fn set_role(db: &Db, name: &str, role: Role) -> Result<UserInfo, DomainError> {
    get(db, name).await?;
    db.query(
        "BEGIN TRANSACTION;
         IF $role != 'admin' AND type::record('user', $name).role = 'admin'
             AND count(SELECT * FROM user WHERE role = 'admin') <= 1 {
             THROW 'last administrator';
         };
         UPDATE type::record('user', $name) SET role = $role, updated_at = time::now();
         COMMIT TRANSACTION;",
    )
    .bind(("name", name.to_string()))
    .bind(("role", role.as_str()))
    .await
    .and_then(check_transaction)
    .map_err(last_administrator(name))?;
    get(db, name).await
}

fn last_administrator(name: &str) -> impl Fn(surrealdb::Error) -> DomainError + '_ {
    move |error| {
        if super::db::is_thrown(&error, "last administrator") {
            DomainError::Conflict(format!(
                "`{name}` is the last administrator. Make another user an administrator first."
            ))
        } else {
            error.into()
        }
    }
}

/// Deletes a user's record (`accounts::delete` also ends their sessions). The last
/// administrator cannot be deleted: nobody could administer nsbackup any more.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing user, [`DomainError::Conflict`] for the last
/// administrator.
pub async fn delete(db: &Db, name: &str) -> Result<(), DomainError> {
    get(db, name).await?;
    db.query(
        "BEGIN TRANSACTION;
         IF type::record('user', $name).role = 'admin'
             AND count(SELECT * FROM user WHERE role = 'admin') <= 1 {
             THROW 'last administrator';
         };
         DELETE type::record('user', $name);
         -- Their API tokens go too: a later user of the same name never inherits them.
         DELETE api_token WHERE user = $name;
         COMMIT TRANSACTION;",
    )
    .bind(("name", name.to_string()))
    .await
    .and_then(check_transaction)
    .map_err(last_administrator(name))?;
    Ok(())
}

/// The user with this name and password, or `None`. Takes as long for an unknown name as
/// for a wrong password, so that the answer does not tell which names exist.
///
/// # Errors
///
/// A database error.
pub async fn verify(db: &Db, name: &str, password: &str) -> Result<Option<UserInfo>, DomainError> {
    // A name that no account can have is not looked up (nor kept anywhere).
    if validate::principal_name(name).is_err() {
        return Ok(None);
    }
    let stored: Option<String> = db
        .query("RETURN type::record('user', $name).password_hash")
        .bind(("name", name.to_string()))
        .await?
        .take(0)?;
    // A fixed hash to check against when the user does not exist.
    const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$V0Sb6NAJmcVmhq9BXV8zz5xjO2e6VMaRUEX8WDmcKnE";
    // No account has a password longer than a password may be: such a one is wrong without
    // spending a hash on it (the time an attacker could make the server spend grows with it).
    if password.len() > validate::PASSWORD_MAX_BYTES {
        return Ok(None);
    }
    let candidate = stored.clone().unwrap_or_else(|| DECOY.to_string());
    let password = password.to_string();
    let matches = hashing(move || {
        PasswordHash::new(&candidate)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await?;
    if matches && stored.is_some() {
        get(db, name).await.map(Some)
    } else {
        Ok(None)
    }
}
