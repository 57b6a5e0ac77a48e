//! The one error shape of every plain route (`/api/v1` and the page's downloads beside the
//! server functions): a problem object (`{"code", "status", "message", "next"}`) with a
//! stable code, sent as `application/problem+json`. Server functions answer in their own
//! encoding ([`AppError`]), which their client reads.

use app::domain::DomainError;
use app::error::AppError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What kind of problem: stable, for scripts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    Invalid,
    RangeNotSatisfiable,
    TooManyRequests,
    Internal,
}

impl Code {
    /// The status a problem of this kind is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            Code::BadRequest => StatusCode::BAD_REQUEST,
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::Conflict => StatusCode::CONFLICT,
            Code::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            Code::RangeNotSatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
            Code::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What to do next, for a person.
    fn next(self) -> &'static str {
        match self {
            Code::BadRequest => {
                "Correct the request as the message says; the OpenAPI document at /api/v1/openapi.json describes every operation."
            }
            Code::Unauthorized => {
                "Sign in, or send a working API token as `Authorization: Bearer TOKEN` (Administration → API tokens, or `nsbackup token create`)."
            }
            Code::Forbidden => {
                "Ask an administrator, or use a token of a user who may do this: backups are for administrators."
            }
            Code::NotFound => {
                "Check the address: list the backups (GET /api/v1/backups) or jobs (GET /api/v1/jobs) for the ids there are."
            }
            Code::Conflict => {
                "Wait until what is running has finished, then send the request again."
            }
            Code::TooLarge => "Send less at once.",
            Code::Invalid => "Change what the message names, then send the request again.",
            Code::TooManyRequests => "Wait, then try again.",
            Code::RangeNotSatisfiable => {
                "Download it again from the start (without a Range header)."
            }
            Code::Internal => "Try again; if it keeps failing, the server's log says why.",
        }
    }
}

/// An error of this API: `{"code", "status", "message", "next"}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Stable, for scripts.
    pub code: Code,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for a person.
    pub message: String,
    /// What to do next.
    pub next: String,
}

impl Problem {
    /// A problem of kind `code`, answered with its status.
    pub fn new(code: Code, message: String) -> Self {
        Problem::with(code.status(), code, message)
    }

    /// A problem of kind `code` answered with another status than its own.
    pub(crate) fn with(status: StatusCode, code: Code, message: String) -> Self {
        Problem {
            code,
            status: status.as_u16(),
            message,
            next: code.next().to_string(),
        }
    }

    /// The problem `error` is, answered with `status` (405 and 415 have no [`AppError`]).
    pub fn with_status(status: StatusCode, error: &AppError) -> Self {
        if matches!(status.as_u16(), 405 | 415) {
            return Problem::with(status, Code::BadRequest, error.to_string());
        }
        Problem::from_app(error)
    }

    /// The problem an [`AppError`] is.
    pub fn from_app(error: &AppError) -> Self {
        let code = match error {
            AppError::BadRequest(_) => Code::BadRequest,
            AppError::Unauthorized(_) => Code::Unauthorized,
            AppError::Forbidden(_) => Code::Forbidden,
            AppError::TooManyRequests(_) => Code::TooManyRequests,
            AppError::NotFound(_) => Code::NotFound,
            AppError::Conflict(_) => Code::Conflict,
            AppError::TooLarge(_) => Code::TooLarge,
            AppError::Internal(_) | AppError::Transport(_) => Code::Internal,
        };
        Problem::new(code, error.to_string())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self)).into_response();
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        Problem::from_app(&error)
    }
}

impl From<DomainError> for Problem {
    fn from(error: DomainError) -> Self {
        // A well-formed request whose content cannot be accepted: 422, not 400.
        if let DomainError::Invalid(message) = &error {
            return Problem::new(Code::Invalid, message.clone());
        }
        Problem::from_app(&AppError::from(error))
    }
}
