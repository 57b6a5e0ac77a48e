//! The command line's side of `/api/v1`: one server, one token, answers read as the API's
//! own wire types, refusals as the sentences they carry, progress bars on a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use app::types::JobStatus;
use indicatif::{ProgressBar, ProgressStyle};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::routes::v1::wire::Job;
use crate::startup::StartupError;

/// Talks to one server with one token.
pub(super) struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// An answer of the API: what it says, and the JSON it came as (what `--json` prints).
pub(super) struct Answer<T> {
    pub value: T,
    pub json: Value,
}

/// What a refusal says, as far as a person needs it: a problem object of `/api/v1`, or the
/// `error` of an answer from before it.
#[derive(serde::Deserialize)]
struct Refusal {
    message: Option<String>,
    error: Option<String>,
    next: Option<String>,
}

/// The message of a problem object (and its next step), or the body as it came.
fn problem_text(body: &str) -> String {
    match serde_json::from_str::<Refusal>(body) {
        Ok(Refusal {
            message,
            error,
            next,
            ..
        }) => {
            let message = message.or(error).unwrap_or_else(|| body.trim().to_string());
            match next {
                Some(next) => format!("{message} {next}"),
                None => message,
            }
        }
        Err(_) => body.trim().to_string(),
    }
}

impl Client {
    pub(super) fn new(server: &str) -> Result<Self, StartupError> {
        let token = std::env::var("NSBACKUP_TOKEN").map_err(|_| {
            StartupError::Input(
                "set NSBACKUP_TOKEN to an API token (Administration → API tokens, or nsbackup token create)"
                    .into(),
            )
        })?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| StartupError::Failed(format!("no HTTP client: {e}")))?;
        Ok(Client {
            http,
            base: server.trim_end_matches('/').to_string(),
            token,
        })
    }

    pub(super) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    /// Sends `request`; a refusal (4xx) or failure (5xx) becomes the error it is.
    pub(super) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, StartupError> {
        let response = request.send().await.map_err(|e| {
            StartupError::Unreachable(format!(
                "could not reach the server at {}: {e}. Check --server (or NSBACKUP_SERVER) and that it runs",
                self.base
            ))
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        let text = problem_text(&body);
        if status.is_client_error() {
            Err(StartupError::Refused(format!("refused ({status}): {text}")))
        } else {
            Err(StartupError::Failed(format!(
                "the server failed ({status}): {text}"
            )))
        }
    }

    pub(super) async fn json(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, StartupError> {
        let response = self.send(request).await?;
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        let text = response
            .text()
            .await
            .map_err(|e| StartupError::Failed(format!("the answer broke off: {e}")))?;
        serde_json::from_str(&text)
            .map_err(|e| StartupError::Failed(format!("the answer is not JSON: {e}")))
    }

    /// Sends `request` and reads its answer as a `T` (the API's own wire types).
    pub(super) async fn answer<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer<T>, StartupError> {
        let json = self.json(request).await?;
        let value = T::deserialize(&json).map_err(|e| {
            StartupError::Failed(format!(
                "the server's answer is not what this nsbackup expects ({e}); \
                 use the command line of the server's own version"
            ))
        })?;
        Ok(Answer { value, json })
    }

    /// Follows job `id` to its end, with a bar on a terminal; a failed job is an error.
    pub(super) async fn wait(&self, id: &str, what: &str) -> Result<Answer<Job>, StartupError> {
        let bar = bar(0, what);
        let mut phase = String::new();
        loop {
            let answer: Answer<Job> = self
                .answer(self.request(reqwest::Method::GET, &format!("/api/v1/jobs/{id}")))
                .await?;
            let job = &answer.value;
            bar.set_length(job.total);
            bar.set_position(job.done);
            if job.phase != phase {
                bar.set_message(format!("{what}: {}", job.phase));
                if bar.is_hidden() {
                    eprintln!("{what}: {}", job.phase);
                }
                phase.clone_from(&job.phase);
            }
            match job.status {
                JobStatus::Succeeded => {
                    bar.finish_and_clear();
                    return Ok(answer);
                }
                JobStatus::Failed => {
                    bar.abandon();
                    return Err(StartupError::Failed(format!(
                        "{what} failed: {}",
                        job.error.as_deref().unwrap_or("the server's log says why")
                    )));
                }
                JobStatus::Queued | JobStatus::Running => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }
}

/// A progress bar on a terminal; a hidden one otherwise (plain lines are printed instead).
pub(super) fn bar(length: u64, message: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.to_string());
    bar
}

pub(super) fn bytes_bar(length: u64, message: &str) -> ProgressBar {
    let bar = bar(length, message);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub(super) fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}
