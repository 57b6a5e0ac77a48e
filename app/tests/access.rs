//! Folder permissions as the explorer enforces them, on a real database.

mod common;

use app::domain::DomainError;
use app::domain::content::access::FolderAccess;
use app::domain::content::{folder, namespace};
use app::types::{Access, Actor, Role};
use common::{fresh_db, role, user};

fn actor(name: &str, role: Role) -> Actor {
    Actor {
        name: name.into(),
        role,
    }
}

#[tokio::test]
async fn a_modeler_sees_and_changes_only_what_the_permissions_grant() {
    let db = fresh_db().await;
    namespace::create(&db, "ns", "").await.expect("namespace");
    let team = folder::create(&db, "ns", None, "Team").await.expect("team");
    let shared = folder::create(&db, "ns", Some(&team.id), "Shared")
        .await
        .expect("shared");
    let vault = folder::create(&db, "ns", None, "Vault")
        .await
        .expect("vault");
    let inside = folder::create(&db, "ns", Some(&vault.id), "Inside")
        .await
        .expect("inside");
    // Team: modelers read, Ada writes; Shared inherits that. Vault: nobody but admins, yet
    // its subfolder grants modelers read — still invisible, as its parent is.
    folder::set_permissions(
        &db,
        "ns",
        &team.id,
        Some(vec![
            role("modeler", Access::Read),
            user("ada", Access::Write),
        ]),
    )
    .await
    .expect("team permissions");
    folder::set_permissions(&db, "ns", &vault.id, Some(vec![]))
        .await
        .expect("vault permissions");
    folder::set_permissions(
        &db,
        "ns",
        &inside.id,
        Some(vec![role("modeler", Access::Manage)]),
    )
    .await
    .expect("inside permissions");

    let bob = FolderAccess::load(&db, "ns", &actor("bob", Role::Modeler))
        .await
        .expect("loads");
    assert_eq!(
        bob.level(None),
        Some(Access::Write),
        "modelers write at the top"
    );
    assert_eq!(bob.level(Some(&team.id)), Some(Access::Read));
    assert_eq!(bob.level(Some(&shared.id)), Some(Access::Read), "inherited");
    assert_eq!(bob.level(Some(&vault.id)), None);
    assert_eq!(bob.level(Some(&inside.id)), None, "hidden with its parent");
    assert!(matches!(
        bob.require(Some(&team.id), Access::Write),
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        bob.require(Some(&inside.id), Access::Read),
        Err(DomainError::NotFound(_))
    ));

    let ada = FolderAccess::load(&db, "ns", &actor("ada", Role::Modeler))
        .await
        .expect("loads");
    assert_eq!(ada.level(Some(&shared.id)), Some(Access::Write));
    ada.require_subtree(&team.id, Access::Write)
        .expect("Ada may delete Team with Shared");
    assert!(matches!(
        ada.require(Some(&team.id), Access::Manage),
        Err(DomainError::Forbidden(_))
    ));

    let tree = folder::tree(&db, "ns").await.expect("tree");
    let visible: Vec<String> = FolderAccess::of_tree(&tree, &actor("bob", Role::Modeler))
        .filter(tree.clone())
        .folders
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(visible, ["Shared", "Team"]);

    let root = FolderAccess::of_tree(&tree, &actor("root", Role::Admin));
    assert_eq!(root.level(Some(&inside.id)), Some(Access::Manage));
    root.require_subtree(&vault.id, Access::Manage)
        .expect("administrators manage everything");
}

#[tokio::test]
async fn a_folder_holding_something_the_user_may_not_change_is_not_theirs_to_delete() {
    let db = fresh_db().await;
    namespace::create(&db, "ns", "").await.expect("namespace");
    let outer = folder::create(&db, "ns", None, "Outer")
        .await
        .expect("outer");
    let locked = folder::create(&db, "ns", Some(&outer.id), "Locked")
        .await
        .expect("locked");
    folder::set_permissions(
        &db,
        "ns",
        &locked.id,
        Some(vec![role("modeler", Access::Read)]),
    )
    .await
    .expect("permissions");
    let bob = FolderAccess::load(&db, "ns", &actor("bob", Role::Modeler))
        .await
        .expect("loads");
    bob.require(Some(&outer.id), Access::Write)
        .expect("Outer itself is writable");
    let refused = bob.require_subtree(&outer.id, Access::Write);
    assert!(
        matches!(&refused, Err(DomainError::Forbidden(message)) if message.contains("Outer")),
        "{refused:?}"
    );
}

/// Every caller of a content operation — the explorer, the export download, a command —
/// gets the same rules: the access check and the audit entry are the operation's own.
#[tokio::test]
async fn content_operations_check_access_and_record_the_audit_whoever_calls_them() {
    use app::domain::audit;
    use app::domain::content::operations;
    use app::types::{AuditFilter, ItemKind, Outcome};

    let db = fresh_db().await;
    let admin = actor("root", Role::Admin);
    let bob = actor("bob", Role::Modeler);
    operations::create_namespace(&db, &admin, "ns", "")
        .await
        .expect("namespace");
    let team = operations::create_folder(&db, &admin, "ns", None, "Team")
        .await
        .expect("team");
    operations::set_folder_permissions(
        &db,
        &admin,
        "ns",
        &team.id,
        Some(vec![role("modeler", Access::Read)]),
    )
    .await
    .expect("permissions");
    let model = operations::create_item(&db, &admin, "ns", Some(&team.id), ItemKind::Model, "M")
        .await
        .expect("item");

    // Bob reads Team but may not change it: refused, and the refusal is on record.
    let refused =
        operations::save_item_content(&db, &bob, "ns", &model.id, "{\"x\":1}", model.revision)
            .await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden(_))),
        "{refused:?}"
    );
    let read = operations::get_item(&db, &bob, "ns", &model.id)
        .await
        .expect("Bob reads");
    assert_eq!(read.content, "", "the refused save changed nothing");
    let refused = operations::create_folder(&db, &bob, "ns", Some(&team.id), "Mine").await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden(_))),
        "{refused:?}"
    );

    // What Bob may do is done, and recorded with what it changed.
    operations::create_folder(&db, &bob, "ns", None, "Bob's")
        .await
        .expect("modelers write at the top");

    let bobs = AuditFilter {
        actor: Some("bob".into()),
        ..AuditFilter::default()
    };
    let entries = audit::page(&db, &bobs, None, 10)
        .await
        .expect("audit")
        .entries;
    let seen: Vec<(&str, Outcome, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.outcome, e.detail.as_str()))
        .collect();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0].0, "folder create");
    assert_eq!(
        (seen[0].1, seen[0].2),
        (Outcome::Succeeded, "folder `Bob's`")
    );
    assert_eq!((seen[1].0, seen[1].1), ("folder create", Outcome::Refused));
    assert_eq!((seen[2].0, seen[2].1), ("item save", Outcome::Refused));
    assert!(!seen[2].2.is_empty(), "a refusal says why: {seen:?}");
}
