//! User accounts on a fresh in-memory database per test.

mod common;

use std::time::Duration;

use app::domain::{DomainError, accounts, sessions, users};
use app::types::Role;
use common::fresh_db;

/// A fresh database with `grace` (administrator, "correct horse battery") and `ada`
/// (modeler, "analytical engine").
async fn grace_and_ada() -> app::domain::Db {
    let db = fresh_db().await;
    users::create(&db, "grace", Role::Admin, "correct horse battery")
        .await
        .expect("creates");
    users::create(&db, "ada", Role::Modeler, "analytical engine")
        .await
        .expect("creates");
    db
}

#[tokio::test]
async fn users_are_created_listed_and_their_passwords_kept_only_as_hashes() {
    let db = grace_and_ada().await;
    let listed: Vec<(String, Role)> = users::list(&db)
        .await
        .expect("lists")
        .into_iter()
        .map(|u| (u.name, u.role))
        .collect();
    assert_eq!(
        listed,
        [
            ("ada".to_string(), Role::Modeler),
            ("grace".to_string(), Role::Admin)
        ]
    );

    let stored: Option<String> = db
        .query("RETURN user:grace.password_hash")
        .await
        .expect("q")
        .take(0)
        .expect("t");
    let stored = stored.expect("a hash is stored");
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains("correct horse"));

    let error = users::create(&db, "grace", Role::Modeler, "another password")
        .await
        .expect_err("duplicate");
    assert!(matches!(error, DomainError::Conflict(_)), "{error:?}");
    let error = users::create(&db, "bob", Role::Modeler, "short")
        .await
        .expect_err("short password");
    assert!(
        matches!(&error, DomainError::Invalid(m) if m.contains("at least 10")),
        "{error:?}"
    );
    let error = users::create(&db, "no spaces", Role::Modeler, "long enough password")
        .await
        .expect_err("bad name");
    assert!(matches!(error, DomainError::Invalid(_)), "{error:?}");
}

#[tokio::test]
async fn a_password_verifies_only_when_it_is_the_right_one() {
    let db = fresh_db().await;
    users::create(&db, "grace", Role::Admin, "correct horse battery")
        .await
        .expect("creates");
    let user = users::verify(&db, "grace", "correct horse battery")
        .await
        .expect("checks");
    assert_eq!(user.map(|u| u.role), Some(Role::Admin));
    assert_eq!(
        users::verify(&db, "grace", "wrong horse battery")
            .await
            .expect("checks"),
        None
    );
    assert_eq!(
        users::verify(&db, "nobody", "correct horse battery")
            .await
            .expect("checks"),
        None
    );

    users::set_password(&db, "grace", "a brand new secret")
        .await
        .expect("changes");
    assert_eq!(
        users::verify(&db, "grace", "correct horse battery")
            .await
            .expect("checks"),
        None
    );
    assert!(
        users::verify(&db, "grace", "a brand new secret")
            .await
            .expect("checks")
            .is_some()
    );
}

#[tokio::test]
async fn the_last_administrator_cannot_be_deleted() {
    let db = grace_and_ada().await;
    let error = users::delete(&db, "grace").await.expect_err("last admin");
    assert!(
        matches!(&error, DomainError::Conflict(m) if m.contains("last administrator")),
        "{error:?}"
    );
    users::delete(&db, "ada").await.expect("a modeler goes");
    users::create(&db, "linus", Role::Admin, "another admin pw")
        .await
        .expect("creates");
    users::delete(&db, "grace")
        .await
        .expect("no longer the last");
    let names: Vec<String> = users::list(&db)
        .await
        .expect("lists")
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["linus"]);
    assert!(matches!(
        users::delete(&db, "nobody").await,
        Err(DomainError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_new_password_ends_the_other_sessions_and_nobody_deletes_their_own_account() {
    let db = grace_and_ada().await;
    let day = Duration::from_secs(86_400);
    let sign_in = async |name: &str, password: &str| {
        sessions::sign_in(&db, name, password, day, "test")
            .await
            .expect("signs in")
            .token
    };
    let here = sign_in("ada", "analytical engine").await;
    let elsewhere = sign_in("ada", "analytical engine").await;
    accounts::change_password(&db, "ada", "difference engine", Some(&here))
        .await
        .expect("changes");
    assert!(
        sessions::resolve(&db, &here)
            .await
            .expect("resolves")
            .is_some()
    );
    assert!(
        sessions::resolve(&db, &elsewhere)
            .await
            .expect("resolves")
            .is_none()
    );

    let error = accounts::delete(&db, "grace", "grace")
        .await
        .expect_err("not one's own");
    assert!(
        matches!(&error, DomainError::Conflict(m) if m.contains("your own account")),
        "{error:?}"
    );
    let grace = sign_in("grace", "correct horse battery").await;
    assert!(
        sessions::resolve(&db, &grace)
            .await
            .expect("resolves")
            .is_some()
    );
    accounts::delete(&db, "ada", "grace")
        .await
        .expect("deletes");
    assert!(
        sessions::resolve(&db, &here)
            .await
            .expect("resolves")
            .is_none()
    );
    assert!(users::get(&db, "ada").await.is_err());
}
