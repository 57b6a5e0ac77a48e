//! Where backup files live, behind [`BackupStore`]. The trait is shaped for an object store,
//! so that one can follow: files are named by backup id (never by anything a user typed),
//! a file is put whole and is invisible until it is complete, nothing is renamed in place,
//! and a file is read as a stream, from an optional byte range. [`LocalStore`], a directory,
//! is the default.
//!
//! Files are written (and uploads received) as local scratch files first; a reader that
//! must seek (the archive reader) gets a [`LocalFile`].

use std::fs::{self, File};
use std::future::Future;
use std::io::{self, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// What a store's operations return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = io::Result<T>> + Send + 'a>>;

/// A stored file's bytes as they are read.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// A place for backup files.
pub trait BackupStore: Send + Sync + std::fmt::Debug {
    /// A fresh local path for a file being written or received, named `name`. Scratch files
    /// that survive a crash are removed by [`sweep_scratch`](BackupStore::sweep_scratch).
    fn scratch_path(&self, name: &str) -> PathBuf;

    /// Stores the finished local file `scratch` as backup `id`, durably; it is invisible
    /// under `id` until it is complete. The scratch file is used up.
    fn put_file<'a>(&'a self, id: &'a str, scratch: &'a Path) -> StoreFuture<'a, ()>;

    /// The size of backup `id`'s file, `None` when there is none.
    fn size<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<u64>>;

    /// Backup `id`'s bytes, all of them or those in `range`. A missing file is an error of
    /// kind [`io::ErrorKind::NotFound`].
    fn get<'a>(&'a self, id: &'a str, range: Option<Range<u64>>) -> StoreFuture<'a, ByteStream>;

    /// Backup `id`'s file as a local file, for a reader that seeks.
    fn local_file<'a>(&'a self, id: &'a str) -> StoreFuture<'a, LocalFile>;

    /// Removes backup `id`'s file; a missing file is fine.
    fn delete<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()>;

    /// The ids of every stored file, sorted.
    fn list(&self) -> StoreFuture<'_, Vec<String>>;

    /// Removes every scratch file (at start-up, when no job runs). Returns how many.
    fn sweep_scratch(&self) -> StoreFuture<'_, usize>;
}

/// A stored file as a local file, while this value lives.
#[derive(Debug)]
pub struct LocalFile {
    path: PathBuf,
}

impl LocalFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Backup files in a directory: `<dir>/<id>.zip`, scratch files in `<dir>/.scratch/`. Its
/// blocking file work runs off the async threads.
#[derive(Clone, Debug)]
pub struct LocalStore {
    dir: PathBuf,
}

impl LocalStore {
    /// A store in `dir`, created when missing.
    ///
    /// # Errors
    ///
    /// The file system's error when the directories cannot be created.
    pub fn open(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir.join(".scratch"))?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// Where backup `id`'s file is (for tests that damage it as a disk would).
    pub fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.zip"))
    }

    fn scratch_dir(&self) -> PathBuf {
        self.dir.join(".scratch")
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

/// Makes a rename durable: syncs the directory that holds the new name.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The id a stored file's name stands for (`<id>.zip`).
fn id_of(name: &std::ffi::OsStr) -> Option<String> {
    let name = name.to_str()?;
    let id = name.strip_suffix(".zip")?;
    (!id.is_empty() && !id.starts_with('.')).then(|| id.to_string())
}

impl BackupStore for LocalStore {
    fn scratch_path(&self, name: &str) -> PathBuf {
        self.scratch_dir().join(format!("{name}.zip"))
    }

    fn put_file<'a>(&'a self, id: &'a str, scratch: &'a Path) -> StoreFuture<'a, ()> {
        let (scratch, target, dir) = (scratch.to_path_buf(), self.path(id), self.dir.clone());
        Box::pin(blocking(move || {
            File::open(&scratch)?.sync_all()?;
            fs::rename(&scratch, &target)?;
            sync_dir(&dir)
        }))
    }

    fn size<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<u64>> {
        let path = self.path(id);
        Box::pin(async move {
            match tokio::fs::metadata(&path).await {
                Ok(metadata) => Ok(Some(metadata.len())),
                Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(error),
            }
        })
    }

    fn get<'a>(&'a self, id: &'a str, range: Option<Range<u64>>) -> StoreFuture<'a, ByteStream> {
        let path = self.path(id);
        Box::pin(async move {
            let mut file = tokio::fs::File::open(&path).await?;
            let stream: ByteStream = match range {
                None => Box::pin(tokio_util::io::ReaderStream::with_capacity(
                    file,
                    256 * 1024,
                )),
                Some(range) => {
                    file.seek(SeekFrom::Start(range.start)).await?;
                    let length = range.end.saturating_sub(range.start);
                    Box::pin(tokio_util::io::ReaderStream::with_capacity(
                        file.take(length),
                        256 * 1024,
                    ))
                }
            };
            Ok(stream)
        })
    }

    fn local_file<'a>(&'a self, id: &'a str) -> StoreFuture<'a, LocalFile> {
        let path = self.path(id);
        Box::pin(async move {
            // A missing file fails here, as a fetch from an object store would.
            tokio::fs::metadata(&path).await?;
            Ok(LocalFile { path })
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        let (path, dir) = (self.path(id), self.dir.clone());
        Box::pin(blocking(move || match fs::remove_file(&path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => sync_dir(&dir),
        }))
    }

    fn list(&self) -> StoreFuture<'_, Vec<String>> {
        let dir = self.dir.clone();
        Box::pin(blocking(move || {
            let mut ids = Vec::new();
            for entry in fs::read_dir(&dir)? {
                let entry = entry?;
                if entry.file_type()?.is_file()
                    && let Some(id) = id_of(&entry.file_name())
                {
                    ids.push(id);
                }
            }
            ids.sort();
            Ok(ids)
        }))
    }

    fn sweep_scratch(&self) -> StoreFuture<'_, usize> {
        let dir = self.scratch_dir();
        Box::pin(blocking(move || {
            let mut removed = 0;
            for entry in fs::read_dir(&dir)? {
                let path = entry?.path();
                if path.is_file() {
                    fs::remove_file(&path)?;
                    removed += 1;
                }
            }
            Ok(removed)
        }))
    }
}

#[cfg(test)]
mod tests {
    use futures_util::TryStreamExt;

    use super::*;

    async fn read_all(stream: ByteStream) -> Vec<u8> {
        let chunks: Vec<Bytes> = stream.try_collect().await.expect("the bytes");
        chunks.concat()
    }

    #[tokio::test]
    async fn a_file_is_put_whole_read_whole_or_in_part_listed_and_deleted() {
        let dir = tempfile::tempdir().expect("a directory");
        let store = LocalStore::open(dir.path()).expect("a store");
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let scratch = store.scratch_path("writing");
        fs::write(&scratch, &bytes).expect("a scratch file");
        assert_eq!(store.size("b1").await.expect("size"), None);
        assert!(store.list().await.expect("list").is_empty());

        store.put_file("b1", &scratch).await.expect("put");
        assert!(!scratch.exists(), "the scratch file is used up");
        assert_eq!(store.size("b1").await.expect("size"), Some(300_000));
        assert_eq!(
            read_all(store.get("b1", None).await.expect("get")).await,
            bytes
        );
        let part = read_all(store.get("b1", Some(1000..270_000)).await.expect("get")).await;
        assert_eq!(part, bytes[1000..270_000]);
        let tail = read_all(store.get("b1", Some(299_990..400_000)).await.expect("get")).await;
        assert_eq!(tail, bytes[299_990..]);
        let local = store.local_file("b1").await.expect("a local file");
        assert_eq!(fs::read(local.path()).expect("read"), bytes);
        assert_eq!(store.list().await.expect("list"), vec!["b1".to_string()]);

        store.delete("b1").await.expect("delete");
        store.delete("b1").await.expect("a missing file is fine");
        assert_eq!(store.size("b1").await.expect("size"), None);
        let missing = store.get("b1", None).await.err().expect("gone");
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        assert!(store.local_file("b1").await.is_err());
        assert!(store.list().await.expect("list").is_empty());
    }

    #[tokio::test]
    async fn scratch_files_are_swept_and_never_listed() {
        let dir = tempfile::tempdir().expect("a directory");
        let store = LocalStore::open(dir.path()).expect("a store");
        fs::write(store.scratch_path("a"), b"left by a crash").expect("scratch");
        fs::write(store.scratch_path("b"), b"left by a crash").expect("scratch");
        assert!(store.list().await.expect("list").is_empty());
        assert_eq!(store.sweep_scratch().await.expect("sweep"), 2);
        assert_eq!(store.sweep_scratch().await.expect("sweep"), 0);
    }
}
