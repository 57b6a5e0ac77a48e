//! Where backup files live, behind [`BackupStore`]. The trait is shaped for an object store,
//! so that one can follow: files are named by backup id (never by anything a user typed):
//! `<id>.zip`, or `<id>.zip.age` when the backup is encrypted ([`file_name`]);
//! a file is put whole and is invisible until it is complete, nothing is renamed in place,
//! and a file is read as a stream, from an optional byte range. [`LocalStore`], a directory,
//! is the default.
//!
//! Files are written (and uploads received) as local scratch files first; a reader that
//! must seek (the archive reader) gets a [`LocalFile`].
//!
//! [`LocalStore`] (`local.rs`) keeps files in a directory; [`S3Store`] (`s3.rs`) in an S3
//! bucket, for backups away from the machine whose data they protect.

mod local;
mod s3;

pub use self::local::LocalStore;
pub use self::s3::{PART_SIZE, S3Options, S3Store};

use std::future::Future;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;

/// What a store's operations return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = io::Result<T>> + Send + 'a>>;

/// A stored file's bytes as they are read.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// A place for backup files.
pub trait BackupStore: Send + Sync + std::fmt::Debug {
    /// A fresh local path for a file being written or received, named `name`. Scratch files
    /// that survive a crash are removed by [`sweep_scratch`](BackupStore::sweep_scratch).
    fn scratch_path(&self, name: &str) -> PathBuf;

    /// Stores the finished local file `scratch` as the file `name` ([`file_name`]),
    /// durably; it is invisible under `name` until it is complete. The scratch file is used
    /// up.
    fn put_file<'a>(&'a self, name: &'a str, scratch: &'a Path) -> StoreFuture<'a, ()>;

    /// Stores the bytes of `bytes` as the file `name`, durably; it is invisible under `name`
    /// until it is complete, and a stream that fails stores nothing. Returns how many bytes.
    fn put_stream<'a>(&'a self, name: &'a str, bytes: ByteStream) -> StoreFuture<'a, u64>;

    /// The size of the file `name`, `None` when there is none.
    fn size<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<u64>>;

    /// When the file `name` was stored, `None` when there is none.
    fn modified<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<std::time::SystemTime>>;

    /// The bytes of the file `name`, all of them or those in `range`. A missing file is an
    /// error of kind [`io::ErrorKind::NotFound`].
    fn get<'a>(&'a self, name: &'a str, range: Option<Range<u64>>) -> StoreFuture<'a, ByteStream>;

    /// The file `name` as a local file, for a reader that seeks.
    fn local_file<'a>(&'a self, name: &'a str) -> StoreFuture<'a, LocalFile>;

    /// Removes the file `name`, and whatever an unfinished upload of it left; a missing file
    /// is fine.
    fn delete<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ()>;

    /// Aborts the uploads that were begun more than `older_than` ago and never finished (their
    /// process died). Returns how many. A store whose writes cannot be left unfinished
    /// (the local one) has none.
    fn abort_stale_uploads(&self, older_than: std::time::Duration) -> StoreFuture<'_, usize> {
        let _ = older_than;
        Box::pin(std::future::ready(Ok(0)))
    }

    /// The names of every stored backup file ([`file_name`]), sorted.
    fn list(&self) -> StoreFuture<'_, Vec<String>>;

    /// Removes every scratch file (at start-up, when no job runs). Returns how many.
    fn sweep_scratch(&self) -> StoreFuture<'_, usize>;
}

/// A stored file as a local file, while this value lives: the stored file itself, or a
/// copy fetched into the scratch area that goes when this value does.
#[derive(Debug)]
pub struct LocalFile {
    path: PathBuf,
    fetched: bool,
}

impl LocalFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LocalFile {
    fn drop(&mut self) {
        if self.fetched
            && let Err(error) = std::fs::remove_file(&self.path)
            && error.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(%error, path = %self.path.display(), "could not remove a fetched copy of a backup; it is removed at the next start");
        }
    }
}

/// Runs blocking file work on a thread meant for it.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| io::Error::other(format!("a file task stopped: {error}")))?
}

/// Removes every file in the scratch directory `dir` (at start-up, when no job runs).
/// Returns how many.
fn sweep_dir(dir: PathBuf) -> StoreFuture<'static, usize> {
    Box::pin(blocking(move || {
        let mut removed = 0;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_file() {
                std::fs::remove_file(&path)?;
                removed += 1;
            }
        }
        Ok(removed)
    }))
}

/// The name of backup `id`'s file: `<id>.zip`, or `<id>.zip.age` when it is encrypted.
pub fn file_name(id: &str, sealed: bool) -> String {
    if sealed {
        format!("{id}.zip.age")
    } else {
        format!("{id}.zip")
    }
}

/// Removes backup `id`'s file, whichever it is (plain or encrypted; a missing one is fine).
///
/// # Errors
///
/// The first error of the store.
pub async fn delete_backup(store: &dyn BackupStore, id: &str) -> io::Result<()> {
    store.delete(&file_name(id, false)).await?;
    store.delete(&file_name(id, true)).await
}

/// The name of backup `id`'s file in `store`, plain or encrypted; `None` when there is none.
///
/// # Errors
///
/// An error of the store.
pub async fn find_backup(store: &dyn BackupStore, id: &str) -> io::Result<Option<String>> {
    for sealed in [false, true] {
        let name = file_name(id, sealed);
        if store.size(&name).await?.is_some() {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// The backup id a stored file's name stands for, and whether it is encrypted; `None` for a
/// name that is no backup's file.
pub fn id_of(name: &str) -> Option<(String, bool)> {
    let (id, sealed) = match name.strip_suffix(".zip.age") {
        Some(id) => (id, true),
        None => (name.strip_suffix(".zip")?, false),
    };
    (!id.is_empty() && !id.starts_with('.') && !id.contains('/') && !id.contains('.'))
        .then(|| (id.to_string(), sealed))
}

/// What [`move_into`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Moved {
    /// Files copied into the target and removed from the directory.
    pub moved: usize,
    /// Files the target held already (same size); removed from the directory.
    pub already_there: usize,
}

/// Moves every backup file of the directory store `from` into `to` (another store, such as
/// an S3 bucket): each is put whole, its size checked in `to`, and only then removed from
/// `from`. A file that fails stops the move with the error; what was moved stays moved, and
/// the rest stays where it was, so it can simply run again.
///
/// # Errors
///
/// The first file system or store error, naming the file.
pub async fn move_into(from: &LocalStore, to: &dyn BackupStore) -> io::Result<Moved> {
    let mut done = Moved::default();
    for id in from.list().await? {
        let Some(size) = from.size(&id).await? else {
            continue;
        };
        let failed = |error: io::Error| io::Error::new(error.kind(), format!("{id}: {error}"));
        if to.size(&id).await.map_err(failed)? == Some(size) {
            from.delete(&id).await.map_err(failed)?;
            done.already_there += 1;
            continue;
        }
        // Put a copy: the directory's own file stays until the target holds it whole.
        let copy = to.scratch_path(&format!("move-{id}"));
        tokio::fs::copy(from.file(&id), &copy)
            .await
            .map_err(failed)?;
        let put = to.put_file(&id, &copy).await;
        let _ = tokio::fs::remove_file(&copy).await;
        put.map_err(failed)?;
        match to.size(&id).await.map_err(failed)? {
            Some(stored) if stored == size => from.delete(&id).await.map_err(failed)?,
            stored => {
                return Err(failed(io::Error::other(format!(
                    "the target holds {} bytes where {size} were sent",
                    stored.unwrap_or(0)
                ))));
            }
        }
        done.moved += 1;
    }
    Ok(done)
}
