//! Signing in and out, and who is signed in.

#[cfg(feature = "ssr")]
use crate::types::AuditAction;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::types::{Actor, SessionInfo};

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
    use crate::domain::sessions;

    let services = super::services()?;
    let db = &services.db;
    let agent = use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get(http::header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_default();
    let lifetime = services.session_lifetime;
    let result = sessions::sign_in(db, name.trim(), &password, lifetime, &agent).await;
    let session = super::respond(result)?;
    set_cookie(&session.token, services.session_lifetime.as_secs());
    Ok(session.actor)
}

/// The signed-in user's own sessions, newest first.
#[server(input = Json, endpoint = "list_own_sessions")]
pub async fn list_own_sessions() -> Result<Vec<SessionInfo>, AppError> {
    use crate::domain::sessions;

    let actor = super::actor()?;
    let db = super::services()?.db;
    let current = own_token();
    super::respond(sessions::list_of(&db, &actor.name, current.as_deref()).await)
}

/// Ends one of the signed-in user's other sessions (`id` as listed), or with `id` `None`
/// every other one: "sign out everywhere else".
#[server(input = Json, endpoint = "end_own_sessions")]
pub async fn end_own_sessions(id: Option<String>) -> Result<(), AppError> {
    use crate::domain::sessions;

    let actor = super::actor()?;
    let db = super::services()?.db;
    let current = own_token();
    let (result, detail) = match &id {
        Some(id) => (
            sessions::end_one_of(&db, &actor.name, id).await,
            "ended one other session",
        ),
        None => (
            sessions::end_all_of(&db, &actor.name, current.as_deref()).await,
            "signed out everywhere else",
        ),
    };
    super::audited(
        &db,
        &actor,
        AuditAction::SignOut,
        &actor.name,
        detail,
        result,
    )
    .await
}

/// The session token of this request.
#[cfg(feature = "ssr")]
fn own_token() -> Option<String> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<super::SessionToken>().cloned())
        .map(|super::SessionToken(token)| token)
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
                action: AuditAction::SignOut,
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
    use crate::domain::{accounts, audit, users};
    use crate::types::Outcome;

    let actor = super::actor()?;
    let db = super::services()?.db;
    if super::respond(users::verify(&db, &actor.name, &current).await)?.is_none() {
        return super::respond(Err(AppError::BadRequest(
            "Your current password is not right. Type it again.".into(),
        )));
    }
    let token = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<super::SessionToken>().cloned());
    let keep = token
        .as_ref()
        .map(|super::SessionToken(token)| token.as_str());
    super::respond(accounts::change_password(&db, &actor.name, &new, keep).await)?;
    let event = audit::Event {
        actor: &actor.name,
        action: AuditAction::UserPassword,
        target: &actor.name,
        outcome: Outcome::Succeeded,
        detail: "changed own password",
    };
    audit::record_or_log(&db, event).await;
    Ok(())
}

/// Whether the browser reached nsbackup over https, as the proxy in front says: the first
/// (the client's own) value of `X-Forwarded-Proto` or of `Forwarded: proto=`, or an https
/// `Origin`.
#[cfg(feature = "ssr")]
fn reached_over_https(headers: &http::HeaderMap) -> bool {
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .map(|value| value.trim().to_ascii_lowercase())
            .unwrap_or_default()
    };
    let forwarded_proto = first("forwarded")
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == "proto")
        .map(|(_, value)| value.trim_matches('"').to_string());
    first("x-forwarded-proto") == "https"
        || forwarded_proto.as_deref() == Some("https")
        || first("origin").starts_with("https://")
}

/// Sets (or with an empty token and no age, removes) the session cookie: HttpOnly, SameSite
/// Lax, and Secure when the page was reached over https (through a proxy that says so).
#[cfg(feature = "ssr")]
fn set_cookie(token: &str, max_age: u64) {
    let secure = use_context::<http::request::Parts>()
        .is_some_and(|parts| reached_over_https(&parts.headers));
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

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::reached_over_https;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_first_forwarded_protocol_decides() {
        assert!(reached_over_https(&headers(&[(
            "x-forwarded-proto",
            "https"
        )])));
        assert!(reached_over_https(&headers(&[(
            "x-forwarded-proto",
            "HTTPS, http"
        )])));
        assert!(!reached_over_https(&headers(&[(
            "x-forwarded-proto",
            "http, https"
        )])));
        assert!(reached_over_https(&headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=https;by=203.0.113.43, proto=http"
        )])));
        assert!(!reached_over_https(&headers(&[(
            "forwarded",
            "proto=http, proto=https"
        )])));
        assert!(!reached_over_https(&headers(&[])));
    }
}
