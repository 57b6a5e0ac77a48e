//! `nsbackup verify FILE`: a backup file checked offline, as an upload would check it.

use std::path::Path;

use serde_json::json;

use super::client::print_json;
use crate::startup::StartupError;

/// `nsbackup verify FILE`: checks a backup file as an upload would (structure, checksums,
/// records, versions), offline; an encrypted one (`.zip.age`) with the secret keys of
/// `--backup-identity`.
///
/// # Errors
///
/// [`StartupError::Refused`] naming what is wrong with the file (exit code 2; with `json`,
/// the refusal is printed as JSON too); [`StartupError::TooNew`] for a sound file that
/// only a newer version restores (exit code 4, after its report).
pub async fn verify(
    file: &Path,
    keys: &app::domain::backup::archive::Keys,
    json: bool,
) -> Result<(), StartupError> {
    use app::domain::backup::archive;
    let path = file.to_path_buf();
    let keys = keys.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let limits = archive::Limits::default();
        let (schema, namespace, created_at, app_version, counts) =
            match archive::read(&path, &keys, limits, &mut archive::CheckOnly) {
                Ok(checked) => (
                    checked.manifest.schema_version,
                    checked.manifest.namespace,
                    Some(checked.manifest.created_at),
                    Some(checked.manifest.app_version),
                    Some((
                        checked.manifest.counts.folders,
                        checked.manifest.counts.items,
                    )),
                ),
                Err(archive::ArchiveError::TooNew { .. }) => {
                    let newer = archive::check_newer(&path, &keys, limits)?;
                    (
                        newer.schema_version,
                        newer.namespace,
                        newer.created_at,
                        newer.app_version,
                        None,
                    )
                }
                Err(error) => return Err(error),
            };
        let (sha, size) = archive::file_digest(&path)?;
        Ok((
            schema,
            namespace,
            created_at,
            app_version,
            counts,
            sha,
            size,
        ))
    })
    .await
    .map_err(|e| StartupError::Failed(e.to_string()))?;
    let (schema, namespace, created_at, app_version, counts, sha, size) = match checked {
        Ok(checked) => checked,
        Err(error) => {
            let refusal = format!(
                "{} is not a backup this nsbackup accepts: {error}",
                file.display()
            );
            // A script reading JSON gets the refusal as JSON too (and the exit code 2).
            if json {
                print_json(&json!({
                    "file": file.display().to_string(), "sound": false, "restorable": false,
                    "error": refusal,
                }));
            }
            return Err(StartupError::Refused(refusal));
        }
    };
    let verdict = match schema.cmp(&app::types::SCHEMA_VERSION) {
        std::cmp::Ordering::Equal => app::types::Verdict::Current,
        std::cmp::Ordering::Less => app::types::Verdict::Older { from: schema },
        std::cmp::Ordering::Greater => app::types::Verdict::Newer { found: schema },
    };
    let restorable = !matches!(verdict, app::types::Verdict::Newer { .. });
    if json {
        print_json(&json!({
            "file": file.display().to_string(), "sound": true, "restorable": restorable,
            "namespace": namespace, "created_at": created_at,
            "app_version": app_version, "schema_version": schema, "verdict": verdict.words(),
            "folders": counts.map(|c| c.0), "items": counts.map(|c| c.1), "size": size, "sha256": sha,
        }));
    } else {
        println!(
            "{}: a sound backup of namespace {namespace}",
            file.display()
        );
        if let Some(at) = created_at {
            println!(
                "made {} by nsbackup {}",
                at.format("%Y-%m-%d %H:%M:%S UTC"),
                app_version.unwrap_or_default()
            );
        }
        println!("schema {schema}: {}", verdict.words());
        if let Some((folders, items)) = counts {
            println!("{folders} folder(s), {items} item(s)");
        }
        println!("{} bytes, SHA-256 {sha}", size);
    }
    if !restorable {
        return Err(StartupError::TooNew(format!(
            "{} is a sound backup, but only a newer nsbackup can restore it (schema version {schema}; this one has {}): upgrade first",
            file.display(),
            app::types::SCHEMA_VERSION
        )));
    }
    Ok(())
}
