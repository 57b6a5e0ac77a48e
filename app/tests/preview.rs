//! The restore preview is exact: for random namespaces changed in random ways after their
//! backup, what the preview says a restore will do is what the restore then does.

mod common;

use std::collections::BTreeMap;

use app::domain::backup::{self, Engine, jobs, preview};
use app::domain::content::item::{self, NewItem};
use app::domain::content::{folder, namespace};
use app::domain::{Db, DomainError};
use app::types::{Access, ItemKind, JobStatus};
use common::backups::{engine, engine_in};
use common::{Rng, user};

/// Backup "Base" of namespace `ns`, made to the end.
async fn base_backup(engine: &Engine) -> app::types::BackupInfo {
    let (made, job) = backup::create(engine, "ns", "Base", "admin")
        .await
        .expect("starts");
    assert_eq!(
        common::job_end(&engine.db, &job.id).await.status,
        JobStatus::Succeeded
    );
    made
}

/// Namespace `ns` with folder "Shared" granting `grants`, and user `temp`: the folder's id.
async fn shared_folder(db: &Db, grants: Vec<app::types::Permission>) -> String {
    namespace::create(db, "ns", "").await.expect("namespace");
    let shared = folder::create(db, "ns", None, "Shared")
        .await
        .expect("folder");
    app::domain::users::create(db, "temp", app::types::Role::Modeler, "a long password")
        .await
        .expect("user");
    folder::set_permissions(db, "ns", &shared.id, Some(grants))
        .await
        .expect("permissions");
    shared.id
}

/// Every item of `ns`, by id: (folder, name, content).
async fn content(db: &Db, ns: &str) -> BTreeMap<String, (Option<String>, String, String)> {
    let tree = folder::tree(db, ns).await.expect("tree");
    let mut containers: Vec<Option<String>> = vec![None];
    containers.extend(tree.folders.iter().map(|f| Some(f.id.clone())));
    let mut all = BTreeMap::new();
    for container in containers {
        for info in item::list(db, ns, container.as_deref())
            .await
            .expect("items")
        {
            let document = item::get(db, ns, &info.id).await.expect("item");
            all.insert(
                info.id.clone(),
                (container.clone(), info.name.clone(), document.content),
            );
        }
    }
    all
}

#[tokio::test]
async fn the_preview_counts_what_the_restore_then_does() {
    for seed in 1..=6u64 {
        let engine = engine().await;
        let db = &engine.db;
        let mut rng = Rng(seed * 7919);
        namespace::create(db, "ns", "").await.expect("namespace");
        let folders: Vec<String> = {
            let mut ids = Vec::new();
            for n in 0..3 {
                ids.push(
                    folder::create(db, "ns", None, &format!("Folder {n}"))
                        .await
                        .expect("folder")
                        .id,
                );
            }
            ids
        };
        let mut ids = Vec::new();
        for n in 0..(5 + rng.below(10)) {
            let place = rng.below(4) as usize;
            let new = NewItem {
                folder: folders.get(place).map(String::as_str),
                kind: ItemKind::Service,
                name: &format!("Item {n}"),
                content: &format!("{{\"n\": {n}}}"),
            };
            ids.push(item::create(db, "ns", new, "ada").await.expect("item").id);
        }
        let made = base_backup(&engine).await;

        // Changed in random ways after the backup (saves and new items are edits the
        // restore discards; a rename or a deletion leaves no trace to count).
        let mut edits = 0u64;
        for id in &ids {
            match rng.below(5) {
                0 => item::delete(db, "ns", id).await.expect("deleted"),
                1 => {
                    let now = item::get(db, "ns", id).await.expect("item");
                    item::save_content(
                        db,
                        "ns",
                        id,
                        "{\"changed\": true}",
                        now.info.revision,
                        "ada",
                    )
                    .await
                    .expect("saved");
                    edits += 1;
                }
                2 => {
                    item::rename(db, "ns", id, &format!("Renamed {id}"))
                        .await
                        .expect("renamed");
                }
                _ => {}
            }
        }
        for n in 0..rng.below(4) {
            let new = NewItem {
                folder: None,
                kind: ItemKind::Form,
                name: &format!("Later {n}"),
                content: "{}",
            };
            item::create(db, "ns", new, "ada").await.expect("item");
            edits += 1;
        }

        let preview = preview::preview(&engine, &made.id, "ns")
            .await
            .expect("a preview");
        let before = content(db, "ns").await;
        let job = backup::restore(&engine, &made.id, "ns", "admin")
            .await
            .expect("starts");
        assert_eq!(
            common::job_end(db, &job.id).await.status,
            JobStatus::Succeeded
        );
        let after = content(db, "ns").await;

        let added = after.keys().filter(|id| !before.contains_key(*id)).count() as u64;
        let removed = before.keys().filter(|id| !after.contains_key(*id)).count() as u64;
        let changed = after
            .iter()
            .filter(|(id, now)| before.get(*id).is_some_and(|then| then != *now))
            .count() as u64;
        let unchanged = after
            .iter()
            .filter(|(id, now)| before.get(*id) == Some(now))
            .count() as u64;
        let said = &preview.items;
        assert_eq!(
            (said.added, said.removed, said.changed, said.unchanged),
            (added, removed, changed, unchanged),
            "seed {seed}: the preview said {said:?}"
        );
        assert_eq!(said.added_names.len() as u64, said.added, "seed {seed}");
        assert_eq!(preview.folders.unchanged, 3, "seed {seed}");
        assert!(preview.target_exists);
        assert!(preview.migrations.is_empty());
        // The namespace is the backup's own: what changed since the backup is counted.
        assert_eq!(preview.changed_since_backup, Some(edits), "seed {seed}");
        // The restore's report says the same, with who and how long.
        let report = jobs::get(db, &job.id)
            .await
            .expect("job")
            .report
            .expect("a report");
        assert_eq!(report.items, preview.items, "seed {seed}");
        assert_eq!(report.folders, preview.folders, "seed {seed}");
        assert_eq!(report.started_by, "admin");
        assert_eq!(report.backup_name, "Base");
        assert!(report.finished_at >= report.started_at);
        assert_eq!(
            report.warnings.iter().any(|w| w.contains("were discarded")),
            edits > 0,
            "seed {seed}: {:?}",
            report.warnings
        );
    }
}

#[tokio::test]
async fn a_preview_names_users_this_installation_lacks_and_a_new_namespace_gets_everything() {
    let engine = engine().await;
    let db = &engine.db;
    let shared = shared_folder(
        db,
        vec![user("temp", Access::Write), user("ada", Access::Read)],
    )
    .await;
    item::create(
        db,
        "ns",
        NewItem {
            folder: Some(&shared),
            kind: ItemKind::Service,
            name: "Billing",
            content: "{}",
        },
        "ada",
    )
    .await
    .expect("item");
    let made = base_backup(&engine).await;

    let preview = preview::preview(&engine, &made.id, "elsewhere")
        .await
        .expect("a preview");
    assert!(!preview.target_exists);
    assert_eq!((preview.folders.added, preview.items.added), (1, 1));
    assert_eq!(preview.items.added_names, ["Billing"]);
    assert_eq!(
        preview.changed_since_backup, None,
        "not the backup's own namespace"
    );
    // `ada` never existed here; `temp` does.
    assert_eq!(preview.unknown_principals, ["user ada"]);

    // An edit changes the answer at once.
    let own = preview::preview(&engine, &made.id, "ns")
        .await
        .expect("a preview");
    assert_eq!((own.items.unchanged, own.items.changed), (1, 0));
    let billing = item::list(db, "ns", Some(&shared)).await.expect("items")[0].clone();
    item::rename(db, "ns", &billing.id, "Invoicing")
        .await
        .expect("renamed");
    let own = preview::preview(&engine, &made.id, "ns")
        .await
        .expect("a preview");
    assert_eq!(
        own.items.changed_names,
        ["Billing"],
        "named as the backup has it"
    );
    // A namespace name nobody can have is refused.
    let refused = preview::preview(&engine, &made.id, "Not A Name").await;
    assert!(
        matches!(refused, Err(DomainError::Invalid(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_second_preview_of_a_backup_reads_only_the_namespace_yet_sees_every_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine_in(dir.path()).await;
    let db = &engine.db;
    shared_folder(db, vec![user("temp", Access::Write)]).await;
    for name in ["Billing", "Orders"] {
        let new = NewItem {
            folder: None,
            kind: ItemKind::Service,
            name,
            content: "{}",
        };
        item::create(db, "ns", new, "ada").await.expect("item");
    }
    let made = base_backup(&engine).await;
    let first = preview::preview(&engine, &made.id, "ns")
        .await
        .expect("a preview");
    assert_eq!((first.items.unchanged, first.items.changed), (2, 0));
    assert!(first.unknown_principals.is_empty());

    // The backup's file goes: the backup's side was kept, so the preview still answers, and
    // it answers for the namespace as it is now (an item added, a user gone).
    std::fs::remove_file(dir.path().join("backups").join(format!("{}.zip", made.id)))
        .expect("file removed");
    let new = NewItem {
        folder: None,
        kind: ItemKind::Form,
        name: "Later",
        content: "{}",
    };
    item::create(db, "ns", new, "ada").await.expect("item");
    app::domain::users::delete(db, "temp")
        .await
        .expect("user deleted");
    let second = preview::preview(&engine, &made.id, "ns")
        .await
        .expect("a preview from the kept side");
    assert_eq!(
        (second.items.unchanged, second.items.removed),
        (2, 1),
        "{second:?}"
    );
    assert_eq!(second.items.removed_names, ["Later"]);
    assert_eq!(second.unknown_principals, ["user temp"]);
    assert_eq!(second.changed_since_backup, Some(1));
    // Nothing kept stands in for the file in a restore: the missing file is refused.
    let job = backup::restore(&engine, &made.id, "ns", "admin").await;
    let ended = match job {
        Ok(job) => common::job_end(db, &job.id).await.status,
        Err(_) => JobStatus::Failed,
    };
    assert_eq!(ended, JobStatus::Failed);
    assert_eq!(
        content(db, "ns").await.len(),
        3,
        "the namespace is untouched"
    );
}

#[tokio::test]
async fn a_preview_warns_of_unknown_roles_lists_the_migration_steps_and_refuses_a_newer_backup() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine_in(dir.path()).await;
    shared_folder(
        &engine.db,
        vec![
            common::role("auditors", Access::Read),
            common::role("modeler", Access::Write),
        ],
    )
    .await;
    let made = base_backup(&engine).await;
    let preview = preview::preview(&engine, &made.id, "elsewhere")
        .await
        .expect("a preview");
    assert_eq!(preview.unknown_principals, ["role auditors"]);
    assert!(preview.migrations.is_empty(), "{:?}", preview.migrations);

    // An upload (the file is taken, so a copy of the fixture is sent).
    let upload = |fixture: std::path::PathBuf, name: &'static str| {
        let copy = dir.path().join(format!("{name}.zip"));
        std::fs::copy(&fixture, &copy).expect("copied");
        let engine = engine.clone();
        async move {
            backup::upload(&engine, copy, name, "legacy", "admin")
                .await
                .expect("uploaded")
                .0
        }
    };
    let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // A backup of schema version 1: the steps its content takes to this version.
    let old = upload(manifest_dir.join("tests/fixtures/backup-v1.zip"), "old").await;
    let preview = preview::preview(&engine, &old.id, "legacy")
        .await
        .expect("a preview");
    assert_eq!(
        preview.migrations,
        ["to schema version 2: structured folder permissions"]
    );
    // A backup of a newer nsbackup is kept, but not previewed for a restore.
    let newer = upload(
        manifest_dir.join("../end2end/tests/files/backup-from-a-newer-version.zip"),
        "newer",
    )
    .await;
    let refused = preview::preview(&engine, &newer.id, "legacy").await;
    assert!(
        matches!(&refused, Err(DomainError::Invalid(message)) if message.contains("made by a newer nsbackup")),
        "{refused:?}"
    );
}
