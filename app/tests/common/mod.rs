//! What the domain tests share: a fresh database, permission shorthands, and the checks of
//! the frozen version-1 fixtures.

#![allow(dead_code)]

pub mod backups;
pub mod store;

use app::domain::db::{self, DbOptions};
use app::domain::{Db, schema};
use app::types::{Access, FolderInfo, NamespaceTree, Permission, Principal, PrincipalKind};

/// A fresh in-memory database at the current schema version.
pub async fn fresh_db() -> Db {
    let db = db::connect(&DbOptions::memory()).await.expect("opens");
    schema::migrate(&db).await.expect("migrates");
    db
}

pub fn role(name: &str, access: Access) -> Permission {
    Permission {
        principal: Principal {
            kind: PrincipalKind::Role,
            name: name.into(),
        },
        access,
    }
}

pub fn user(name: &str, access: Access) -> Permission {
    Permission {
        principal: Principal {
            kind: PrincipalKind::User,
            name: name.into(),
        },
        access,
    }
}

/// Checks the folders of the version-1 fixtures after migration: `Contracts` has structured
/// permissions (version 1 had `KIND:NAME:ACCESS` strings) and `Drafts` inherits them.
/// Returns both folders.
pub fn assert_legacy_folders_migrated(tree: &NamespaceTree) -> (FolderInfo, FolderInfo) {
    let find = |name: &str| {
        tree.folders
            .iter()
            .find(|f| f.name == name)
            .cloned()
            .expect(name)
    };
    let (contracts, drafts) = (find("Contracts"), find("Drafts"));
    assert_eq!(
        contracts.permissions,
        Some(vec![
            role("legal", Access::Manage),
            user("ada", Access::Read)
        ])
    );
    assert_eq!(drafts.permissions, None);
    assert_eq!(
        drafts.effective_permissions,
        contracts.permissions.clone().unwrap_or_default()
    );
    (contracts, drafts)
}

/// The number `query` returns (`$gen` bound to `generation`), once it has come down to 0 —
/// for content that a background sweep removes — or what it still is after 30 seconds.
pub async fn count_eventually_zero(db: &Db, query: &str, generation: &str) -> Option<i64> {
    let mut left = None;
    for _ in 0..300 {
        left = db
            .query(query)
            .bind(("gen", generation.to_string()))
            .await
            .expect("query")
            .take(0)
            .expect("count");
        if left == Some(0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    left
}

/// A small deterministic generator for property-style tests (the seed names a failure).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Job `id` once it has ended (succeeded or failed); panics after a minute (a busy machine
/// is slow, never that slow).
pub async fn job_end(db: &Db, id: &str) -> app::types::JobInfo {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let job = app::domain::backup::jobs::get(db, id).await.expect("job");
        if job.status.is_final() {
            return job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job {id} did not end: {job:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
