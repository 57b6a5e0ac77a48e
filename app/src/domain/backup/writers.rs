//! Writing a restored generation: the archive reader's batches go to two database writers.

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::mpsc;

use super::Engine;
use super::archive::{self, ArchiveError, FolderRecord, ItemRecord};
use super::faults::pause_point;
use super::progress::Progress;
use crate::domain::DomainError;

/// A batch of records for the database, from the archive reader's thread.
pub(super) enum Batch {
    Folders(Vec<serde_json::Value>),
    /// Item records as the database stores them, keyed `[generation, id]`.
    Items(surrealdb::types::Value, u64),
}

/// Sends records in batches from the archive reader to the writers of the new generation.
pub(super) struct Batcher {
    sender: mpsc::Sender<Batch>,
    generation: String,
    folders: Vec<serde_json::Value>,
    items: Vec<surrealdb::types::Value>,
    /// The bytes of content in `items`.
    content_bytes: usize,
}

/// Records per batch.
pub(super) const BATCH: usize = 500;

/// Bytes of content per batch, at most (and one item more): a batch is one transaction, and
/// the storage engine refuses a commit larger than its memory table (a gibibyte of large
/// contents in one batch failed with "Memtable arena is full").
pub(super) const BATCH_BYTES: usize = 8 << 20;

/// Batches written at the same time. Two writers keep the storage engine's grouped commits
/// busy (one waits for its commit while the other inserts): a restore writes about twice as
/// fast as with one, and more writers than that only contend.
pub(super) const WRITERS: usize = 2;

impl Batcher {
    fn send(&self, batch: Batch) -> Result<(), ArchiveError> {
        self.sender
            .blocking_send(batch)
            .map_err(|_| ArchiveError::io("the restore stopped writing"))
    }

    fn flush(&mut self) -> Result<(), ArchiveError> {
        if !self.folders.is_empty() {
            let folders = std::mem::take(&mut self.folders);
            self.send(Batch::Folders(folders))?;
        }
        if !self.items.is_empty() {
            self.content_bytes = 0;
            let items = std::mem::take(&mut self.items);
            let count = items.len() as u64;
            self.send(Batch::Items(
                surrealdb::types::Value::Array(items.into()),
                count,
            ))?;
        }
        Ok(())
    }

    /// An item as the database stores it: typed values (a record id, datetimes) built here,
    /// on the reader's thread, so that the database only writes them.
    fn item_value(&self, item: ItemRecord, content: String) -> surrealdb::types::Value {
        use surrealdb::types::{Datetime, Object, RecordId, Value};
        let now = Utc::now();
        let key = surrealdb::types::Array::from(vec![
            Value::String(self.generation.clone()),
            Value::String(item.id),
        ]);
        let mut record = Object::new();
        let mut set = |field: &str, value: Value| {
            record.insert(field.to_string(), value);
        };
        set("id", Value::RecordId(RecordId::new("item", key)));
        set("gen", Value::String(self.generation.clone()));
        if let Some(folder) = item.folder {
            set("folder", Value::String(folder));
        }
        set("kind", Value::String(item.kind.as_str().to_string()));
        set("name", Value::String(item.name));
        set(
            "size",
            Value::from_t(i64::try_from(content.len()).unwrap_or(i64::MAX)),
        );
        set("content", Value::String(content));
        set(
            "revision",
            Value::from_t(i64::try_from(item.revision).unwrap_or(i64::MAX)),
        );
        set(
            "created_at",
            Value::Datetime(Datetime::from(item.created_at.unwrap_or(now))),
        );
        set(
            "updated_at",
            Value::Datetime(Datetime::from(item.updated_at.unwrap_or(now))),
        );
        set("updated_by", Value::String(item.updated_by));
        Value::Object(record)
    }
}

impl archive::Visitor for Batcher {
    fn folder(&mut self, folder: FolderRecord) -> Result<(), ArchiveError> {
        let value = serde_json::to_value(folder).map_err(ArchiveError::io)?;
        self.folders.push(value);
        if self.folders.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn item(&mut self, item: ItemRecord, content: String) -> Result<(), ArchiveError> {
        // Folders all come first; they go out before the first item.
        if !self.folders.is_empty() {
            self.flush()?;
        }
        self.content_bytes += content.len();
        let value = self.item_value(item, content);
        self.items.push(value);
        if self.items.len() >= BATCH || self.content_bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// The restore's first pass checked every content; this pass verifies the SHA-256 sums
    /// again, so the bytes are the ones checked.
    fn check_contents(&self) -> bool {
        false
    }
}

/// What a restore writes: the backup's file at `path`, holding `total` items, into
/// generation `generation` of namespace `target`.
pub(super) struct Writing<'a> {
    pub target: &'a str,
    pub path: &'a Path,
    pub generation: &'a str,
    pub total: u64,
}

pub(super) async fn write_generation(
    engine: &Engine,
    keys: &Arc<super::archive::Keys>,
    progress: &Arc<dyn Progress>,
    writing: Writing<'_>,
) -> Result<(), DomainError> {
    let Writing {
        target,
        path,
        generation,
        total,
    } = writing;
    let (sender, receiver) = mpsc::channel::<Batch>(2 * WRITERS);
    let limits = engine.limits;
    let keys = Arc::clone(keys);
    let source = path.to_path_buf();
    let batcher = Batcher {
        sender,
        generation: generation.to_string(),
        folders: Vec::new(),
        items: Vec::new(),
        content_bytes: 0,
    };
    let reader = tokio::task::spawn_blocking(move || -> Result<(), ArchiveError> {
        let mut batcher = batcher;
        archive::read(&source, &keys, limits, &mut batcher)?;
        batcher.flush()
    });
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..WRITERS {
        let writer = Writer {
            engine: engine.clone(),
            progress: Arc::clone(progress),
            target: target.to_string(),
            generation: generation.to_string(),
            total,
            receiver: Arc::clone(&receiver),
            done: Arc::clone(&done),
        };
        writers.spawn(writer.run());
    }
    let mut failed = None;
    while let Some(result) = writers.join_next().await {
        let result = result
            .map_err(DomainError::stopped("a restore writer"))
            .and_then(|written| written);
        if let Err(error) = result {
            failed.get_or_insert(error);
        }
    }
    // Whatever the writers did, the reader stops once the channel is gone.
    drop(receiver);
    let read = reader
        .await
        .map_err(DomainError::stopped("the restore reader"))?;
    if let Some(error) = failed {
        return Err(error);
    }
    read?;
    Ok(())
}

/// One writer of a restore: takes batches until there are none left, or one fails (then
/// it closes the channel, so that the other writers and the reader stop too).
pub(super) struct Writer {
    engine: Engine,
    progress: Arc<dyn Progress>,
    /// The namespace restored into.
    target: String,
    generation: String,
    total: u64,
    receiver: Arc<tokio::sync::Mutex<mpsc::Receiver<Batch>>>,
    done: Arc<std::sync::atomic::AtomicU64>,
}

impl Writer {
    async fn run(self) -> Result<(), DomainError> {
        loop {
            let batch = self.receiver.lock().await.recv().await;
            let Some(batch) = batch else {
                return Ok(());
            };
            if let Err(error) = self.write(batch).await {
                self.receiver.lock().await.close();
                return Err(error);
            }
        }
    }

    async fn write(&self, batch: Batch) -> Result<(), DomainError> {
        let db = &self.engine.db;
        match batch {
            Batch::Folders(folders) => {
                db.query(
                    "FOR $f IN $folders {
                         CREATE type::record('folder', [$gen, $f.id]) CONTENT {
                             gen: $gen, parent: $f.parent ?? NONE, name: $f.name,
                             permissions: $f.permissions ?? NONE,
                             created_at: IF $f.created_at { <datetime>$f.created_at } ELSE { time::now() }
                         };
                     };",
                )
                .bind(("gen", self.generation.clone()))
                .bind(("folders", serde_json::Value::Array(folders)))
                .await?
                .check()?;
            }
            Batch::Items(items, count) => {
                db.query("INSERT INTO item $items RETURN NONE")
                    .bind(("items", items))
                    .await?
                    .check()?;
                let done = self
                    .done
                    .fetch_add(count, std::sync::atomic::Ordering::Relaxed)
                    + count;
                // Progress is for the watcher; a restore does not fail for want of it.
                let _ = self.progress.tick("writing items", done, self.total).await;
                pause_point("restore:writing", &self.target).await;
            }
        }
        Ok(())
    }
}
