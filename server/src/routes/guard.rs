//! The request layer in front of everything: refuses cross-site state changes, finds who is
//! signed in from the session cookie, and applies the access rule of the path
//! ([`app::api::rules`]) before any handler, page or server function runs.

use std::collections::HashSet;
use std::sync::LazyLock;

use app::api::SessionToken;
use app::api::account::SESSION_COOKIE;
use app::api::rules::{self, ADMINS_ONLY, CROSS_SITE, Rule, SIGN_IN_FIRST, SIGN_IN_PAGE};
use app::domain::{Services, sessions};
use app::error::AppError;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// The paths of every registered server function. Their errors go out encoded as the server
/// function client expects ([`AppError`] as JSON); plain routes answer `{"error": "…"}`.
static SERVER_FN_PATHS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect()
});

/// The middleware: see the module documentation.
pub async fn guard(State(services): State<Services>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if !is_safe(request.method()) && is_cross_site(request.headers()) {
        tracing::warn!(%path, "refused a cross-site request");
        return refuse(&path, AppError::Forbidden(CROSS_SITE.into()));
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
                format!("{SIGN_IN_PAGE}?next={}", encode_component(here))
            };
            Redirect::to(&target).into_response()
        }
        (_, None) => refuse(&path, AppError::Unauthorized(SIGN_IN_FIRST.into())),
        // An administrator's page renders its own 403 for others (with the whole frame and
        // a way back); everything it shows comes from endpoints refused here.
        (Rule::Admin, Some(actor)) if !actor.is_admin() && path.starts_with("/api/") => {
            refuse(&path, AppError::Forbidden(ADMINS_ONLY.into()))
        }
        _ => next.run(request).await,
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
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

/// An error answer: encoded for the server function client on server function paths, as
/// `{"error": "…"}` elsewhere.
fn refuse(path: &str, error: AppError) -> Response {
    let status =
        StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if SERVER_FN_PATHS.contains(path) {
        let body = serde_json::to_string(&error).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    } else {
        (
            status,
            Json(serde_json::json!({ "error": error.to_string() })),
        )
            .into_response()
    }
}

/// Percent-encodes everything but unreserved characters and `/`.
fn encode_component(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
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
