//! Backup files in a directory of the local file system (the default store).

use std::fs::{self, File};
use std::io::{self, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{BackupStore, ByteStream, LocalFile, StoreFuture, blocking, id_of, sweep_dir};

/// Backup files in a directory: `<dir>/<id>.zip` (or `.zip.age`), scratch files in `<dir>/.scratch/`. Its
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

    /// Where the file `name` is.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Where backup `id`'s file is when it is not encrypted (for tests that damage it as a
    /// disk would).
    pub fn path(&self, id: &str) -> PathBuf {
        self.file(&super::file_name(id, false))
    }

    fn scratch_dir(&self) -> PathBuf {
        self.dir.join(".scratch")
    }
}

/// Makes a rename durable: syncs the directory that holds the new name.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl BackupStore for LocalStore {
    fn scratch_path(&self, name: &str) -> PathBuf {
        self.scratch_dir().join(format!("{name}.zip"))
    }

    fn put_file<'a>(&'a self, id: &'a str, scratch: &'a Path) -> StoreFuture<'a, ()> {
        let (scratch, target, dir) = (scratch.to_path_buf(), self.file(id), self.dir.clone());
        Box::pin(blocking(move || {
            File::open(&scratch)?.sync_all()?;
            fs::rename(&scratch, &target)?;
            sync_dir(&dir)
        }))
    }

    fn put_stream<'a>(&'a self, id: &'a str, mut bytes: ByteStream) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            use futures_util::StreamExt;
            use tokio::io::AsyncWriteExt;

            let scratch = self.scratch_path(&format!("put-{id}"));
            let written = async {
                let mut file = tokio::fs::File::create(&scratch).await?;
                let mut written = 0u64;
                while let Some(chunk) = bytes.next().await {
                    let chunk = chunk?;
                    file.write_all(&chunk).await?;
                    written += chunk.len() as u64;
                }
                file.flush().await?;
                Ok::<_, io::Error>(written)
            }
            .await;
            let stored = match written {
                Ok(written) => self.put_file(id, &scratch).await.map(|()| written),
                Err(error) => Err(error),
            };
            if stored.is_err() {
                let _ = tokio::fs::remove_file(&scratch).await;
            }
            stored
        })
    }

    fn size<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<u64>> {
        let path = self.file(id);
        Box::pin(async move {
            match tokio::fs::metadata(&path).await {
                Ok(metadata) => Ok(Some(metadata.len())),
                Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(error),
            }
        })
    }

    fn modified<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<std::time::SystemTime>> {
        let path = self.file(id);
        Box::pin(async move {
            match tokio::fs::metadata(&path).await {
                Ok(metadata) => metadata.modified().map(Some),
                Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(error),
            }
        })
    }

    fn get<'a>(&'a self, id: &'a str, range: Option<Range<u64>>) -> StoreFuture<'a, ByteStream> {
        let path = self.file(id);
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
        let path = self.file(id);
        Box::pin(async move {
            // A missing file fails here, as a fetch from an object store would.
            tokio::fs::metadata(&path).await?;
            Ok(LocalFile {
                path,
                fetched: false,
            })
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        let (path, dir) = (self.file(id), self.dir.clone());
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
                    && let Some(name) = entry.file_name().to_str()
                    && id_of(name).is_some()
                {
                    ids.push(name.to_string());
                }
            }
            ids.sort();
            Ok(ids)
        }))
    }

    fn sweep_scratch(&self) -> StoreFuture<'_, usize> {
        sweep_dir(self.scratch_dir())
    }
}
