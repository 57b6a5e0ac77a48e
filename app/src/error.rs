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
    /// The request is larger than the server accepts for it.
    #[error("{0}")]
    TooLarge(String),
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
            AppError::TooLarge(_) => 413,
            AppError::Internal(_) | AppError::Transport(_) => 500,
        }
    }
}

/// What a request over the size limit is told.
pub const TOO_LARGE: &str = "What you sent is larger than the server accepts. Send less at once (a smaller file or content).";

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        if cfg!(feature = "ssr") {
            on_server(value)
        } else {
            in_browser(value)
        }
    }
}

/// On the server these errors come from reading a request (its body, its arguments): the
/// sender's mistake, answered 400 (413 when too large).
fn on_server(value: ServerFnErrorErr) -> AppError {
    match value {
        ServerFnErrorErr::Deserialization(detail)
        | ServerFnErrorErr::Args(detail)
        | ServerFnErrorErr::MissingArg(detail)
            if detail.contains("length limit exceeded") =>
        {
            AppError::TooLarge(TOO_LARGE.into())
        }
        ServerFnErrorErr::Deserialization(detail) | ServerFnErrorErr::Args(detail) => {
            AppError::BadRequest(format!(
                "The request could not be read: {detail}. Send the arguments as one JSON object with the fields this endpoint takes."
            ))
        }
        ServerFnErrorErr::MissingArg(detail) => AppError::BadRequest(format!(
            "The request lacks the argument {detail}. Send the arguments as one JSON object with the fields this endpoint takes."
        )),
        ServerFnErrorErr::UnsupportedRequestMethod(detail) => AppError::BadRequest(format!(
            "This endpoint is not called that way ({detail}): send a POST with a JSON body."
        )),
        other => {
            #[cfg(feature = "ssr")]
            tracing::error!(error = %other, "a server function failed outside its own code");
            #[cfg(not(feature = "ssr"))]
            let _ = other;
            AppError::Internal(
                    "The server could not complete the request. Try again; if it keeps failing, the server's log says why."
                        .into(),
                )
        }
    }
}

/// In the browser these errors come from reaching the server or reading its answer.
fn in_browser(value: ServerFnErrorErr) -> AppError {
    match value {
        ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Transport(
            "The server could not be reached. Check your connection and try again.".into(),
        ),
        // The server refuses bodies above its limit before reading them; what comes back
        // is a short text, not an answer.
        other if other.to_string().contains("length limit exceeded") => {
            AppError::Transport(TOO_LARGE.into())
        }
        other => AppError::Transport(format!(
            "The server's answer could not be understood ({other}). Reload the page and try again."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_the_server_cannot_read_is_the_senders_mistake() {
        let error = on_server(ServerFnErrorErr::Args(
            "unknown variant `god`, expected one of `read`, `write`, `manage`".into(),
        ));
        assert_eq!(error.status_code(), 400);
        assert!(
            error.to_string().contains("unknown variant `god`"),
            "{error}"
        );
        let error = on_server(ServerFnErrorErr::Deserialization(
            "length limit exceeded".into(),
        ));
        assert_eq!(error.status_code(), 413);
    }

    #[test]
    fn a_refused_large_request_is_named_as_such() {
        let error = in_browser(ServerFnErrorErr::Deserialization(
            "error deserializing server function results: length limit exceeded".into(),
        ));
        assert!(
            error.to_string().contains("larger than the server accepts"),
            "{error}"
        );
        let error = in_browser(ServerFnErrorErr::Deserialization("expected value".into()));
        assert!(
            error.to_string().contains("could not be understood"),
            "{error}"
        );
    }
}
