//! Downloading a backup: only a completed one whose file is as it was written, its bytes
//! checked while they stream, a download cut off resumable from where it stopped, every
//! download and every refusal in the audit log.

use crate::types::AuditAction;
use futures_util::StreamExt;

use super::store::ByteStream;
use super::{Engine, get, verify};
use crate::domain::{DomainError, audit};
use crate::types::{BackupInfo, BackupStatus};

/// Which bytes of a file a download asks for (an HTTP `Range` of one part).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// From this byte to the end (`bytes=START-`: a download resumed).
    From(u64),
    /// From the first to the last byte given, both included (`bytes=FIRST-LAST`).
    Between(u64, u64),
    /// The last bytes, this many (`bytes=-N`).
    Last(u64),
}

impl Wanted {
    /// The `Range` header's one part; `None` for anything else (several parts, other units,
    /// nonsense), which a server may answer with the whole file.
    pub fn parse(header: &str) -> Option<Wanted> {
        let spec = header.trim().strip_prefix("bytes=")?.trim();
        if spec.contains(',') {
            return None;
        }
        let (first, last) = spec.split_once('-')?;
        let number = |text: &str| text.trim().parse::<u64>().ok();
        match (first.trim().is_empty(), last.trim().is_empty()) {
            (false, true) => number(first).map(Wanted::From),
            (false, false) => match (number(first), number(last)) {
                (Some(first), Some(last)) if first <= last => Some(Wanted::Between(first, last)),
                _ => None,
            },
            (true, false) => number(last).map(Wanted::Last),
            (true, true) => None,
        }
    }

    /// The bytes of a file of `size` bytes this asks for; `None` when it asks for none of
    /// them (a resumed download past the end).
    pub fn within(self, size: u64) -> Option<std::ops::Range<u64>> {
        let range = match self {
            Wanted::From(first) => first..size,
            Wanted::Between(first, last) => first..last.saturating_add(1).min(size),
            Wanted::Last(count) => size.saturating_sub(count)..size,
        };
        (range.start < range.end).then_some(range)
    }
}

/// A download: the backup, its file's size, and the bytes that go out.
pub struct Download {
    pub backup: BackupInfo,
    pub size: u64,
    pub body: Body,
}

/// What a download sends.
pub enum Body {
    /// The whole file, checked as it streams.
    Whole(ByteStream),
    /// The bytes in the range (a resumed download).
    Part(std::ops::Range<u64>, ByteStream),
    /// None: the range asked for lies outside the file.
    Outside,
}

/// Backup `id`'s file for `actor` to download: whole, or the part `wanted` (to resume).
/// A whole file is checked as it is read: when the bytes turn out not to be the listed
/// file, the stream ends with an error short of the file's length (so nobody keeps a damaged
/// copy for a good one) and the backup is listed as damaged.
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
    wanted: Option<Wanted>,
) -> Result<Download, DomainError> {
    let opened = open(engine, id, wanted).await;
    let (target, detail) = match &opened {
        Ok(download) => {
            let detail = match &download.body {
                Body::Whole(_) => download.backup.name.clone(),
                Body::Part(range, _) => format!(
                    "{} (bytes {}–{} of {}, resumed)",
                    download.backup.name,
                    range.start,
                    range.end - 1,
                    download.size
                ),
                Body::Outside => format!("{} (nothing: past its end)", download.backup.name),
            };
            (download.backup.namespace.clone(), detail)
        }
        Err(_) => (id.to_string(), String::new()),
    };
    let download = audit::audited(
        &engine.db,
        actor,
        AuditAction::BackupDownload,
        &target,
        &detail,
        opened,
    )
    .await?;
    Ok(match download.body {
        Body::Whole(bytes) => Download {
            body: Body::Whole(checked(bytes, engine.clone(), download.backup.clone())),
            ..download
        },
        _ => download,
    })
}

async fn open(engine: &Engine, id: &str, wanted: Option<Wanted>) -> Result<Download, DomainError> {
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
    let Some(size) = engine.store.size(&found.id).await? else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("the file of listed backup {} is missing", found.id),
        )
        .into());
    };
    if let Some(reason) = verify::mismatch_reason(found.size, size, true) {
        if let Err(error) = verify::mark_damaged(engine, &found.id, &reason).await {
            tracing::error!(%error, backup = found.id, "could not list a damaged backup as such");
        }
        return Err(damaged(&found, &reason));
    }
    let body = match wanted.map(|wanted| wanted.within(size)) {
        None => Body::Whole(engine.store.get(&found.id, None).await?),
        Some(Some(range)) => {
            let bytes = engine.store.get(&found.id, Some(range.clone())).await?;
            Body::Part(range, bytes)
        }
        Some(None) => Body::Outside,
    };
    Ok(Download {
        backup: found,
        size,
        body,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_range_is_understood_and_anything_else_means_the_whole_file() {
        assert_eq!(Wanted::parse("bytes=100-"), Some(Wanted::From(100)));
        assert_eq!(Wanted::parse("bytes=0-99"), Some(Wanted::Between(0, 99)));
        assert_eq!(Wanted::parse("bytes=-500"), Some(Wanted::Last(500)));
        for ignored in [
            "bytes=0-1,5-9",
            "items=0-9",
            "bytes=9-0",
            "bytes=-",
            "bytes=a-b",
            "",
        ] {
            assert_eq!(Wanted::parse(ignored), None, "{ignored}");
        }
    }

    #[test]
    fn a_range_is_cut_to_the_file_and_one_outside_it_is_nothing() {
        assert_eq!(Wanted::From(100).within(1000), Some(100..1000));
        assert_eq!(Wanted::Between(0, 99).within(1000), Some(0..100));
        assert_eq!(Wanted::Between(900, 5000).within(1000), Some(900..1000));
        assert_eq!(Wanted::Last(10).within(1000), Some(990..1000));
        assert_eq!(Wanted::Last(5000).within(1000), Some(0..1000));
        assert_eq!(Wanted::From(1000).within(1000), None);
        assert_eq!(Wanted::Last(0).within(1000), None);
    }
}
