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
    /// The `Range` header's one part. `Ok(None)` for what a server may answer with the whole
    /// file (several parts, other units); an error, as a sentence for the user, for a range
    /// of bytes that is not written as one (`bytes=+1-2`, `bytes=9-0`, `bytes=a-`).
    ///
    /// # Errors
    ///
    /// What is wrong with a malformed range of bytes.
    pub fn parse(header: &str) -> Result<Option<Wanted>, String> {
        let Some(spec) = header.trim().strip_prefix("bytes=") else {
            return Ok(None);
        };
        if spec.contains(',') {
            return Ok(None);
        }
        let malformed = || {
            let shown: String = header.trim().chars().take(60).collect();
            format!(
                "The Range header \u{201c}{shown}\u{201d} is not a range of bytes: send `bytes=FIRST-`, `bytes=FIRST-LAST` or `bytes=-COUNT`, with FIRST \u{2264} LAST."
            )
        };
        // Digits only: Rust's own parsing would take a sign (`+1`) as well.
        let number = |text: &str| {
            (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
                .then(|| text.parse::<u64>().ok())
                .flatten()
        };
        let (first, last) = spec.split_once('-').ok_or_else(malformed)?;
        let wanted = match (first.is_empty(), last.is_empty()) {
            (false, true) => number(first).map(Wanted::From),
            (false, false) => match (number(first), number(last)) {
                (Some(first), Some(last)) if first <= last => Some(Wanted::Between(first, last)),
                _ => None,
            },
            (true, false) => number(last).map(Wanted::Last),
            (true, true) => None,
        };
        wanted.map(Some).ok_or_else(malformed)
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

/// The strong entity tag of a backup's file: its SHA-256, quoted. A backup's file never
/// changes, so a client that holds these bytes holds the file.
pub fn etag(backup: &BackupInfo) -> Option<String> {
    backup.sha256.as_ref().map(|sha| format!("\"{sha}\""))
}

/// The conditions of a download request (`If-None-Match`, `If-Range`), as sent.
#[derive(Clone, Debug, Default)]
pub struct Conditions {
    pub if_none_match: Option<String>,
    pub if_range: Option<String>,
}

impl Conditions {
    /// Whether the client holds the file already: `If-None-Match` names its entity tag
    /// (compared weakly, as RFC 9110 asks) or is `*`.
    fn holds(&self, etag: Option<&str>) -> bool {
        let (Some(header), Some(etag)) = (self.if_none_match.as_deref(), etag) else {
            return false;
        };
        header
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
    }

    /// Whether a range may be sent: no `If-Range`, or one naming the file's entity tag
    /// exactly (a strong comparison; a date or another tag means the client's part may be
    /// of other bytes, so the whole file goes).
    fn range_allowed(&self, etag: Option<&str>) -> bool {
        match self.if_range.as_deref().map(str::trim) {
            None => true,
            Some(validator) => etag.is_some_and(|etag| validator == etag),
        }
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
    /// None: the client holds the file already (`If-None-Match`).
    Unchanged,
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
    conditions: &Conditions,
) -> Result<Download, DomainError> {
    let opened = open(engine, id, wanted, conditions).await;
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
                Body::Unchanged => format!(
                    "{} (nothing: the client holds this file already)",
                    download.backup.name
                ),
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

async fn open(
    engine: &Engine,
    id: &str,
    wanted: Option<Wanted>,
    conditions: &Conditions,
) -> Result<Download, DomainError> {
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
    let file = super::stored_file(&found);
    let Some(size) = engine.store.size(&file).await? else {
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
    let etag = etag(&found);
    if conditions.holds(etag.as_deref()) {
        return Ok(Download {
            backup: found,
            size,
            body: Body::Unchanged,
        });
    }
    let wanted = wanted.filter(|_| conditions.range_allowed(etag.as_deref()));
    let body = match wanted.map(|wanted| wanted.within(size)) {
        None => Body::Whole(engine.store.get(&file, None).await?),
        Some(Some(range)) => {
            let bytes = engine.store.get(&file, Some(range.clone())).await?;
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
    fn one_range_is_understood_other_kinds_mean_the_whole_file_and_nonsense_is_refused() {
        assert_eq!(Wanted::parse("bytes=100-"), Ok(Some(Wanted::From(100))));
        assert_eq!(
            Wanted::parse("bytes=0-99"),
            Ok(Some(Wanted::Between(0, 99)))
        );
        assert_eq!(Wanted::parse("bytes=-500"), Ok(Some(Wanted::Last(500))));
        for whole in ["bytes=0-1,5-9", "items=0-9", ""] {
            assert_eq!(Wanted::parse(whole), Ok(None), "{whole}");
        }
        for refused in [
            "bytes=+1-2",
            "bytes=1-+2",
            "bytes=-+5",
            "bytes=9-0",
            "bytes=-",
            "bytes=a-b",
            "bytes=5",
            "bytes= 1-2",
            "bytes=99999999999999999999999-",
        ] {
            let message = Wanted::parse(refused).expect_err(refused);
            assert!(message.contains("is not a range of bytes"), "{message}");
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
