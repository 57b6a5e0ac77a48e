//! A backup store for tests: one replica's view of a directory shared by several (as an S3
//! bucket is) — the backup files shared, the scratch area its own — that can hold a job at
//! a gate or refuse deletions, as a hung replica or a store that is down would.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use app::domain::backup::store::{BackupStore, ByteStream, LocalFile, LocalStore, StoreFuture};
use tokio::sync::{Notify, Semaphore};

#[derive(Debug)]
pub struct TestStore {
    shared: LocalStore,
    own: LocalStore,
    /// When set, `put_file` and `local_file` wait here: the `Notify` tells the test that
    /// one was reached, the semaphore lets it pass.
    gate: Option<(Arc<Semaphore>, Arc<Notify>)>,
    /// While set, deletions fail as a store that does not answer would.
    pub refuse_deletes: Arc<AtomicBool>,
}

impl TestStore {
    /// The files of `shared`, with the scratch area of `own`.
    pub fn new(shared: &LocalStore, own: &LocalStore) -> Self {
        Self {
            shared: shared.clone(),
            own: own.clone(),
            gate: None,
            refuse_deletes: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The same, holding every `put_file` and `local_file` at `gate` (closed: no permits).
    pub fn gated(mut self, gate: &Arc<Semaphore>, reached: &Arc<Notify>) -> Self {
        self.gate = Some((Arc::clone(gate), Arc::clone(reached)));
        self
    }

    async fn pass(&self) {
        if let Some((gate, reached)) = &self.gate {
            reached.notify_one();
            gate.acquire().await.expect("the gate").forget();
        }
    }
}

impl BackupStore for TestStore {
    fn scratch_path(&self, name: &str) -> PathBuf {
        self.own.scratch_path(name)
    }
    fn put_file<'a>(&'a self, id: &'a str, scratch: &'a Path) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.pass().await;
            self.shared.put_file(id, scratch).await
        })
    }
    fn put_stream<'a>(&'a self, id: &'a str, bytes: ByteStream) -> StoreFuture<'a, u64> {
        self.shared.put_stream(id, bytes)
    }
    fn size<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<u64>> {
        self.shared.size(id)
    }
    fn modified<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<std::time::SystemTime>> {
        self.shared.modified(id)
    }
    fn get<'a>(&'a self, id: &'a str, range: Option<Range<u64>>) -> StoreFuture<'a, ByteStream> {
        self.shared.get(id, range)
    }
    fn local_file<'a>(&'a self, id: &'a str) -> StoreFuture<'a, LocalFile> {
        Box::pin(async move {
            self.pass().await;
            self.shared.local_file(id).await
        })
    }
    fn delete<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        if self.refuse_deletes.load(Ordering::SeqCst) {
            return Box::pin(std::future::ready(Err(std::io::Error::other(
                "the store is not answering",
            ))));
        }
        self.shared.delete(id)
    }
    fn list(&self) -> StoreFuture<'_, Vec<String>> {
        self.shared.list()
    }
    fn sweep_scratch(&self) -> StoreFuture<'_, usize> {
        self.own.sweep_scratch()
    }
}
