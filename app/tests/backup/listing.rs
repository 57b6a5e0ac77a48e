//! Backup names, and the list of backups searched and read a page at a time.

use app::domain::DomainError;
use app::domain::backup;
use app::domain::content::namespace;

use crate::common::backups::{backup_of, setup};

#[tokio::test]
async fn names_are_checked() {
    for bad in ["", "   ", &"x".repeat(101), "two\nlines"] {
        assert!(backup::check_name(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        backup::check_name(&"ü".repeat(100))
            .expect("ok")
            .chars()
            .count(),
        100
    );
    // An upload without a name takes the file's.
    let cases = [
        (Some("Chosen"), Some("file.zip"), "Chosen"),
        (
            Some("  "),
            Some("Nightly 2026-11-27.ZIP"),
            "Nightly 2026-11-27",
        ),
        (None, Some("C:\\Users\\ada\\sales.zip"), "sales"),
        (None, Some("archive.tar"), "archive.tar"),
    ];
    for (name, file_name, expected) in cases {
        assert_eq!(
            backup::upload_name(name, file_name).expect("a name"),
            expected,
            "{name:?} {file_name:?}"
        );
    }
    // A name taken from the file follows the rules of a typed one, and says where it came from.
    let refused =
        |name: Option<&str>, file_name: Option<&str>| match backup::upload_name(name, file_name) {
            Err(DomainError::Invalid(message)) => message,
            other => panic!("{name:?} {file_name:?}: {other:?}"),
        };
    assert_eq!(refused(None, None), "Give the backup a name.");
    assert_eq!(refused(Some(" "), Some(" ")), "Give the backup a name.");
    assert_eq!(
        refused(Some(".."), None),
        "A backup name cannot be only dots."
    );
    assert_eq!(
        refused(None, Some("...zip")),
        "The file name \u{201c}...zip\u{201d} gives no usable backup name. A backup name cannot be only dots. Type a name for the backup."
    );
    assert_eq!(refused(None, Some(".zip")), "Give the backup a name.");
    let long = format!("{}.zip", "n".repeat(200));
    assert!(refused(None, Some(&long)).contains("at most 100 characters"));
    assert!(refused(None, Some(&long)).contains(&format!("\u{201c}{}…\u{201d}", "n".repeat(120))));
}

#[tokio::test]
async fn the_list_is_searched_by_name_and_namespace_and_read_a_page_at_a_time() {
    let setup = setup().await;
    let db = &setup.engine.db;
    namespace::create(db, "alpha", "").await.expect("namespace");
    namespace::create(db, "beta-team", "")
        .await
        .expect("namespace");
    let mut made = Vec::new();
    for (ns, name) in [
        ("alpha", "Nightly 1"),
        ("beta-team", "Before Release 42"),
        ("alpha", "Nightly 2"),
        ("beta-team", "after release"),
        ("alpha", "Nightly 3"),
    ] {
        made.push(backup_of(&setup, ns, name).await);
    }
    let page = |search: &str, offset: usize, limit: usize| backup::ListQuery {
        search: search.to_string(),
        offset,
        limit,
    };
    let names = |listed: &app::types::BackupListPage| {
        listed
            .items
            .iter()
            .map(|b| b.name.clone())
            .collect::<Vec<_>>()
    };

    let all = backup::list_page(db, &page("", 0, 100)).await.expect("all");
    assert_eq!(all.total, 5);
    let newest_first: Vec<String> = made.iter().rev().cloned().collect();
    assert_eq!(
        all.items.iter().map(|b| b.id.clone()).collect::<Vec<_>>(),
        newest_first,
        "newest first"
    );

    let by_namespace = backup::list_page(db, &page("  ALPHA ", 0, 100))
        .await
        .expect("by namespace");
    assert_eq!(by_namespace.total, 3, "any case, trimmed");
    assert_eq!(
        names(&by_namespace),
        ["Nightly 3", "Nightly 2", "Nightly 1"]
    );
    let by_name = backup::list_page(db, &page("release", 0, 100))
        .await
        .expect("by name");
    assert_eq!(names(&by_name), ["after release", "Before Release 42"]);
    let team = backup::list_page(db, &page("team", 0, 100))
        .await
        .expect("by part of a namespace");
    assert_eq!(team.total, 2);

    let second = backup::list_page(db, &page("", 2, 2))
        .await
        .expect("page 2");
    assert_eq!((second.offset, second.total), (2, 5));
    assert_eq!(names(&second), ["Nightly 2", "Before Release 42"]);
    let past_the_end = backup::list_page(db, &page("", 10, 2))
        .await
        .expect("past the end");
    assert!(past_the_end.items.is_empty());
    assert_eq!(past_the_end.total, 5, "the count still says how many match");
    let none = backup::list_page(db, &page("nothing like it", 0, 100))
        .await
        .expect("no match");
    assert_eq!((none.items.len(), none.total), (0, 0));

    // A backup whose file is being removed has left the list: neither listed nor counted,
    // with a search or without one.
    db.query("UPDATE type::record('backup', $id) SET status = 'deleting'")
        .bind(("id", made[0].clone()))
        .await
        .expect("mark deleting");
    let all = backup::list_page(db, &page("", 0, 100)).await.expect("all");
    assert_eq!((all.items.len(), all.total), (4, 4));
    let nightly = backup::list_page(db, &page("nightly", 0, 100))
        .await
        .expect("nightly");
    assert_eq!((nightly.items.len(), nightly.total), (2, 2));

    let too_long = backup::list_page(db, &page(&"x".repeat(101), 0, 100)).await;
    assert!(
        matches!(&too_long, Err(DomainError::Invalid(message)) if message.contains("100 characters")),
        "{too_long:?}"
    );
}
