//! `nsbackup backup …`: the command line as a client of a running server's API
//! (`/api/v1`). The server is `--server` (or `NSBACKUP_SERVER`); the token comes from
//! `NSBACKUP_TOKEN`, never from the command line. On a terminal, uploads, downloads and
//! jobs show progress bars; otherwise plain lines. `--json` prints the API's answer.
//! Exit codes: 0 done, 1 failed, 2 refused (the server said no: the message says why),
//! 3 the server could not be reached.

use std::path::PathBuf;

use app::types::{Changes, RestorePoint, RestorePreview, RestoreReport};
use futures_util::StreamExt;
use serde_json::json;

use super::client::{Answer, Client, bytes_bar, print_json};
use crate::cli::BackupCommand;
use crate::routes::v1::wire::{Backup, BackupPage, Job, Started, UploadedBackup};
use crate::startup::StartupError;

fn size_text(bytes: u64) -> String {
    app::text::size(bytes)
}

/// "3 added, 1 removed, 2 changed, 5 as they are".
fn changes_text(changes: &Changes) -> String {
    format!(
        "{} added, {} removed, {} changed, {} as they are",
        changes.added, changes.removed, changes.changed, changes.unchanged
    )
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
            let page: Answer<BackupPage> = client.answer(get(&path)).await?;
            if json {
                print_json(&page.json);
                return Ok(());
            }
            for backup in &page.value.items {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    backup.id,
                    backup.name,
                    backup.namespace,
                    backup
                        .created_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    backup.status.as_str(),
                    backup.size.map(size_text).unwrap_or_default(),
                );
            }
        }
        BackupCommand::Create {
            namespace,
            name,
            passphrase,
            no_wait,
            json,
        } => {
            let passphrase = passphrase
                .then(|| super::read_passphrase(true))
                .transpose()?;
            let wanted = json!({ "namespace": namespace, "name": name, "passphrase": passphrase });
            let started: Answer<Started> = client
                .answer(
                    client
                        .request(reqwest::Method::POST, "/api/v1/backups")
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(wanted.to_string()),
                )
                .await?;
            let id = started.value.backup.id;
            let job = started.value.job.id;
            let ended = if no_wait {
                started.json["job"].clone()
            } else {
                client
                    .wait(&job, &format!("backup of {namespace}"))
                    .await?
                    .json
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
            passphrase,
            json,
        } => {
            let passphrase = passphrase
                .then(|| super::read_passphrase(false))
                .transpose()?;
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
            let uploaded: Answer<UploadedBackup> = client
                .answer(
                    client
                        .request(reqwest::Method::POST, &path)
                        .headers(passphrase_header(passphrase.as_deref())?)
                        .header(reqwest::header::CONTENT_TYPE, "application/zip")
                        .header(reqwest::header::CONTENT_LENGTH, length)
                        .body(reqwest::Body::wrap_stream(stream)),
                )
                .await?;
            bar.finish_and_clear();
            if json {
                print_json(&uploaded.json);
            } else {
                let UploadedBackup { backup, note } = uploaded.value;
                println!(
                    "Uploaded backup {} \u{201c}{}\u{201d} for namespace {namespace}",
                    backup.id, backup.name
                );
                if let Some(note) = note {
                    eprintln!("{note}");
                }
            }
        }
        BackupCommand::Preview {
            id,
            namespace,
            passphrase,
            json,
        } => {
            let passphrase = passphrase
                .then(|| super::read_passphrase(false))
                .transpose()?;
            let path = format!(
                "/api/v1/backups/{id}/preview?namespace={}",
                app::text::percent_encode(&namespace, b"")
            );
            let answer: Answer<RestorePreview> = client
                .answer(get(&path).headers(passphrase_header(passphrase.as_deref())?))
                .await?;
            if json {
                print_json(&answer.json);
                return Ok(());
            }
            let preview = answer.value;
            println!("folders: {}", changes_text(&preview.folders));
            println!("items: {}", changes_text(&preview.items));
            if let Some(n) = preview.changed_since_backup.filter(|n| *n > 0) {
                println!(
                    "{n} item(s) changed since this backup; the restore discards those changes"
                );
            }
            for who in &preview.unknown_principals {
                println!("permissions name {who}, which this installation does not have");
            }
            for step in &preview.migrations {
                println!("migration {step}");
            }
        }
        BackupCommand::Restore {
            id,
            namespace,
            passphrase,
            no_wait,
            json,
        } => {
            let passphrase = passphrase
                .then(|| super::read_passphrase(false))
                .transpose()?;
            let job: Answer<Job> = client
                .answer(
                    client
                        .request(
                            reqwest::Method::POST,
                            &format!("/api/v1/backups/{id}/restore"),
                        )
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(
                            json!({ "namespace": namespace, "passphrase": passphrase }).to_string(),
                        ),
                )
                .await?;
            let job_id = job.value.id;
            if no_wait {
                if json {
                    print_json(&job.json);
                } else {
                    println!("Started the restore (job {job_id})");
                }
                return Ok(());
            }
            client
                .wait(&job_id, &format!("restore into {namespace}"))
                .await?;
            let report: Answer<RestoreReport> = client
                .answer(get(&format!("/api/v1/jobs/{job_id}/report")))
                .await?;
            if json {
                print_json(&report.json);
            } else {
                let items = &report.value.items;
                println!(
                    "Restored into {namespace}: {} item(s) added, {} removed, {} changed, {} as they were",
                    items.added, items.removed, items.changed, items.unchanged
                );
                for warning in &report.value.warnings {
                    eprintln!("{warning}");
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
                    let points: Answer<Vec<RestorePoint>> = client
                        .answer(get(&format!("/api/v1/namespaces/{ns}/restore-points")))
                        .await?;
                    points
                        .value
                        .into_iter()
                        .next()
                        .map(|point| point.generation)
                        .ok_or_else(|| {
                            StartupError::Refused(format!(
                                "namespace {namespace} has no restore point: nothing was restored into it recently"
                            ))
                        })?
                }
            };
            let point: Answer<RestorePoint> = client
                .answer(
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
                print_json(&point.json);
            } else {
                println!(
                    "Namespace {namespace} switched back to its content of {}",
                    point
                        .value
                        .replaced_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
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
/// The header that carries a passphrase where the request has no JSON body; none without one.
fn passphrase_header(passphrase: Option<&str>) -> Result<reqwest::header::HeaderMap, StartupError> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(passphrase) = passphrase {
        let mut value =
            reqwest::header::HeaderValue::from_str(&app::text::percent_encode(passphrase, b""))
                .map_err(|e| StartupError::Input(format!("could not send the passphrase: {e}")))?;
        value.set_sensitive(true);
        headers.insert(crate::routes::extract::PASSPHRASE_HEADER, value);
    }
    Ok(headers)
}

async fn download(client: &Client, id: &str, output: Option<PathBuf>) -> Result<(), StartupError> {
    let path = format!("/api/v1/backups/{}", app::text::percent_encode(id, b""));
    let info: Backup = client
        .answer(client.request(reqwest::Method::GET, &path))
        .await?
        .value;
    let (Some(sha), Some(size)) = (info.sha256.as_deref(), info.size) else {
        return Err(StartupError::Refused(format!(
            "backup {id} is not complete, so there is nothing to download"
        )));
    };
    let target = match output {
        Some(output) => output,
        None => PathBuf::from(app::domain::backup::download_file_name(
            &info.name,
            info.created_at,
            info.encryption.is_some(),
        )),
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
