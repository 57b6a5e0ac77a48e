//! Signing in and out, and who is signed in.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::types::Actor;

/// The name of the cookie that holds the session token.
pub const SESSION_COOKIE: &str = "nsbackup_session";

/// Who is signed in; `None` when nobody is.
#[server(input = Json, endpoint = "current_user")]
pub async fn current_user() -> Result<Option<Actor>, AppError> {
    Ok(super::current_actor())
}

/// Signs in with a name and a password and starts a session (a cookie). Returns who signed
/// in. A wrong name and a wrong password get the same answer; after repeated failures for
/// one name, further attempts must wait.
#[server(input = Json, endpoint = "sign_in")]
pub async fn sign_in(name: String, password: String) -> Result<Actor, AppError> {
    use crate::domain::{audit, sessions};
    use crate::types::Outcome;

    let services = super::services()?;
    let db = &services.db;
    let name = name.trim().to_string();
    let result = sessions::sign_in(db, &name, &password, services.session_lifetime).await;
    let (outcome, detail) = match &result {
        Ok(_) => (Outcome::Succeeded, String::new()),
        Err(crate::domain::DomainError::TooManyAttempts(message)) => {
            (Outcome::Refused, message.clone())
        }
        Err(crate::domain::DomainError::Invalid(_)) => {
            (Outcome::Failed, "wrong name or password".to_string())
        }
        Err(error) => (Outcome::Failed, error.to_string()),
    };
    let event = audit::Event {
        actor: &name,
        action: "sign-in",
        target: &name,
        outcome,
        detail: &detail,
    };
    audit::record_or_log(db, event).await;
    let session = super::respond(result)?;
    set_cookie(&session.token, services.session_lifetime.as_secs());
    Ok(session.actor)
}

/// Signs out: ends the session on the server and removes the cookie.
#[server(input = Json, endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::domain::{audit, sessions};
    use crate::types::Outcome;

    let services = super::services()?;
    let token = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<super::SessionToken>().cloned());
    if let Some(super::SessionToken(token)) = token {
        super::respond(sessions::end(&services.db, &token).await)?;
        if let Some(actor) = super::current_actor() {
            let event = audit::Event {
                actor: &actor.name,
                action: "sign-out",
                target: &actor.name,
                outcome: Outcome::Succeeded,
                detail: "",
            };
            audit::record_or_log(&services.db, event).await;
        }
    }
    set_cookie("", 0);
    Ok(())
}

/// Changes the signed-in user's own password; the current one must be given. Every other
/// session of the user ends.
#[server(input = Json, endpoint = "change_own_password")]
pub async fn change_own_password(current: String, new: String) -> Result<(), AppError> {
    use crate::domain::{audit, sessions, users};
    use crate::types::Outcome;

    let actor = super::actor()?;
    let db = super::services()?.db;
    if super::respond(users::verify(&db, &actor.name, &current).await)?.is_none() {
        return super::respond(Err(AppError::BadRequest(
            "Your current password is not right. Type it again.".into(),
        )));
    }
    super::respond(users::set_password(&db, &actor.name, &new).await)?;
    let token = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<super::SessionToken>().cloned());
    let keep = token
        .as_ref()
        .map(|super::SessionToken(token)| token.as_str());
    super::respond(sessions::end_all_of(&db, &actor.name, keep).await)?;
    let event = audit::Event {
        actor: &actor.name,
        action: "user password",
        target: &actor.name,
        outcome: Outcome::Succeeded,
        detail: "changed own password",
    };
    audit::record_or_log(&db, event).await;
    Ok(())
}

/// Sets (or with an empty token and no age, removes) the session cookie: HttpOnly, SameSite
/// Lax, and Secure when the page was reached over https (through a proxy that says so).
#[cfg(feature = "ssr")]
fn set_cookie(token: &str, max_age: u64) {
    let secure = use_context::<http::request::Parts>().is_some_and(|parts| {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase()
        };
        header("x-forwarded-proto") == "https"
            || header("forwarded").contains("proto=https")
            || header("origin").starts_with("https://")
    });
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    );
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&cookie),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}
