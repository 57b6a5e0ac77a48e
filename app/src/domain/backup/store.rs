//! Where backup files live. Behind a small trait, so that object storage can follow; the
//! local directory is the default.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// A place for backup files, named by backup id (never by anything a user typed).
pub trait BackupStore: Send + Sync + std::fmt::Debug {
    /// A fresh scratch path for a file being written or uploaded. Scratch files that
    /// survive a crash are removed by [`sweep_scratch`](BackupStore::sweep_scratch).
    fn scratch_path(&self, id: &str) -> PathBuf;
    /// Moves a finished, synced scratch file into place as backup `id`, durably.
    ///
    /// # Errors
    ///
    /// The file system's error.
    fn commit(&self, scratch: &Path, id: &str) -> io::Result<()>;
    /// The file of backup `id`, for reading.
    fn path(&self, id: &str) -> PathBuf;
    /// Removes backup `id`'s file; a missing file is fine.
    ///
    /// # Errors
    ///
    /// The file system's error.
    fn delete(&self, id: &str) -> io::Result<()>;
    /// Removes every scratch file (at start-up, when no job runs). Returns how many.
    ///
    /// # Errors
    ///
    /// The file system's error.
    fn sweep_scratch(&self) -> io::Result<usize>;
}

/// Backup files in a directory: `<dir>/<id>.zip`, scratch files in `<dir>/.scratch/`.
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

    fn scratch_dir(&self) -> PathBuf {
        self.dir.join(".scratch")
    }
}

/// Makes a rename durable: syncs the directory that holds the new name.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl BackupStore for LocalStore {
    fn scratch_path(&self, id: &str) -> PathBuf {
        self.scratch_dir().join(format!("{id}.zip"))
    }

    fn commit(&self, scratch: &Path, id: &str) -> io::Result<()> {
        File::open(scratch)?.sync_all()?;
        fs::rename(scratch, self.path(id))?;
        sync_dir(&self.dir)
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.zip"))
    }

    fn delete(&self, id: &str) -> io::Result<()> {
        match fs::remove_file(self.path(id)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => sync_dir(&self.dir),
        }
    }

    fn sweep_scratch(&self) -> io::Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(self.scratch_dir())? {
            let path = entry?.path();
            if path.is_file() {
                fs::remove_file(&path)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}
