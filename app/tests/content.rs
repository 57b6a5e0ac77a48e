//! Namespaces, folders and items on a fresh in-memory database per test.

mod common;

use app::domain::content::item::NewItem;
use app::domain::content::{folder, item, namespace, permissions};
use app::domain::db::{self, DbOptions};
use app::domain::{Db, DomainError, schema};
use app::types::{Access, ItemKind};
use common::{assert_legacy_folders_migrated, fresh_db, user};

/// A fresh database with namespace `ns` holding top-level folders of the given names.
async fn namespace_with<const N: usize>(folders: [&str; N]) -> (Db, [app::types::FolderInfo; N]) {
    let db = fresh_db().await;
    namespace::create(&db, "ns", "").await.expect("creates");
    let mut created = Vec::with_capacity(N);
    for name in folders {
        created.push(folder::create(&db, "ns", None, name).await.expect("folder"));
    }
    let created: [app::types::FolderInfo; N] = created.try_into().expect("one per name");
    (db, created)
}

fn service<'a>(folder: Option<&'a str>, name: &'a str, content: &'a str) -> NewItem<'a> {
    NewItem {
        folder,
        kind: ItemKind::Service,
        name,
        content,
    }
}

#[tokio::test]
async fn namespaces_are_created_listed_retitled_and_their_names_checked() {
    let db = fresh_db().await;
    namespace::create(&db, "sales", "Sales")
        .await
        .expect("creates");
    namespace::create(&db, "hr", "").await.expect("creates");
    let names: Vec<String> = namespace::list(&db)
        .await
        .expect("lists")
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(names, ["hr", "sales"]);

    let error = namespace::create(&db, "sales", "again")
        .await
        .expect_err("duplicate");
    assert!(
        matches!(&error, DomainError::Conflict(m) if m.contains("exists already")),
        "{error:?}"
    );
    let error = namespace::create(&db, "Bad Name", "")
        .await
        .expect_err("invalid");
    assert!(matches!(error, DomainError::Invalid(_)), "{error:?}");

    let renamed = namespace::set_title(&db, "hr", "  People  ")
        .await
        .expect("retitles");
    assert_eq!(renamed.title, "People");
    assert!(matches!(
        namespace::get(&db, "nope").await,
        Err(DomainError::NotFound(_))
    ));
}

#[tokio::test]
async fn deleting_a_namespace_removes_its_content_and_frees_its_name() {
    let db = fresh_db().await;
    namespace::create(&db, "sales", "").await.expect("creates");
    let top = folder::create(&db, "sales", None, "Processes")
        .await
        .expect("folder");
    item::create(&db, "sales", service(Some(&top.id), "Order", "{}"), "ada")
        .await
        .expect("item");
    namespace::delete(&db, "sales").await.expect("deletes");

    // The namespace is gone at once; its content goes in the background.
    assert!(namespace::list(&db).await.expect("lists").is_empty());
    let left = common::count_eventually_zero(
        &db,
        "RETURN count(SELECT * FROM item) + count(SELECT * FROM folder)",
        "",
    )
    .await;
    assert_eq!(left, Some(0), "the content went with the namespace");

    namespace::create(&db, "sales", "")
        .await
        .expect("the name is free again");
    assert!(
        folder::tree(&db, "sales")
            .await
            .expect("tree")
            .folders
            .is_empty(),
        "a new namespace starts empty"
    );
}

#[tokio::test]
async fn folder_names_are_unique_among_siblings_only() {
    let (db, [a, b]) = namespace_with(["A", "B"]).await;
    folder::create(&db, "ns", Some(&a.id), "Shared")
        .await
        .expect("in A");
    folder::create(&db, "ns", Some(&b.id), "Shared")
        .await
        .expect("the same name in B");

    let error = folder::create(&db, "ns", None, " A ")
        .await
        .expect_err("top-level clash");
    assert!(
        matches!(&error, DomainError::Conflict(m) if m.contains("`A`")),
        "{error:?}"
    );
    let error = folder::rename(&db, "ns", &b.id, "A")
        .await
        .expect_err("rename clash");
    assert!(matches!(error, DomainError::Conflict(_)), "{error:?}");
    let error = folder::create(&db, "ns", Some("missing"), "X")
        .await
        .expect_err("missing parent");
    assert!(matches!(error, DomainError::NotFound(_)), "{error:?}");

    let renamed = folder::rename(&db, "ns", &b.id, "Beta")
        .await
        .expect("renames");
    assert_eq!(renamed.name, "Beta");
}

#[tokio::test]
async fn a_folder_moves_with_its_content_but_never_into_itself() {
    let (db, [a]) = namespace_with(["A"]).await;
    let inner = folder::create(&db, "ns", Some(&a.id), "Inner")
        .await
        .expect("Inner");
    let b = folder::create(&db, "ns", None, "B").await.expect("B");

    let error = folder::move_to(&db, "ns", &a.id, Some(&inner.id))
        .await
        .expect_err("into its own child");
    assert!(
        matches!(&error, DomainError::Invalid(m) if m.contains("into itself")),
        "{error:?}"
    );
    let error = folder::move_to(&db, "ns", &a.id, Some(&a.id))
        .await
        .expect_err("into itself");
    assert!(matches!(error, DomainError::Invalid(_)), "{error:?}");

    let moved = folder::move_to(&db, "ns", &a.id, Some(&b.id))
        .await
        .expect("moves");
    assert_eq!(moved.parent.as_deref(), Some(b.id.as_str()));
    let tree = folder::tree(&db, "ns").await.expect("tree");
    let inner_now = tree
        .folders
        .iter()
        .find(|f| f.id == inner.id)
        .expect("inner still there");
    assert_eq!(
        inner_now.parent.as_deref(),
        Some(a.id.as_str()),
        "children move along"
    );
}

#[tokio::test]
async fn deleting_a_folder_takes_its_subfolders_and_items_and_nothing_else() {
    let (db, [a]) = namespace_with(["A"]).await;
    let inner = folder::create(&db, "ns", Some(&a.id), "Inner")
        .await
        .expect("Inner");
    let keep = folder::create(&db, "ns", None, "Keep").await.expect("Keep");
    item::create(&db, "ns", service(Some(&a.id), "one", "{}"), "ada")
        .await
        .expect("item");
    item::create(&db, "ns", service(Some(&inner.id), "two", "{}"), "ada")
        .await
        .expect("item");
    item::create(&db, "ns", service(Some(&keep.id), "three", "{}"), "ada")
        .await
        .expect("item");
    item::create(&db, "ns", service(None, "top", "{}"), "ada")
        .await
        .expect("item");

    let (folders, items) = folder::delete(&db, "ns", &a.id).await.expect("deletes");
    assert_eq!((folders, items), (2, 2));
    let tree = folder::tree(&db, "ns").await.expect("tree");
    assert_eq!(
        tree.folders
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["Keep"]
    );
    assert_eq!(
        item::list(&db, "ns", Some(&keep.id))
            .await
            .expect("list")
            .len(),
        1
    );
    assert_eq!(item::list(&db, "ns", None).await.expect("list").len(), 1);
}

#[tokio::test]
async fn permissions_are_inherited_until_a_folder_sets_its_own() {
    let (db, [a]) = namespace_with(["A"]).await;
    let inner = folder::create(&db, "ns", Some(&a.id), "Inner")
        .await
        .expect("Inner");
    assert_eq!(
        inner.effective_permissions,
        permissions::namespace_defaults()
    );
    assert_eq!(inner.permissions, None);

    let own = vec![user("ada", Access::Manage), user("bob", Access::Read)];
    folder::set_permissions(&db, "ns", &a.id, Some(own.clone()))
        .await
        .expect("sets");
    let tree = folder::tree(&db, "ns").await.expect("tree");
    let inner_now = tree
        .folders
        .iter()
        .find(|f| f.id == inner.id)
        .expect("inner");
    assert_eq!(inner_now.effective_permissions, own, "inherited from A");

    let error = folder::set_permissions(
        &db,
        "ns",
        &a.id,
        Some(vec![user("no spaces", Access::Read)]),
    )
    .await
    .expect_err("bad principal");
    assert!(matches!(error, DomainError::Invalid(_)), "{error:?}");

    let cleared = folder::set_permissions(&db, "ns", &a.id, None)
        .await
        .expect("clears");
    assert_eq!(cleared.permissions, None);
    assert_eq!(
        cleared.effective_permissions,
        permissions::namespace_defaults()
    );
}

#[tokio::test]
async fn items_are_created_listed_and_their_names_and_content_checked() {
    let (db, [a]) = namespace_with(["A"]).await;
    item::create(
        &db,
        "ns",
        NewItem {
            folder: Some(&a.id),
            kind: ItemKind::Model,
            name: "Zeta",
            content: "<bpmn/>",
        },
        "ada",
    )
    .await
    .expect("model");
    let created = item::create(&db, "ns", service(Some(&a.id), "alpha", "{\"x\":1}"), "ada")
        .await
        .expect("service");
    assert_eq!(
        (created.revision, created.size, created.updated_by.as_str()),
        (1, 7, "ada")
    );

    let names: Vec<String> = item::list(&db, "ns", Some(&a.id))
        .await
        .expect("list")
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(
        names,
        ["alpha", "Zeta"],
        "sorted by name, whatever the case"
    );

    let error = item::create(&db, "ns", service(Some(&a.id), "alpha", "{}"), "ada")
        .await
        .expect_err("duplicate");
    assert!(matches!(error, DomainError::Conflict(_)), "{error:?}");
    let error = item::create(&db, "ns", service(None, "broken", "{nope"), "ada")
        .await
        .expect_err("bad JSON");
    assert!(
        matches!(&error, DomainError::Invalid(m) if m.contains("not valid JSON")),
        "{error:?}"
    );
    let big = format!("\"{}\"", "x".repeat(8 * 1024 * 1024));
    let error = item::create(&db, "ns", service(None, "big", &big), "ada")
        .await
        .expect_err("too large");
    assert!(
        matches!(&error, DomainError::Invalid(m) if m.contains("8 MiB")),
        "{error:?}"
    );
}

#[tokio::test]
async fn saving_content_counts_revisions_and_refuses_to_overwrite_a_newer_save() {
    let db = fresh_db().await;
    namespace::create(&db, "ns", "").await.expect("creates");
    let created = item::create(&db, "ns", service(None, "Order", "{}"), "ada")
        .await
        .expect("item");
    let saved = item::save_content(&db, "ns", &created.id, "{\"v\":2}", 1, "bob")
        .await
        .expect("saves");
    assert_eq!((saved.revision, saved.updated_by.as_str()), (2, "bob"));
    assert_eq!(
        item::get(&db, "ns", &created.id)
            .await
            .expect("get")
            .content,
        "{\"v\":2}"
    );

    let error = item::save_content(&db, "ns", &created.id, "{\"v\":3}", 1, "carol")
        .await
        .expect_err("stale");
    assert!(
        matches!(&error, DomainError::Conflict(m) if m.contains("bob") && m.contains("revision 2")),
        "{error:?}"
    );
    assert_eq!(
        item::get(&db, "ns", &created.id)
            .await
            .expect("get")
            .content,
        "{\"v\":2}",
        "nothing overwritten"
    );
}

#[tokio::test]
async fn items_move_between_folders_and_keep_their_names_unique() {
    let (db, [a, b]) = namespace_with(["A", "B"]).await;
    let one = item::create(&db, "ns", service(Some(&a.id), "Order", "{}"), "ada")
        .await
        .expect("item");
    item::create(&db, "ns", service(Some(&b.id), "Order", "{}"), "ada")
        .await
        .expect("same name elsewhere");

    let error = item::move_to(&db, "ns", &one.id, Some(&b.id))
        .await
        .expect_err("clash in B");
    assert!(matches!(error, DomainError::Conflict(_)), "{error:?}");
    let moved = item::move_to(&db, "ns", &one.id, None)
        .await
        .expect("to the top");
    assert_eq!(moved.folder, None);
    item::rename(&db, "ns", &one.id, "Order (old)")
        .await
        .expect("renames");
    item::delete(&db, "ns", &one.id).await.expect("deletes");
    assert!(matches!(
        item::get(&db, "ns", &one.id).await,
        Err(DomainError::NotFound(_))
    ));
}

#[tokio::test]
async fn the_frozen_version_1_database_migrates_to_structured_permissions() {
    let db = db::connect(&DbOptions::memory()).await.expect("opens");
    db.query(include_str!("fixtures/schema-v1.surql"))
        .await
        .and_then(|r| r.check())
        .expect("fixture loads");
    assert_eq!(schema::current_version(&db).await.expect("version"), 1);

    let report = schema::migrate(&db).await.expect("migrates");
    assert_eq!((report.from, report.to), (1, schema::SCHEMA_VERSION));
    let tree = folder::tree(&db, "legacy")
        .await
        .expect("reads the migrated data");
    let (contracts, _drafts) = assert_legacy_folders_migrated(&tree);
    let items = item::list(&db, "legacy", Some(&contracts.id))
        .await
        .expect("items");
    assert_eq!(
        items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        ["Approval", "Intake form"]
    );
}

#[tokio::test]
async fn seeding_fills_a_namespace_deterministically_with_valid_content() {
    use app::domain::seed::{SeedOptions, seed_namespace};
    let db = fresh_db().await;
    let options = |name: &str| SeedOptions {
        namespace: name.into(),
        title: "Demo".into(),
        folders: 15,
        items: 120,
        avg_size: 1500,
        seed: 42,
    };
    let mut reports = Vec::new();
    seed_namespace(&db, &options("one"), |done, total| {
        reports.push((done, total))
    })
    .await
    .expect("seeds");
    seed_namespace(&db, &options("two"), |_, _| {})
        .await
        .expect("seeds again");
    assert_eq!(reports.last(), Some(&(120, 120)));

    let one = folder::tree(&db, "one").await.expect("tree");
    let two = folder::tree(&db, "two").await.expect("tree");
    assert_eq!(one.folders.len(), 15);
    let names = |tree: &app::types::NamespaceTree| {
        tree.folders
            .iter()
            .map(|f| f.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&one),
        names(&two),
        "the same seed gives the same content"
    );
    assert!(
        one.folders.iter().any(|f| f.parent.is_some()),
        "folders are nested"
    );

    let mut items = item::list(&db, "one", None).await.expect("top level");
    for folder in &one.folders {
        items.extend(
            item::list(&db, "one", Some(&folder.id))
                .await
                .expect("folder"),
        );
    }
    assert_eq!(items.len(), 120);
    for info in items.iter().take(30) {
        let document = item::get(&db, "one", &info.id).await.expect("item");
        assert_eq!(
            app::validate::content(info.kind, &document.content),
            Ok(()),
            "{}",
            info.name
        );
        assert_eq!(document.content.len() as u64, info.size);
    }
    assert!(
        namespace::create(&db, "one", "").await.is_err(),
        "seeding made a real namespace"
    );
    let error = seed_namespace(&db, &options("one"), |_, _| {})
        .await
        .expect_err("never mixes into existing content");
    assert!(matches!(error, DomainError::Conflict(_)), "{error:?}");
}
