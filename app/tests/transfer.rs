//! Exporting one folder or item and importing it elsewhere, on a fresh database per test.

mod common;

use app::domain::content::item::NewItem;
use app::domain::content::transfer::{self, ExportTarget};
use app::domain::content::{folder, item, namespace};
use app::domain::{Db, DomainError, schema};
use app::types::{Access, ClashPolicy, ItemKind};
use common::{assert_legacy_folders_migrated, fresh_db, role};

async fn two_namespaces() -> Db {
    let db = fresh_db().await;
    namespace::create(&db, "source", "").await.expect("source");
    namespace::create(&db, "target", "").await.expect("target");
    db
}

async fn generations(db: &Db) -> usize {
    let count: Option<i64> = db
        .query("RETURN count(SELECT * FROM generation)")
        .await
        .expect("q")
        .take(0)
        .expect("t");
    usize::try_from(count.unwrap_or(0)).unwrap_or(0)
}

#[tokio::test]
async fn a_folder_travels_with_its_subfolders_items_and_permissions() {
    let db = two_namespaces().await;
    let top = folder::create(&db, "source", None, "Processes")
        .await
        .expect("folder");
    let inner = folder::create(&db, "source", Some(&top.id), "Orders")
        .await
        .expect("folder");
    folder::set_permissions(
        &db,
        "source",
        &inner.id,
        Some(vec![role("sales", Access::Write)]),
    )
    .await
    .expect("perm");
    let new = |folder, kind, name, content| NewItem {
        folder: Some(folder),
        kind,
        name,
        content,
    };
    item::create(
        &db,
        "source",
        new(&top.id, ItemKind::Model, "Flow", "<definitions/>"),
        "ada",
    )
    .await
    .expect("item");
    item::create(
        &db,
        "source",
        new(&inner.id, ItemKind::Service, "Order API", "{\"a\":1}"),
        "ada",
    )
    .await
    .expect("item");

    let (file_name, file) = transfer::export(&db, "source", &ExportTarget::Folder(top.id.clone()))
        .await
        .expect("exports");
    assert_eq!(file_name, "Processes.export.json");
    let text = serde_json::to_string(&file).expect("serializes");

    let report = transfer::import(&db, "target", None, &text, ClashPolicy::Refuse, true, "bob")
        .await
        .expect("imports");
    assert_eq!(
        (
            report.name.as_str(),
            report.folders,
            report.items,
            report.renamed
        ),
        ("Processes", 2, 2, false)
    );
    let tree = folder::tree(&db, "target").await.expect("tree");
    let processes = tree
        .folders
        .iter()
        .find(|f| f.name == "Processes")
        .expect("root");
    let orders = tree
        .folders
        .iter()
        .find(|f| f.name == "Orders")
        .expect("child");
    assert_eq!(orders.parent.as_deref(), Some(processes.id.as_str()));
    assert_eq!(orders.permissions, Some(vec![role("sales", Access::Write)]));
    assert_ne!(processes.id, top.id, "imported entries get fresh ids");
    let api = item::list(&db, "target", Some(&orders.id))
        .await
        .expect("items");
    assert_eq!(api.len(), 1);
    assert_eq!(
        item::get(&db, "target", &api[0].id)
            .await
            .expect("get")
            .content,
        "{\"a\":1}"
    );
    assert_eq!(api[0].updated_by, "bob");
    assert_eq!(
        generations(&db).await,
        2,
        "the import's scratch generation is gone"
    );
}

#[tokio::test]
async fn a_name_clash_is_refused_or_imported_as_a_copy_never_overwritten() {
    let db = two_namespaces().await;
    let original = item::create(
        &db,
        "source",
        NewItem {
            folder: None,
            kind: ItemKind::Form,
            name: "Intake",
            content: "{\"v\":1}",
        },
        "ada",
    )
    .await
    .expect("item");
    let (_, file) = transfer::export(&db, "source", &ExportTarget::Item(original.id.clone()))
        .await
        .expect("exports");
    let text = serde_json::to_string(&file).expect("serializes");

    let error = transfer::import(&db, "source", None, &text, ClashPolicy::Refuse, true, "ada")
        .await
        .expect_err("clash");
    assert!(
        matches!(&error, DomainError::Conflict(m) if m.contains("`Intake` exists") && m.contains("as a copy")),
        "{error:?}"
    );
    assert_eq!(
        item::list(&db, "source", None).await.expect("list").len(),
        1,
        "nothing written"
    );

    let first = transfer::import(&db, "source", None, &text, ClashPolicy::Copy, true, "ada")
        .await
        .expect("copy");
    let second = transfer::import(&db, "source", None, &text, ClashPolicy::Copy, true, "ada")
        .await
        .expect("copy");
    assert_eq!((first.name.as_str(), first.renamed), ("Intake (2)", true));
    assert_eq!(second.name, "Intake (3)");
    assert_eq!(
        item::get(&db, "source", &original.id)
            .await
            .expect("get")
            .content,
        "{\"v\":1}"
    );
}

#[tokio::test]
async fn the_frozen_version_1_export_is_migrated_on_import() {
    let db = two_namespaces().await;
    let text = include_str!("fixtures/export-v1.json");
    let report = transfer::import(&db, "target", None, text, ClashPolicy::Refuse, true, "ada")
        .await
        .expect("imports");
    assert_eq!(report.migrated_from, Some(1));
    let tree = folder::tree(&db, "target").await.expect("tree");
    let (_contracts, drafts) = assert_legacy_folders_migrated(&tree);
    assert_eq!(
        item::list(&db, "target", Some(&drafts.id))
            .await
            .expect("items")[0]
            .name,
        "Intake form"
    );
}

#[tokio::test]
async fn bad_files_are_refused_with_a_reason_and_leave_nothing_behind() {
    let db = two_namespaces().await;
    let v1 = include_str!("fixtures/export-v1.json");
    let newer = v1.replace(
        "\"schema_version\": 1",
        &format!("\"schema_version\": {}", schema::SCHEMA_VERSION + 1),
    );
    let orphan = v1.replace("\"folder\": \"f000000000000002\"", "\"folder\": \"f999\"");
    let loop_ = v1.replace("\"parent\": null", "\"parent\": \"f000000000000002\"");
    let bad_json = v1.replace("{\\\"fields\\\"", "{fields");
    let cases = [
        ("not json at all", "not JSON"),
        ("{\"format\": \"zip\"}", "not an nsbackup export"),
        (newer.as_str(), "Upgrade the server to import it"),
        (
            orphan.as_str(),
            "refers to a folder that is not in the file",
        ),
        (loop_.as_str(), "exactly one top folder"),
        (bad_json.as_str(), "not valid JSON"),
    ];
    for (text, expected) in cases {
        let error = transfer::import(&db, "target", None, text, ClashPolicy::Copy, true, "ada")
            .await
            .expect_err(expected);
        assert!(
            matches!(&error, DomainError::Invalid(m) if m.contains(expected)),
            "{expected}: {error:?}"
        );
    }
    assert!(
        folder::tree(&db, "target")
            .await
            .expect("tree")
            .folders
            .is_empty(),
        "nothing imported"
    );
    assert_eq!(generations(&db).await, 2, "no scratch generation left");
}

/// An export file of a chain of `depth` folders, the outermost with permissions of its own,
/// and the folder names given.
fn chain_file(depth: usize, names: &[&str]) -> String {
    let folders: Vec<serde_json::Value> = (0..depth)
        .map(|i| {
            serde_json::json!({
                "id": format!("f{i}"),
                "parent": (i > 0).then(|| format!("f{}", i - 1)),
                "name": names.get(i).map_or_else(|| format!("Level {i}"), |n| (*n).to_string()),
                "permissions": (i == 0).then(|| serde_json::json!([
                    {"principal": {"kind": "user", "name": "mia"}, "access": "manage"}
                ])),
            })
        })
        .collect();
    serde_json::json!({
        "format": "nsbackup-export", "format_version": 1, "schema_version": schema::SCHEMA_VERSION,
        "app_version": "test", "exported_at": "2026-01-01T00:00:00Z", "namespace": "source",
        "folders": folders, "items": []
    })
    .to_string()
}

#[tokio::test]
async fn an_import_that_would_nest_folders_too_deep_is_refused() {
    let db = two_namespaces().await;
    let max = app::validate::FOLDER_DEPTH_MAX;
    let fits = chain_file(max, &[]);
    transfer::import(&db, "target", None, &fits, ClashPolicy::Refuse, true, "ada")
        .await
        .expect("a chain at the limit fits at the top");
    // The same chain one level down does not.
    let holder = folder::create(&db, "target", None, "Holder")
        .await
        .expect("folder");
    let error = transfer::import(
        &db,
        "target",
        Some(&holder.id),
        &fits,
        ClashPolicy::Copy,
        true,
        "ada",
    )
    .await
    .expect_err("too deep");
    assert!(
        matches!(&error, DomainError::Invalid(m) if m.contains("more than 64 levels deep")),
        "{error:?}"
    );
    // Ten thousand levels are refused as quickly.
    let huge = chain_file(10_000, &[]);
    let error = transfer::import(&db, "source", None, &huge, ClashPolicy::Copy, true, "ada")
        .await
        .expect_err("too deep");
    assert!(matches!(&error, DomainError::Invalid(_)), "{error:?}");
}

#[tokio::test]
async fn imported_records_keep_the_rules_of_names_and_ids() {
    let db = two_namespaces().await;
    for (text, expected) in [
        (
            chain_file(2, &["Twin", "Twin "]),
            "spaces at its start or end",
        ),
        (chain_file(1, &["Orders\u{202e}"]), "invisible"),
        (
            chain_file(1, &[]).replace("\"f0\"", "\"../../evil\""),
            "is not an id",
        ),
    ] {
        let error = transfer::import(&db, "target", None, &text, ClashPolicy::Copy, true, "ada")
            .await
            .expect_err(expected);
        assert!(
            matches!(&error, DomainError::Invalid(m) if m.contains(expected)),
            "{expected}: {error:?}"
        );
    }
}

#[tokio::test]
async fn permissions_are_imported_only_by_someone_who_may_manage_them_there() {
    let db = two_namespaces().await;
    let file = chain_file(2, &[]);
    let report = transfer::import(&db, "target", None, &file, ClashPolicy::Copy, false, "mia")
        .await
        .expect("imports");
    assert_eq!(report.permissions_dropped, 1);
    let tree = folder::tree(&db, "target").await.expect("tree");
    assert!(tree.folders.iter().all(|f| f.permissions.is_none()));
    let report = transfer::import(&db, "target", None, &file, ClashPolicy::Copy, true, "ada")
        .await
        .expect("imports");
    assert_eq!(report.permissions_dropped, 0);
    let tree = folder::tree(&db, "target").await.expect("tree");
    assert_eq!(
        tree.folders
            .iter()
            .filter(|f| f.permissions.is_some())
            .count(),
        1
    );
}

#[tokio::test]
async fn odd_permissions_twin_names_and_too_many_folders_are_refused_before_the_database_sees_them()
{
    let db = two_namespaces().await;
    let v1 = include_str!("fixtures/export-v1.json");
    let with_permissions = |schema: u32, permissions: serde_json::Value| {
        let mut file: serde_json::Value = serde_json::from_str(&chain_file(2, &[])).expect("JSON");
        file["schema_version"] = schema.into();
        file["folders"][0]["permissions"] = serde_json::Value::Null;
        file["folders"][1]["permissions"] = permissions;
        file.to_string()
    };
    let current = schema::SCHEMA_VERSION;
    let cases = [
        (
            with_permissions(1, serde_json::json!(["role:legal:read", 5])),
            "Folder `Level 1` in the file has permissions nsbackup never writes: `5` is not `KIND:NAME:ACCESS` (schema version 1).",
        ),
        (
            with_permissions(1, serde_json::json!(["role:legal"])),
            "Folder `Level 1` in the file has permissions nsbackup never writes: `\"role:legal\"` is not `KIND:NAME:ACCESS` (schema version 1).",
        ),
        (
            with_permissions(1, serde_json::json!({"a": 1})),
            "Folder `Level 1` in the file has permissions nsbackup never writes: they are not a list.",
        ),
        (
            with_permissions(current, serde_json::json!(["role:legal:read"])),
            "Folder `Level 1` in the file has permissions nsbackup never writes: `\"role:legal:read\"` is not a principal with an access.",
        ),
        (
            chain_file(3, &["Top", "Twin", "Twin"])
                .replace("\"parent\":\"f1\"", "\"parent\":\"f0\""),
            "The file holds two folders named `Twin` in the same place.",
        ),
    ];
    for (text, expected) in &cases {
        let error = transfer::import(&db, "target", None, text, ClashPolicy::Copy, true, "ada")
            .await
            .expect_err(expected);
        assert!(
            matches!(&error, DomainError::Invalid(m) if m == expected),
            "{expected}: {error:?}"
        );
    }
    // One request writes at most so many folders: a flat file of more is refused at once.
    let mut flat: serde_json::Value = serde_json::from_str(&chain_file(1, &[])).expect("JSON");
    let folders = flat["folders"].as_array_mut().expect("folders");
    for i in 0..=app::domain::content::transfer::IMPORT_FOLDERS_MAX {
        folders.push(serde_json::json!({
            "id": format!("s{i}"), "parent": "f0", "name": format!("Sibling {i}"), "permissions": null
        }));
    }
    let error = transfer::import(
        &db,
        "target",
        None,
        &flat.to_string(),
        ClashPolicy::Copy,
        true,
        "ada",
    )
    .await
    .expect_err("too many");
    assert!(
        matches!(&error, DomainError::Invalid(m) if m.contains("an import takes at most 2,000 folders")),
        "{error:?}"
    );
    // The fixture of version 1 (permissions as strings) still imports.
    transfer::import(&db, "target", None, v1, ClashPolicy::Copy, true, "ada")
        .await
        .expect("a version-1 file imports");
    assert_eq!(generations(&db).await, 2, "no scratch generation left");
}
