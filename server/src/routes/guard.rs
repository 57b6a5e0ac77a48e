//! The request layer in front of everything: refuses cross-site state changes, finds who is
//! signed in from the session cookie (or who a script's `Authorization: Bearer` API token
//! acts as), and applies the access rule of the path
//! ([`app::api::rules`]) before any handler, page or server function runs.

use app::types::AuditAction;
use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use app::api::SessionToken;
use app::api::account::SESSION_COOKIE;
use app::api::rules::{self, ADMINS_ONLY, CROSS_SITE, Rule, SIGN_IN_FIRST, SIGN_IN_PAGE};
use app::domain::{Services, audit, sessions, tokens};
use app::error::{AppError, TOO_LARGE};
use app::types::Outcome;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http_body_util::Limited;

/// The paths of every registered server function. Their errors go out encoded as the server
/// function client expects ([`AppError`] as JSON); plain routes answer a problem object.
static SERVER_FN_PATHS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect()
});

/// The middleware: see the module documentation.
pub async fn guard(State(services): State<Services>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let sends_body = declares_body(request.headers());
    let response = admit(&services, &path, request, next).await;
    // A refusal given before the request's body was read (or cut off at its limit) leaves
    // the rest of that body on the connection: the connection ends with the answer, and the
    // answer says so, so that a client does not send its next request into it.
    let unread = sends_body
        && (response.extensions().get::<Unread>().is_some()
            || response.status() == StatusCode::PAYLOAD_TOO_LARGE
            || response.status() == StatusCode::METHOD_NOT_ALLOWED);
    let mut response = if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        method_not_allowed(&path, response)
    } else if SERVER_FN_PATHS.contains(&path) {
        with_status_of_error(&path, response).await
    } else {
        response
    };
    if unread {
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    response
}

/// Marks an answer given before the request's body was read.
#[derive(Clone, Copy, Debug)]
struct Unread;

/// Whether a request comes with a body: a length above zero, or a chunked one.
fn declares_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .is_some_and(|length| length > 0)
}

/// A request with a method the endpoint does not take: 405 with the methods it does take
/// (axum's own answer has no body), and a message.
fn method_not_allowed(path: &str, response: Response) -> Response {
    let allowed = response.headers().get(header::ALLOW).cloned();
    let methods = allowed
        .as_ref()
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .unwrap_or("POST")
        .to_string();
    let mut answer = refuse_as(
        path,
        StatusCode::METHOD_NOT_ALLOWED,
        AppError::BadRequest(format!(
            "`{path}` is not called that way: send it as {methods}."
        )),
    );
    if let Some(allowed) = allowed {
        answer.headers_mut().insert(header::ALLOW, allowed);
    }
    answer
}

/// Everything but the final status: see the module documentation.
async fn admit(services: &Services, path: &str, mut request: Request, next: Next) -> Response {
    let path = path.to_string();
    // A script's token: a browser never sends one by itself (nor a cookie that stands for
    // it), so a request carrying one needs no cross-site check.
    let bearer = bearer_token(request.headers());
    if bearer.is_none() && !is_safe(request.method()) && is_cross_site(request.headers()) {
        tracing::warn!(%path, "refused a cross-site request");
        let refusal = AppError::Forbidden(CROSS_SITE.into());
        audit_refusal(services, "(another site)", &path, &refusal).await;
        return refuse(&path, refusal);
    }
    // Server functions read JSON; anything else declared is refused before it is read.
    if SERVER_FN_PATHS.contains(&path)
        && let Some(content_type) = request.headers().get(header::CONTENT_TYPE)
        && !content_type.to_str().is_ok_and(|value| {
            value
                .trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
    {
        return refuse_as(
            &path,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::BadRequest(
                "This endpoint reads JSON: send the arguments as one JSON object with `Content-Type: application/json`.".into(),
            ),
        );
    }
    if let Some(limit) = rules::body_limit(&path) {
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return refuse(&path, AppError::TooLarge(TOO_LARGE.into()));
        }
        // A body without a declared length is cut off at the limit as it is read.
        request = request.map(|body| Body::new(Limited::new(body, limit)));
    }

    if let Some(secret) = bearer {
        let actor = match tokens::authenticate(&services.db, &secret).await {
            Ok(Ok(actor)) => actor,
            Ok(Err(why)) => {
                let refusal = AppError::Unauthorized(why);
                audit_refusal(services, "(API token)", &path, &refusal).await;
                return refuse(&path, refusal);
            }
            Err(error) => {
                tracing::error!(%error, "could not look up an API token");
                return refuse(
                    &path,
                    AppError::Internal(
                        "The server cannot check your API token right now: its database does not answer. Try again in a minute.".into(),
                    ),
                );
            }
        };
        request.extensions_mut().insert(actor.clone());
        return apply_rule(services, &path, request, next, Some(actor)).await;
    }
    let token = session_cookie(request.headers());
    let actor = match &token {
        Some(token) => match sessions::resolve(&services.db, token).await {
            Ok(actor) => actor,
            Err(error) => {
                tracing::error!(%error, "could not look up a session");
                return refuse(
                    &path,
                    AppError::Internal(
                        "The server cannot check your sign-in right now: its database does not answer. Try again in a minute.".into(),
                    ),
                );
            }
        },
        None => None,
    };
    if let (Some(actor), Some(token)) = (&actor, token) {
        request.extensions_mut().insert(actor.clone());
        request.extensions_mut().insert(SessionToken(token));
    }
    apply_rule(services, &path, request, next, actor).await
}

/// The access rule of `path` for `actor` (who may be nobody).
async fn apply_rule(
    services: &Services,
    path: &str,
    request: Request,
    next: Next,
    actor: Option<app::types::Actor>,
) -> Response {
    let path = path.to_string();
    let Some(rule) = rules::rule(&path) else {
        if SERVER_FN_PATHS.contains(&path) {
            tracing::error!(%path, "a server function has no access rule; it is refused for everyone");
        }
        return refuse(
            &path,
            AppError::NotFound(format!("There is no endpoint `{path}`.")),
        );
    };
    match (rule, &actor) {
        (Rule::Public, _) => next.run(request).await,
        (_, None) if !path.starts_with("/api/") && request.method() == Method::GET => {
            let here = request
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str())
                .unwrap_or("/");
            let target = if here == "/" {
                SIGN_IN_PAGE.to_string()
            } else {
                format!(
                    "{SIGN_IN_PAGE}?next={}",
                    app::text::percent_encode(here, b"/")
                )
            };
            Redirect::to(&target).into_response()
        }
        (_, None) => {
            let refusal = AppError::Unauthorized(SIGN_IN_FIRST.into());
            audit_refusal(services, "(anonymous)", &path, &refusal).await;
            refuse(&path, refusal)
        }
        // An administrator's page renders its own 403 for others (with the whole frame and
        // a way back); everything it shows comes from endpoints refused here.
        (Rule::Admin, Some(actor)) if !actor.is_admin() && path.starts_with("/api/") => {
            let refusal = AppError::Forbidden(ADMINS_ONLY.into());
            audit_refusal(services, &actor.name, &path, &refusal).await;
            refuse(&path, refusal)
        }
        // A backup file is sent as it is; a form, a text or an image is not one (told once
        // the sender may upload at all).
        _ if rules::BACKUP_UPLOADS.contains(&path.as_str())
            && request
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|value| !value.to_str().is_ok_and(rules::is_backup_file_type)) =>
        {
            refuse_as(
                &path,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                AppError::BadRequest(
                    "Send the backup file itself as the body, with `Content-Type: application/zip`.".into(),
                ),
            )
        }
        _ => next.run(request).await,
    }
}

/// The secret of an `Authorization: Bearer …` header, if the request has one.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| secret.trim().to_string())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// How often one requester's refusals for one path are written to the audit log at most.
const REFUSAL_AUDIT_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// Requester and path pairs remembered for that; beyond this many the memory starts afresh.
const REFUSAL_AUDIT_MEMORY: usize = 4096;

/// When each (requester, path) refusal was last written to the audit log.
static REFUSALS_AUDITED: LazyLock<Mutex<HashMap<(String, String), Instant>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Records a request the guard refused (401, 403) in the audit log — at most once a minute
/// for the same requester and path, so that a flood of refused requests cannot fill it.
async fn audit_refusal(services: &Services, who: &str, path: &str, refusal: &AppError) {
    let due = {
        let Ok(mut audited) = REFUSALS_AUDITED.lock() else {
            return;
        };
        if audited.len() >= REFUSAL_AUDIT_MEMORY {
            audited.clear();
        }
        let key = (who.to_string(), path.to_string());
        let now = Instant::now();
        match audited.get(&key) {
            Some(last) if now.duration_since(*last) < REFUSAL_AUDIT_EVERY => false,
            _ => {
                audited.insert(key, now);
                true
            }
        }
    };
    if due {
        let event = audit::Event {
            actor: who,
            action: AuditAction::RequestRefused,
            target: path,
            outcome: Outcome::Refused,
            detail: &refusal.to_string(),
        };
        audit::record_or_log(&services.db, event).await;
    }
}

/// A server function's error answer with the status its error calls for. The server function
/// framework answers 500 for every error raised before the function's own code runs (a body
/// it cannot read, a missing or mistyped argument); those are the sender's mistakes, and
/// their [`AppError`] says so.
async fn with_status_of_error(path: &str, response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Error answers are short; one that cannot be read whole is the server's own failure.
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        tracing::error!("a server function's error answer could not be read");
        return refuse(
            path,
            AppError::Internal(
            "The server could not complete the request. Try again; if it keeps failing, the server's log says why.".into(),
        ));
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(error.status_code())
    {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Whether the browser says the request was made by another site: `Sec-Fetch-Site` when
/// present, otherwise `Origin` compared with the host the request was sent to. Requests
/// without either come from programs, not browsers, and carry no ambient cookie risk beyond
/// what the caller already holds.
fn is_cross_site(headers: &HeaderMap) -> bool {
    let get = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = get("origin") else {
        return false;
    };
    let host = get("x-forwarded-host").or_else(|| get(header::HOST.as_str()));
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match (origin_host, host) {
        (Some(origin_host), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
        _ => true,
    }
}

/// The session token from the `Cookie` header(s).
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

/// An error answer: encoded for the server function client on server function paths, as a
/// problem object elsewhere.
fn refuse(path: &str, error: AppError) -> Response {
    let status =
        StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    refuse_as(path, status, error)
}

/// As [`refuse`], with a status of its own (405 and 415 have no [`AppError`] kind).
fn refuse_as(path: &str, status: StatusCode, error: AppError) -> Response {
    let mut response = if SERVER_FN_PATHS.contains(path) {
        let body = serde_json::to_string(&error).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    } else {
        super::problem::Problem::with_status(status, &error).into_response()
    };
    response.extensions_mut().insert(Unread);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn cross_site_requests_are_recognised() {
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!is_cross_site(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(is_cross_site(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "nsbackup.example")
        ])));
        assert!(is_cross_site(&headers(&[
            ("origin", "null"),
            ("host", "nsbackup.example")
        ])));
        assert!(!is_cross_site(&headers(&[
            ("origin", "https://nsbackup.example"),
            ("host", "nsbackup.example")
        ])));
        assert!(!is_cross_site(&headers(&[("host", "nsbackup.example")])));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let map = headers(&[("cookie", "theme=dark; nsbackup_session=abc123; other=1")]);
        assert_eq!(session_cookie(&map).as_deref(), Some("abc123"));
        assert_eq!(
            session_cookie(&headers(&[("cookie", "nsbackup_session=")])),
            None
        );
    }
}
