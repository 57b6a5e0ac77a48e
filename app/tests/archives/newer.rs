//! Backups of a newer schema version: kept and listed as such when intact, never restored.

use app::domain::backup::archive::{self, Limits};
use app::domain::backup::{self, Engine, jobs};
use app::domain::{DomainError, schema};
use app::types::JobStatus;

use super::{manifest_edit, refused, replace_text, valid_backup, with_entry, write_zip};
use crate::common::backups::{Setup, restore_into, setup, snapshot};

// A backup of a newer schema version is kept (see below), but only when every entry is
// still the one its manifest lists.
hostile!(
    a_newer_backup_with_a_changed_entry,
    "Entry `namespace.json` does not match its checksum in the manifest",
    |path, entries, file| {
        let newer = schema::SCHEMA_VERSION + 1;
        let list = manifest_edit(&entries, |m| m["schema_version"] = newer.into());
        let list = with_entry(&list, "namespace.json", |bytes| {
            replace_text(bytes, "Sample", "Simple")
        });
        write_zip(&file, &list, false);
    }
);

#[tokio::test]
async fn a_backup_of_a_newer_schema_version_is_kept_listed_as_such_and_never_restored() {
    let setup = setup().await;
    let (_, entries) = valid_backup(&setup).await;
    let newer = schema::SCHEMA_VERSION + 1;
    let file = setup.dir.path().join("newer.zip");
    write_zip(
        &file,
        &manifest_edit(&entries, |m| m["schema_version"] = newer.into()),
        false,
    );
    let scratch = setup.engine.store.scratch_path("newer");
    std::fs::copy(&file, &scratch).expect("copy");
    let (listed, note) = backup::upload(&setup.engine, scratch, "From the future", "ns", "admin")
        .await
        .expect("kept");
    assert!(
        note.is_some_and(|note| note.contains("made by a newer nsbackup")),
        "the upload says what it is"
    );
    assert_eq!(listed.schema_version, Some(newer));
    assert_eq!(
        listed.verdict(),
        Some(app::types::Verdict::Newer { found: newer })
    );
    assert!(
        listed
            .verdict()
            .is_some_and(|v| v.words().contains("cannot be restored")),
    );
    // It downloads as it was uploaded.
    assert_eq!(
        std::fs::read(setup.files.path(&listed.id)).expect("stored"),
        std::fs::read(&file).expect("sent")
    );
    // A restore is refused at once: no job, nothing touched.
    let before = snapshot(&setup.engine.db, "ns").await;
    let refused = backup::restore(&setup.engine, &listed.id, "ns", "admin").await;
    assert!(
        matches!(&refused, Err(DomainError::Invalid(m)) if m.contains("Upgrade the server")),
        "{refused:?}"
    );
    assert_eq!(snapshot(&setup.engine.db, "ns").await, before);
    assert!(
        jobs::recent(&setup.engine.db)
            .await
            .expect("jobs")
            .iter()
            .all(|j| j.kind != app::types::JobKind::Restore)
    );
    // Backups made here are of the current version; an older upload says it is migrated.
    let made = backup::list(&setup.engine.db).await.expect("list");
    let own = made.iter().find(|b| b.name == "valid").expect("made here");
    assert_eq!(own.verdict(), Some(app::types::Verdict::Current));
    assert_eq!(
        app::types::Verdict::Older { from: 1 }.words(),
        format!(
            "older version: migrated on restore (schema 1 \u{2192} {})",
            schema::SCHEMA_VERSION
        )
    );
}

#[tokio::test]
async fn a_newer_backup_is_refused_before_anything_is_touched() {
    let setup = setup().await;
    let (path, entries) = valid_backup(&setup).await;
    let before = snapshot(&setup.engine.db, "ns").await;
    // Make a stored backup newer, as if written by a future server.
    let newer = schema::SCHEMA_VERSION + 1;
    let list = manifest_edit(&entries, |m| m["schema_version"] = newer.into());
    write_zip(&path, &list, false);
    // Listed with the new file's size and SHA-256, as that server would have listed it (a
    // file that differs from its listing is refused as damaged before this is read).
    let (sha, size) = archive::file_digest(&path).expect("digest");
    let backups = backup::list(&setup.engine.db).await.expect("list");
    setup
        .engine
        .db
        .query("UPDATE type::record('backup', $id) SET sha256 = $sha, size = $size")
        .bind(("id", backups[0].id.clone()))
        .bind(("sha", sha))
        .bind(("size", i64::try_from(size).expect("size")))
        .await
        .expect("listed anew");
    let job = restore_into(&setup, &backups[0].id, "ns").await;
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.error
            .as_deref()
            .is_some_and(|e| e.contains(&format!("schema version {newer}"))),
        "{job:?}"
    );
    assert_eq!(snapshot(&setup.engine.db, "ns").await, before);
    let generations: Option<i64> = setup
        .engine
        .db
        .query("RETURN count(SELECT * FROM generation)")
        .await
        .expect("q")
        .take(0)
        .expect("t");
    assert_eq!(generations, Some(1), "no generation was written");
}
