//! What the backup engine's tests share: an engine on a fresh database with its files in a
//! directory of its own, a sample namespace, backups made to the end, a zip's entries.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use app::domain::Db;
use app::domain::backup::archive;
use app::domain::backup::store::LocalStore;
use app::domain::backup::{self, Engine};
use app::domain::content::item::{self, NewItem};
use app::domain::content::{folder, namespace};
use app::types::{Access, BackupStatus, ItemKind, JobInfo, JobStatus};

use super::{fresh_db, role, user};

/// An engine on a fresh in-memory database whose backup files are in `dir/backups`.
pub async fn engine_in(dir: &Path) -> Engine {
    Engine::new(fresh_db().await, Arc::new(files_in(dir)))
}

/// The backup files of [`engine_in`]`(dir)`, as a disk reaches them.
pub fn files_in(dir: &Path) -> LocalStore {
    LocalStore::open(&dir.join("backups")).expect("store")
}

/// An engine on a fresh in-memory database, its backup files in a directory of its own.
pub async fn engine() -> Engine {
    engine_in(&tempfile::tempdir().expect("temp dir").keep()).await
}

/// An engine, its files and their directory (removed with it).
pub struct Setup {
    pub engine: Engine,
    /// The engine's store, where tests reach its files as a disk would.
    pub files: LocalStore,
    pub dir: tempfile::TempDir,
}

pub async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    Setup {
        engine: engine_in(dir.path()).await,
        files: files_in(dir.path()),
        dir,
    }
}

/// A namespace with nested folders, permissions of both kinds, every item kind, unicode
/// names, an empty folder and a content large enough to be an entry of its own.
pub async fn sample(db: &Db, ns: &str) {
    namespace::create(db, ns, "Sample — Beispiel")
        .await
        .expect("namespace");
    let top = folder::create(db, ns, None, "Prozesse 日本")
        .await
        .expect("folder");
    let inner = folder::create(db, ns, Some(&top.id), "Orders")
        .await
        .expect("folder");
    folder::create(db, ns, None, "Empty").await.expect("folder");
    folder::set_permissions(
        db,
        ns,
        &inner.id,
        Some(vec![
            role("sales", Access::Write),
            user("ada", Access::Manage),
        ]),
    )
    .await
    .expect("permissions");
    let large = format!(
        "{{\"fields\": [{}]}}",
        (0..4000)
            .map(|i| format!("{{\"name\": \"field {i}\", \"label\": \"Feld {i} ✓\"}}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert!(large.len() > archive::INLINE_MAX);
    let items = [
        (
            None,
            ItemKind::Service,
            "Top service",
            "{\"url\": \"https://x\"}".to_string(),
        ),
        (
            Some(top.id.as_str()),
            ItemKind::Model,
            "Ablauf",
            "<definitions><process id=\"p\"/></definitions>".to_string(),
        ),
        (Some(inner.id.as_str()), ItemKind::Form, "Große Form", large),
        (
            Some(inner.id.as_str()),
            ItemKind::Service,
            "Empty service",
            String::new(),
        ),
    ];
    for (folder, kind, name, content) in items {
        item::create(
            db,
            ns,
            NewItem {
                folder,
                kind,
                name,
                content: &content,
            },
            "ada",
        )
        .await
        .expect("item");
    }
}

/// Backup `name` of namespace `ns`, made to the end and listed as completed: its id.
pub async fn backup_of(setup: &Setup, ns: &str, name: &str) -> String {
    let (backup, job) = backup::create(&setup.engine, ns, name, "admin")
        .await
        .expect("starts");
    assert_eq!(backup.status, BackupStatus::InProgress);
    assert_eq!(
        job.status,
        JobStatus::Queued,
        "a job is queued until its task runs"
    );
    let job = super::job_end(&setup.engine.db, &job.id).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(
        job.done, job.total,
        "a finished backup's job keeps its count: {job:?}"
    );
    let listed = backup::get(&setup.engine.db, &backup.id)
        .await
        .expect("listed");
    assert_eq!(listed.status, BackupStatus::Completed);
    assert_eq!(listed.name, name.trim());
    backup.id
}

/// The entries of a zip in archive order (the map keeps insertion order by index prefix).
pub fn entries(path: &Path) -> indexmap_like::Ordered {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).expect("open")).expect("zip");
    let mut out = indexmap_like::Ordered::default();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("entry");
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        out.push(entry.name().expect("name").to_string(), bytes);
    }
    out
}

pub mod indexmap_like {
    /// Entries in archive order.
    #[derive(Default)]
    pub struct Ordered(Vec<(String, Vec<u8>)>);

    impl Ordered {
        pub fn push(&mut self, name: String, bytes: Vec<u8>) {
            self.0.push((name, bytes));
        }
        pub fn keys(&self) -> impl Iterator<Item = &String> {
            self.0.iter().map(|(k, _)| k)
        }
        pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<u8>)> {
            self.0.iter().map(|(k, v)| (k, v))
        }
    }

    impl std::ops::Index<&String> for Ordered {
        type Output = Vec<u8>;
        fn index(&self, name: &String) -> &Vec<u8> {
            &self.0.iter().find(|(k, _)| k == name).expect("entry").1
        }
    }

    impl<'a> IntoIterator for &'a Ordered {
        type Item = (&'a String, &'a Vec<u8>);
        type IntoIter = Box<dyn Iterator<Item = (&'a String, &'a Vec<u8>)> + 'a>;
        fn into_iter(self) -> Self::IntoIter {
            Box::new(self.iter())
        }
    }
}

/// Everything a namespace holds, keyed by path, comparable across namespaces.
pub async fn snapshot(db: &Db, ns: &str) -> BTreeMap<String, String> {
    let tree = folder::tree(db, ns).await.expect("tree");
    let mut out = BTreeMap::new();
    let path_of = |id: Option<&str>| -> String {
        let mut parts = Vec::new();
        let mut current = id.map(str::to_string);
        while let Some(id) = current {
            let f = tree.folders.iter().find(|f| f.id == id).expect("parent");
            parts.push(f.name.clone());
            current = f.parent.clone();
        }
        parts.reverse();
        parts.join("/")
    };
    for f in &tree.folders {
        out.insert(
            format!("folder {}", path_of(Some(&f.id))),
            format!("{:?}", f.permissions),
        );
    }
    let mut containers: Vec<Option<String>> = vec![None];
    containers.extend(tree.folders.iter().map(|f| Some(f.id.clone())));
    for container in containers {
        for info in item::list(db, ns, container.as_deref())
            .await
            .expect("items")
        {
            let doc = item::get(db, ns, &info.id).await.expect("item");
            out.insert(
                format!("item {}/{}", path_of(container.as_deref()), info.name),
                format!(
                    "{:?} {} r{} {}",
                    info.kind, doc.content, info.revision, info.updated_by
                ),
            );
        }
    }
    out
}

/// Restores backup `id` into namespace `target`: its job, ended.
pub async fn restore_into(setup: &Setup, id: &str, target: &str) -> JobInfo {
    let job = backup::restore(&setup.engine, id, target, "admin")
        .await
        .expect("starts");
    super::job_end(&setup.engine.db, &job.id).await
}
