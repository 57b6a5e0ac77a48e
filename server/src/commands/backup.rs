//! `nsbackup backup …`: the command line as a client of a running server's API
//! (`/api/v1`). The server is `--server` (or `NSBACKUP_SERVER`); the token comes from
//! `NSBACKUP_TOKEN`, never from the command line. On a terminal, uploads, downloads and
//! jobs show progress bars; otherwise plain lines. `--json` prints the API's answer.
//! Exit codes: 0 done, 1 failed, 2 refused (the server said no: the message says why),
//! 3 the server could not be reached.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::cli::BackupCommand;
use crate::startup::StartupError;

/// Talks to one server with one token.
struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// The message of a problem object (and its next step), or the body as it came.
fn problem_text(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(problem) => {
            let message = problem["message"]
                .as_str()
                .or_else(|| problem["error"].as_str())
                .unwrap_or(body);
            match problem["next"].as_str() {
                Some(next) => format!("{message} {next}"),
                None => message.to_string(),
            }
        }
        Err(_) => body.trim().to_string(),
    }
}

impl Client {
    fn new(server: &str) -> Result<Self, StartupError> {
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

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    /// Sends `request`; a refusal (4xx) or failure (5xx) becomes the error it is.
    async fn send(
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

    async fn json(&self, request: reqwest::RequestBuilder) -> Result<Value, StartupError> {
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

    /// Follows job `id` to its end, with a bar on a terminal; a failed job is an error.
    async fn wait(&self, id: &str, what: &str) -> Result<Value, StartupError> {
        let bar = bar(0, what);
        let mut phase = String::new();
        loop {
            let job = self
                .json(self.request(reqwest::Method::GET, &format!("/api/v1/jobs/{id}")))
                .await?;
            let now = job["phase"].as_str().unwrap_or_default().to_string();
            bar.set_length(job["total"].as_u64().unwrap_or(0));
            bar.set_position(job["done"].as_u64().unwrap_or(0));
            if now != phase {
                bar.set_message(format!("{what}: {now}"));
                if bar.is_hidden() {
                    eprintln!("{what}: {now}");
                }
                phase = now;
            }
            match job["status"].as_str() {
                Some("succeeded") => {
                    bar.finish_and_clear();
                    return Ok(job);
                }
                Some("failed") => {
                    bar.abandon();
                    return Err(StartupError::Failed(format!(
                        "{what} failed: {}",
                        job["error"].as_str().unwrap_or("the server's log says why")
                    )));
                }
                _ => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }
}

/// A progress bar on a terminal; a hidden one otherwise (plain lines are printed instead).
fn bar(length: u64, message: &str) -> ProgressBar {
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

fn bytes_bar(length: u64, message: &str) -> ProgressBar {
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

fn size_text(bytes: u64) -> String {
    app::text::size(bytes)
}

/// Runs one `nsbackup backup` command against `server`.
///
/// # Errors
///
/// [`StartupError::Refused`] when the server refuses (exit code 2), [`StartupError::Failed`]
/// when something fails (1), [`StartupError::Unreachable`] when the server cannot be
/// reached (3).
pub async fn run(server: &str, command: BackupCommand) -> Result<(), StartupError> {
    let client = Client::new(server)?;
    let get = |path: &str| client.request(reqwest::Method::GET, path);
    match command {
        BackupCommand::List { namespace, json } => {
            let mut path = "/api/v1/backups?limit=500".to_string();
            if let Some(ns) = &namespace {
                path.push_str(&format!(
                    "&namespace={}",
                    app::text::percent_encode(ns, b"")
                ));
            }
            let page = client.json(get(&path)).await?;
            if json {
                print_json(&page);
                return Ok(());
            }
            for backup in page["items"].as_array().into_iter().flatten() {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    backup["id"].as_str().unwrap_or_default(),
                    backup["name"].as_str().unwrap_or_default(),
                    backup["namespace"].as_str().unwrap_or_default(),
                    backup["created_at"].as_str().unwrap_or_default(),
                    backup["status"].as_str().unwrap_or_default(),
                    backup["size"].as_u64().map(size_text).unwrap_or_default(),
                );
            }
        }
        BackupCommand::Create {
            namespace,
            name,
            no_wait,
            json,
        } => {
            let started = client
                .json(
                    client
                        .request(reqwest::Method::POST, "/api/v1/backups")
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(json!({ "namespace": namespace, "name": name }).to_string()),
                )
                .await?;
            let id = started["backup"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let job = started["job"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let ended = if no_wait {
                started["job"].clone()
            } else {
                client.wait(&job, &format!("backup of {namespace}")).await?
            };
            if json {
                print_json(&json!({ "backup": id, "job": ended }));
            } else if no_wait {
                println!("Started backup {id} (job {job})");
            } else {
                println!("Backup {id} of {namespace} completed");
            }
        }
        BackupCommand::Download { id, output } => {
            download(&client, &id, output).await?;
        }
        BackupCommand::Upload {
            file,
            namespace,
            name,
            json,
        } => {
            let opened = tokio::fs::File::open(&file)
                .await
                .map_err(|e| StartupError::Input(format!("cannot read {}: {e}", file.display())))?;
            let length = opened.metadata().await.map(|m| m.len()).unwrap_or(0);
            let bar = bytes_bar(length, "upload");
            let counting = bar.clone();
            let stream = tokio_util::io::ReaderStream::new(opened).inspect(move |chunk| {
                if let Ok(chunk) = chunk {
                    counting.inc(chunk.len() as u64);
                }
            });
            let file_name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut path = format!(
                "/api/v1/uploads?namespace={}&file_name={}",
                app::text::percent_encode(&namespace, b""),
                app::text::percent_encode(&file_name, b"")
            );
            if let Some(name) = &name {
                path.push_str(&format!("&name={}", app::text::percent_encode(name, b"")));
            }
            let uploaded = client
                .json(
                    client
                        .request(reqwest::Method::POST, &path)
                        .header(reqwest::header::CONTENT_TYPE, "application/zip")
                        .header(reqwest::header::CONTENT_LENGTH, length)
                        .body(reqwest::Body::wrap_stream(stream)),
                )
                .await?;
            bar.finish_and_clear();
            if json {
                print_json(&uploaded);
            } else {
                println!(
                    "Uploaded backup {} \u{201c}{}\u{201d} for namespace {}",
                    uploaded["backup"]["id"].as_str().unwrap_or_default(),
                    uploaded["backup"]["name"].as_str().unwrap_or_default(),
                    namespace
                );
                if let Some(note) = uploaded["note"].as_str() {
                    eprintln!("{note}");
                }
            }
        }
        BackupCommand::Preview {
            id,
            namespace,
            json,
        } => {
            let preview = client
                .json(get(&format!(
                    "/api/v1/backups/{id}/preview?namespace={}",
                    app::text::percent_encode(&namespace, b"")
                )))
                .await?;
            if json {
                print_json(&preview);
                return Ok(());
            }
            for (label, key) in [("folders", "folders"), ("items", "items")] {
                let c = &preview[key];
                println!(
                    "{label}: {} added, {} removed, {} changed, {} as they are",
                    c["added"], c["removed"], c["changed"], c["unchanged"]
                );
            }
            if let Some(n) = preview["changed_since_backup"].as_u64().filter(|n| *n > 0) {
                println!(
                    "{n} item(s) changed since this backup; the restore discards those changes"
                );
            }
            for who in preview["unknown_principals"]
                .as_array()
                .into_iter()
                .flatten()
            {
                println!(
                    "permissions name {}, which this installation does not have",
                    who.as_str().unwrap_or_default()
                );
            }
            for step in preview["migrations"].as_array().into_iter().flatten() {
                println!("migration {}", step.as_str().unwrap_or_default());
            }
        }
        BackupCommand::Restore {
            id,
            namespace,
            no_wait,
            json,
        } => {
            let job = client
                .json(
                    client
                        .request(
                            reqwest::Method::POST,
                            &format!("/api/v1/backups/{id}/restore"),
                        )
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(json!({ "namespace": namespace }).to_string()),
                )
                .await?;
            let job_id = job["id"].as_str().unwrap_or_default().to_string();
            if no_wait {
                if json {
                    print_json(&job);
                } else {
                    println!("Started the restore (job {job_id})");
                }
                return Ok(());
            }
            client
                .wait(&job_id, &format!("restore into {namespace}"))
                .await?;
            let report = client
                .json(get(&format!("/api/v1/jobs/{job_id}/report")))
                .await?;
            if json {
                print_json(&report);
            } else {
                let items = &report["items"];
                println!(
                    "Restored into {namespace}: {} item(s) added, {} removed, {} changed, {} as they were",
                    items["added"], items["removed"], items["changed"], items["unchanged"]
                );
                for warning in report["warnings"].as_array().into_iter().flatten() {
                    eprintln!("{}", warning.as_str().unwrap_or_default());
                }
            }
        }
        BackupCommand::Undo {
            namespace,
            to,
            json,
        } => {
            let ns = app::text::percent_encode(&namespace, b"");
            let generation = match to {
                Some(generation) => generation,
                None => {
                    let points = client
                        .json(get(&format!("/api/v1/namespaces/{ns}/restore-points")))
                        .await?;
                    points[0]["generation"]
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| {
                            StartupError::Refused(format!(
                                "namespace {namespace} has no restore point: nothing was restored into it recently"
                            ))
                        })?
                }
            };
            let point = client
                .json(
                    client
                        .request(
                            reqwest::Method::POST,
                            &format!("/api/v1/namespaces/{ns}/undo"),
                        )
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(json!({ "generation": generation }).to_string()),
                )
                .await?;
            if json {
                print_json(&point);
            } else {
                println!(
                    "Namespace {namespace} switched back to its content of {}",
                    point["replaced_at"].as_str().unwrap_or_default()
                );
            }
        }
        BackupCommand::Delete { id } => {
            client
                .json(client.request(reqwest::Method::DELETE, &format!("/api/v1/backups/{id}")))
                .await?;
            println!("Deleted backup {id}");
        }
    }
    Ok(())
}

/// `backup download ID [-o FILE]`: the file is written as `FILE.part` and named only when it
/// is whole and its SHA-256 is the backup's. A `FILE.part` left by a download that broke
/// off is continued from where it stopped (a `Range`, under `If-Range` with the file's
/// `ETag`, so that a part of other bytes is never continued); should the finished file
/// still not match, it is downloaded once more from the start.
async fn download(client: &Client, id: &str, output: Option<PathBuf>) -> Result<(), StartupError> {
    let path = format!("/api/v1/backups/{}", app::text::percent_encode(id, b""));
    let info = client
        .json(client.request(reqwest::Method::GET, &path))
        .await?;
    let (Some(sha), Some(size)) = (info["sha256"].as_str(), info["size"].as_u64()) else {
        return Err(StartupError::Refused(format!(
            "backup {id} is not complete, so there is nothing to download"
        )));
    };
    let target = match output {
        Some(output) => output,
        None => {
            let created_at = info["created_at"]
                .as_str()
                .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
                .map(|at| at.with_timezone(&chrono::Utc))
                .unwrap_or_default();
            let name = info["name"].as_str().unwrap_or(id);
            PathBuf::from(app::domain::backup::download_file_name(name, created_at))
        }
    };
    // Written under another name first: a download cut off never looks complete.
    let partial = target.with_extension("zip.part");
    let cannot_write = |e: std::io::Error| {
        StartupError::Failed(format!("cannot write {}: {e}", partial.display()))
    };
    for attempt in 0..2 {
        let held = match tokio::fs::metadata(&partial).await {
            Ok(meta) if attempt == 0 && meta.len() > 0 && meta.len() < size => meta.len(),
            _ => 0,
        };
        let mut request = client.request(reqwest::Method::GET, &format!("{path}/download"));
        if held > 0 {
            request = request
                .header(reqwest::header::RANGE, format!("bytes={held}-"))
                .header(reqwest::header::IF_RANGE, format!("\"{sha}\""));
        }
        let response = client.send(request).await?;
        let resumed = held > 0 && response.status() == reqwest::StatusCode::PARTIAL_CONTENT;
        let mut file = if resumed {
            eprintln!("Resuming {} at byte {held} of {size}", partial.display());
            tokio::fs::OpenOptions::new()
                .append(true)
                .open(&partial)
                .await
                .map_err(cannot_write)?
        } else {
            tokio::fs::File::create(&partial)
                .await
                .map_err(cannot_write)?
        };
        let bar = bytes_bar(size, "download");
        if resumed {
            bar.inc(held);
        }
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                StartupError::Failed(format!(
                    "the download broke off: {e}; run it again to continue from there"
                ))
            })?;
            tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
                .await
                .map_err(cannot_write)?;
            bar.inc(chunk.len() as u64);
        }
        tokio::io::AsyncWriteExt::flush(&mut file)
            .await
            .map_err(cannot_write)?;
        file.sync_all().await.map_err(cannot_write)?;
        drop(file);
        bar.finish_and_clear();
        let checked = partial.clone();
        let digest = tokio::task::spawn_blocking(move || {
            app::domain::backup::archive::file_digest(&checked)
        })
        .await
        .map_err(|e| StartupError::Failed(e.to_string()))?
        .map_err(|e| StartupError::Failed(format!("cannot read {}: {e}", partial.display())))?;
        if digest.0 == sha && digest.1 == size {
            tokio::fs::rename(&partial, &target).await.map_err(|e| {
                StartupError::Failed(format!("cannot name {}: {e}", target.display()))
            })?;
            println!("Downloaded {} ({})", target.display(), size_text(size));
            return Ok(());
        }
        eprintln!(
            "{} does not match the backup's SHA-256; downloading it again from the start",
            partial.display()
        );
    }
    let _ = tokio::fs::remove_file(&partial).await;
    Err(StartupError::Failed(format!(
        "the file downloaded for backup {id} does not match its SHA-256 twice; the server's copy may be damaged (nsbackup verify on the server says more)"
    )))
}
