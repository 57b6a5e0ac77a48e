//! Downloading a backup: only a completed one whose file is as it was written, its bytes
//! checked while they stream, every download and every refusal in the audit log.

use crate::types::AuditAction;
use futures_util::StreamExt;

use super::store::ByteStream;
use super::{Engine, get, verify};
use crate::domain::{DomainError, audit};
use crate::types::{BackupInfo, BackupStatus};

/// Backup `id` and its file's bytes for `actor` to download. The bytes are checked as they
/// are read: when they turn out not to be the listed file, the stream ends with an error
/// short of the file's length (so nobody keeps a damaged copy for a good one) and the backup
/// is listed as damaged.
///
/// # Errors
///
/// [`DomainError::NotFound`] for an unknown backup, [`DomainError::Conflict`] for one that
/// is not complete or is damaged (it is then listed as such), [`DomainError::Io`] when its
/// file cannot be read.
pub async fn download(
    engine: &Engine,
    id: &str,
    actor: &str,
) -> Result<(BackupInfo, ByteStream), DomainError> {
    let opened = open(engine, id).await;
    let (target, detail) = match &opened {
        Ok((backup, _)) => (backup.namespace.clone(), backup.name.clone()),
        Err(_) => (id.to_string(), String::new()),
    };
    let (found, bytes) = audit::audited(
        &engine.db,
        actor,
        AuditAction::BackupDownload,
        &target,
        &detail,
        opened,
    )
    .await?;
    let checked = checked(bytes, engine.clone(), found.clone());
    Ok((found, checked))
}

async fn open(engine: &Engine, id: &str) -> Result<(BackupInfo, ByteStream), DomainError> {
    let found = get(&engine.db, id).await?;
    if found.status == BackupStatus::Damaged {
        return Err(damaged(&found, found.error.as_deref().unwrap_or_default()));
    }
    if found.status != BackupStatus::Completed {
        return Err(DomainError::Conflict(format!(
            "Backup \u{201c}{}\u{201d} is not complete, so there is nothing to download.",
            found.name
        )));
    }
    let Some(length) = engine.store.size(&found.id).await? else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("the file of listed backup {} is missing", found.id),
        )
        .into());
    };
    if let Some(reason) = verify::mismatch_reason(found.size, length, true) {
        if let Err(error) = verify::mark_damaged(engine, &found.id, &reason).await {
            tracing::error!(%error, backup = found.id, "could not list a damaged backup as such");
        }
        return Err(damaged(&found, &reason));
    }
    let bytes = engine.store.get(&found.id, None).await?;
    Ok((found, bytes))
}

fn damaged(backup: &BackupInfo, reason: &str) -> DomainError {
    DomainError::Conflict(format!(
        "Backup \u{201c}{}\u{201d} is damaged: {reason} It cannot be downloaded; delete it, or upload an intact copy.",
        backup.name
    ))
}

/// The file's bytes as they are read, hashed on the way. The last chunk is held back until
/// the whole file is hashed: when the bytes turn out not to be the listed file, the stream
/// ends with an error instead of a clean end (a browser then reports the download failed),
/// and the backup is listed as damaged.
fn checked(bytes: ByteStream, engine: Engine, listed: BackupInfo) -> ByteStream {
    struct State {
        bytes: ByteStream,
        check: verify::StreamCheck,
        held: Option<bytes::Bytes>,
        engine: Engine,
        listed: BackupInfo,
    }
    let state = State {
        bytes,
        check: verify::StreamCheck::default(),
        held: None,
        engine,
        listed,
    };
    Box::pin(futures_util::stream::unfold(
        Some(state),
        |state| async move {
            let mut state = state?;
            loop {
                match state.bytes.next().await {
                    Some(Ok(chunk)) => {
                        state.check.update(&chunk);
                        if let Some(previous) = state.held.replace(chunk) {
                            return Some((Ok(previous), Some(state)));
                        }
                    }
                    Some(Err(error)) => return Some((Err(error), None)),
                    None => {
                        let State {
                            check,
                            held,
                            engine,
                            listed,
                            ..
                        } = state;
                        let Some(reason) = check.finish(&listed) else {
                            return held.map(|last| (Ok(last), None));
                        };
                        if let Err(error) = verify::mark_damaged(&engine, &listed.id, &reason).await
                        {
                            tracing::error!(%error, backup = listed.id, "could not list a damaged backup as such");
                        }
                        return Some((Err(std::io::Error::other(reason)), None));
                    }
                }
            }
        },
    ))
}
