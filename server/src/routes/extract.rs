//! What a plain route's handler takes from a request, each refused as a problem object:
//! the user or administrator it acts for, a JSON body, a query string.

use app::error::AppError;
use app::types::Actor;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::problem::{Code, Problem};

/// The administrator a request acts for (its token's or its session's user): without one the
/// request is refused (401), with a user who is no administrator too (403). Every operation
/// takes it first, so that nothing else of a request is looked at before.
pub struct Admin(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Actor>() {
            Some(actor) if actor.is_admin() => Ok(Admin(actor.clone())),
            Some(_) => Err(AppError::Forbidden(app::api::rules::ADMINS_ONLY.into()).into()),
            None => Err(AppError::Unauthorized(app::api::rules::SIGN_IN_FIRST.into()).into()),
        }
    }
}

/// The signed-in user a request acts for (its session's or its token's): without one the
/// request is refused (401).
pub struct SignedIn(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Actor>() {
            Some(actor) => Ok(SignedIn(actor.clone())),
            None => Err(AppError::Unauthorized(app::api::rules::SIGN_IN_FIRST.into()).into()),
        }
    }
}

/// A JSON body; one that does not parse is a problem (400) naming what is wrong.
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) => {
                let status = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    _ => StatusCode::BAD_REQUEST,
                };
                Err(Problem::with(
                    status,
                    Code::BadRequest,
                    format!(
                        "The body is not what this operation reads: {}.",
                        rejection.body_text()
                    ),
                ))
            }
        }
    }
}

/// A query string; one that does not parse is a problem (400) naming what is wrong.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(Problem::new(
                Code::BadRequest,
                format!("The query string is not right: {}.", rejection.body_text()),
            )),
        }
    }
}

/// The header that carries a backup's passphrase where a request has no JSON body (a preview,
/// an upload): the passphrase's UTF-8 bytes, percent-encoded. Never logged.
pub const PASSPHRASE_HEADER: &str = "backup-passphrase";

/// The passphrase of header [`PASSPHRASE_HEADER`], when the request has one (blank: none).
pub struct PassphraseHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for PassphraseHeader {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(PASSPHRASE_HEADER) else {
            return Ok(PassphraseHeader(None));
        };
        let decoded = value
            .to_str()
            .ok()
            .and_then(app::text::percent_decode)
            .ok_or_else(|| {
                Problem::new(
                    Code::BadRequest,
                    "The Backup-Passphrase header is not right: send the passphrase's UTF-8 bytes percent-encoded.".into(),
                )
            })?;
        Ok(PassphraseHeader((!decoded.is_empty()).then_some(decoded)))
    }
}
