//! The errors a user can see.
//!
//! [`AppError`] travels over the wire: server functions return it, pages show its message.
//! The domain's own error (`domain::DomainError`, server only) converts into it; that
//! conversion logs what is internal and hands the user a message that says what to do next.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// An error as the user sees it: a kind (which also fixes the HTTP status) and a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request itself is wrong: a bad name, a missing field, a file that is not a backup.
    #[error("{0}")]
    BadRequest(String),
    /// Nobody is signed in (or the session has expired): sign in and try again.
    #[error("{0}")]
    Unauthorized(String),
    /// The signed-in user may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts (failed sign-ins): wait, then try again.
    #[error("{0}")]
    TooManyRequests(String),
    /// The thing asked for does not exist (any more).
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with the current state, for example a job that is still running.
    #[error("{0}")]
    Conflict(String),
    /// Something failed on the server; the details are in the server's log.
    #[error("{0}")]
    Internal(String),
    /// The request did not reach the server function, or its answer did not reach the page.
    #[error("{0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status code that goes with this error.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::TooManyRequests(_) => 429,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::Internal(_) | AppError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Transport(
                "The server could not be reached. Check your connection and try again.".into(),
            ),
            // The server refuses bodies above its limit before reading them; what comes back
            // is a short text, not an answer.
            other if other.to_string().contains("length limit exceeded") => AppError::Transport(
                "What you sent is larger than the server accepts. Send less at once (a smaller file or content)."
                    .into(),
            ),
            other => AppError::Transport(format!(
                "The server's answer could not be understood ({other}). Reload the page and try again."
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_large_request_is_named_as_such() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(
            "error deserializing server function results: length limit exceeded".into(),
        ));
        assert!(
            error.to_string().contains("larger than the server accepts"),
            "{error}"
        );
        let error = AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(
            "expected value".into(),
        ));
        assert!(
            error.to_string().contains("could not be understood"),
            "{error}"
        );
    }
}
