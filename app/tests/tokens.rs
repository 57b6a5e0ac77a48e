//! Personal API tokens: they act as their user until they expire, are revoked or their user
//! goes, and only their hash is kept.

mod common;

use std::time::Duration;

use app::domain::{Db, DomainError, tokens, users};
use app::types::Role;
use common::fresh_db;

async fn with_users() -> Db {
    let db = fresh_db().await;
    users::create(&db, "ada", Role::Admin, "a long password")
        .await
        .expect("ada");
    users::create(&db, "max", Role::Modeler, "a long password")
        .await
        .expect("max");
    db
}

/// The refusal a secret gets, or the actor's name.
async fn who(db: &Db, secret: &str) -> Result<String, String> {
    tokens::authenticate(db, secret)
        .await
        .expect("the database answers")
        .map(|actor| actor.name)
}

#[tokio::test]
async fn a_token_acts_as_its_user_until_it_is_revoked() {
    let db = with_users().await;
    let made = tokens::create(
        &db,
        "max",
        "nightly copy",
        Some(Duration::from_secs(3600)),
        "ada",
    )
    .await
    .expect("made");
    assert!(made.secret.starts_with(tokens::PREFIX));
    assert_eq!(made.info.user, "max");
    let actor = tokens::authenticate(&db, &made.secret)
        .await
        .expect("answers")
        .expect("works");
    assert_eq!((actor.name.as_str(), actor.role), ("max", Role::Modeler));
    let listed = tokens::list(&db).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some(), "its use is recorded");

    // Only the hash is kept: the secret is nowhere in the database.
    let mut response = db.query("SELECT * FROM api_token").await.expect("rows");
    let rows: Vec<serde_json::Value> = response.take(0).expect("rows");
    let stored = serde_json::to_string(&rows).expect("json");
    assert!(
        !stored.contains(&made.secret[tokens::PREFIX.len()..]),
        "{stored}"
    );

    tokens::revoke(&db, &made.info.handle, "ada")
        .await
        .expect("revoked");
    let refused = who(&db, &made.secret).await.expect_err("refused");
    assert!(refused.contains("was revoked on"), "{refused}");
    // Revoking again keeps the first time; an unknown handle is refused.
    let again = tokens::revoke(&db, &made.info.handle, "ada")
        .await
        .expect("again");
    assert_eq!(
        again.revoked_at,
        tokens::list(&db).await.expect("list")[0].revoked_at
    );
    assert!(matches!(
        tokens::revoke(&db, "nosuch", "ada").await,
        Err(DomainError::NotFound(_))
    ));
}

#[tokio::test]
async fn an_expired_token_a_wrong_one_and_one_of_a_deleted_user_are_refused_with_the_reason() {
    let db = with_users().await;
    let short = tokens::create(&db, "max", "short", Some(Duration::from_secs(1)), "ada")
        .await
        .expect("made");
    let forever = tokens::create(&db, "max", "forever", None, "ada")
        .await
        .expect("made");
    assert_eq!(forever.info.expires_at, None);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let refused = who(&db, &short.secret).await.expect_err("expired");
    assert!(refused.contains("expired on"), "{refused}");
    assert_eq!(who(&db, &forever.secret).await, Ok("max".to_string()));

    for wrong in [
        "",
        "nsb_",
        "Bearer",
        &format!("{}x", forever.secret),
        &"a".repeat(10_000),
    ] {
        let refused = who(&db, wrong).await.expect_err("unknown");
        assert!(refused.contains("not known here"), "{refused}");
    }

    // A user who goes takes their tokens along: a later user of the same name gets none.
    users::delete(&db, "max").await.expect("deleted");
    users::create(&db, "max", Role::Admin, "another long password")
        .await
        .expect("a new max");
    assert!(who(&db, &forever.secret).await.is_err());
    assert!(tokens::list(&db).await.expect("list").is_empty());
}

#[tokio::test]
async fn names_lifetimes_and_the_number_per_user_are_capped() {
    let db = with_users().await;
    for (name, lifetime) in [
        ("", None),
        ("   ", None),
        (&"n".repeat(tokens::NAME_MAX + 1) as &str, None),
        ("line\nbreak", None),
        ("too long", Some(tokens::LONGEST + Duration::from_secs(1))),
        ("zero", Some(Duration::ZERO)),
    ] {
        let refused = tokens::create(&db, "max", name, lifetime, "ada").await;
        assert!(
            matches!(refused, Err(DomainError::Invalid(_))),
            "{name:?}: {refused:?}"
        );
    }
    assert!(matches!(
        tokens::create(&db, "nobody", "x", None, "ada").await,
        Err(DomainError::NotFound(_))
    ));
    for n in 0..tokens::PER_USER_MAX {
        tokens::create(&db, "max", &format!("t{n}"), None, "ada")
            .await
            .expect("within the cap");
    }
    let refused = tokens::create(&db, "max", "one more", None, "ada").await;
    assert!(
        matches!(refused, Err(DomainError::Invalid(_))),
        "{refused:?}"
    );
    assert_eq!(
        tokens::list(&db).await.expect("list").len(),
        tokens::PER_USER_MAX
    );
}
