//! What a restore brings back: a backup into another namespace exactly, the replaced content
//! kept as a snapshot, golden backups of every schema version, random namespaces unchanged.

use std::path::Path;

use app::domain::backup::{self, archive};
use app::domain::content::item::NewItem;
use app::domain::content::{folder, item, namespace};
use app::domain::{Db, schema};
use app::types::{Access, ItemKind, JobStatus};

use crate::common;
use crate::common::backups::{backup_of, restore_into, sample, setup, snapshot};
use crate::common::{Rng, role, user};

#[tokio::test]
async fn a_backup_restores_into_another_namespace_exactly() {
    let setup = setup().await;
    let db = &setup.engine.db;
    sample(db, "source").await;
    let id = backup_of(&setup, "source", "  Nightly — 夜間  ").await;
    let listed = backup::list(db).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "Nightly — 夜間", "trimmed");
    let (sha, size) = archive::file_digest(&setup.files.path(&id)).expect("file");
    assert_eq!(listed[0].sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(listed[0].size, Some(size));

    let job = restore_into(&setup, &id, "copy").await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(snapshot(db, "copy").await, snapshot(db, "source").await);
    let info = namespace::get(db, "copy").await.expect("created");
    assert_eq!(info.title, "Sample — Beispiel");
}

#[tokio::test]
async fn a_restore_replaces_everything_and_keeps_the_old_content_as_a_snapshot() {
    let setup = setup().await;
    let db = &setup.engine.db;
    sample(db, "ns").await;
    let before = snapshot(db, "ns").await;
    let id = backup_of(&setup, "ns", "before").await;
    // Change things after the backup.
    folder::create(db, "ns", None, "Added later")
        .await
        .expect("folder");
    let top = item::list(db, "ns", None).await.expect("items");
    item::delete(db, "ns", &top[0].id).await.expect("delete");
    assert_ne!(snapshot(db, "ns").await, before);

    let job = restore_into(&setup, &id, "ns").await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(snapshot(db, "ns").await, before);
    let snapshots: Option<i64> = db
        .query("RETURN count(SELECT * FROM generation WHERE state = 'snapshot')")
        .await
        .expect("q")
        .take(0)
        .expect("t");
    assert_eq!(snapshots, Some(1), "the replaced content is kept");
}

/// The frozen backups of every schema version (never edited; a new one is added when the
/// schema moves): each restores, and older ones are migrated.
#[tokio::test]
async fn golden_backups_of_every_schema_version_restore_and_migrate() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for version in 1..=schema::SCHEMA_VERSION {
        let setup = setup().await;
        let db = &setup.engine.db;
        let golden = fixtures.join(format!("backup-v{version}.zip"));
        assert!(
            golden.exists(),
            "a golden backup for schema version {version}"
        );
        let scratch = setup.engine.store.scratch_path("golden");
        std::fs::copy(&golden, &scratch).expect("copy");
        let (listed, _) = backup::upload(&setup.engine, scratch, "Golden", "legacy", "admin")
            .await
            .unwrap_or_else(|e| panic!("v{version} is accepted: {e}"));
        assert_eq!(listed.schema_version, Some(version), "recorded at upload");
        let job = restore_into(&setup, &listed.id, "legacy").await;
        assert_eq!(job.status, JobStatus::Succeeded, "v{version}: {job:?}");
        let tree = folder::tree(db, "legacy").await.expect("tree");
        let (contracts, _) = common::assert_legacy_folders_migrated(&tree);
        assert_eq!(tree.namespace.title, "Legacy processes");
        let items = item::list(db, "legacy", Some(&contracts.id))
            .await
            .expect("items");
        assert_eq!(items[0].name, "Approval");
        assert_eq!(items[0].revision, 4);
        assert_eq!(items[0].updated_by, "ada");
        if version >= 2 {
            let top = item::list(db, "legacy", None).await.expect("items");
            let large = item::get(db, "legacy", &top[0].id).await.expect("large");
            assert!(large.content.len() > archive::INLINE_MAX, "v{version}");
        }
    }
}

/// A random namespace: a folder tree up to four levels deep (some folders empty, some with
/// permissions of their own), items of every kind with names in several scripts, contents
/// from empty to well above the inline limit.
async fn random_namespace(db: &Db, ns: &str, rng: &mut Rng) {
    const WORDS: &[&str] = &[
        "Order",
        "Bestellung",
        "注文",
        "Заказ",
        "طلب",
        "Ωμέγα",
        "🚀 Launch",
        "a",
        "Zeta",
    ];
    namespace::create(db, ns, "").await.expect("namespace");
    let mut folders: Vec<Option<String>> = vec![None];
    let mut depth = std::collections::HashMap::new();
    for n in 0..rng.below(12) + 1 {
        let parent = rng.pick(&folders).clone();
        let level = parent.as_ref().map_or(0, |p| depth[p]) + 1;
        if level > 4 {
            continue;
        }
        let name = format!("{} {n}", rng.pick(WORDS));
        let created = folder::create(db, ns, parent.as_deref(), &name)
            .await
            .expect("folder");
        if rng.below(3) == 0 {
            let principals = [
                role("sales", Access::Read),
                role("modeler", Access::Write),
                user("ada", Access::Manage),
            ];
            let count = rng.below(4) as usize;
            let list = principals[..count].to_vec();
            folder::set_permissions(db, ns, &created.id, Some(list))
                .await
                .expect("permissions");
        }
        depth.insert(created.id.clone(), level);
        folders.push(Some(created.id));
    }
    const AUTHORS: [&str; 3] = ["ada", "bob", "ümit"];
    for n in 0..rng.below(25) {
        let container = rng.pick(&folders).clone();
        let kind = *rng.pick(&ItemKind::ALL);
        let size = match rng.below(5) {
            0 => 0,
            1 => archive::INLINE_MAX + rng.below(100_000) as usize,
            _ => rng.below(3000) as usize,
        };
        let content = match kind {
            _ if size == 0 => String::new(),
            ItemKind::Model => format!(
                "<definitions><documentation>{}</documentation></definitions>",
                "ü".repeat(size / 2)
            ),
            _ => serde_json::json!({ "text": "ß".repeat(size / 2), "n": n }).to_string(),
        };
        let name = format!("{} {n}", rng.pick(WORDS));
        item::create(
            db,
            ns,
            NewItem {
                folder: container.as_deref(),
                kind,
                name: &name,
                content: &content,
            },
            AUTHORS[rng.below(3) as usize],
        )
        .await
        .expect("item");
    }
}

#[tokio::test]
async fn random_namespaces_survive_a_backup_and_restore_unchanged() {
    let setup = setup().await;
    let db = &setup.engine.db;
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let source = format!("source-{seed}");
        random_namespace(db, &source, &mut rng).await;
        let id = backup_of(&setup, &source, &format!("Seed {seed}")).await;
        let target = format!("target-{seed}");
        let job = restore_into(&setup, &id, &target).await;
        assert_eq!(job.status, JobStatus::Succeeded, "seed {seed}: {job:?}");
        assert_eq!(
            snapshot(db, &target).await,
            snapshot(db, &source).await,
            "seed {seed}"
        );
    }
}
