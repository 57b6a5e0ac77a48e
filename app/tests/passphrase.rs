//! Backups encrypted with a passphrase given when they are made: sealed with it alone, asked
//! for again to preview, restore and upload one; refused without it, with a wrong one, or
//! with a changed byte, before anything is written or listed.

mod common;

use app::domain::DomainError;
use app::domain::backup::archive::sealed;
use app::domain::backup::{self, Engine, Passphrase};
use app::domain::content::namespace;
use app::types::{BackupInfo, Encryption, JobStatus, PASSPHRASE_FILE_START};
use common::backups::{Setup, sample, setup, snapshot};

const SECRET: &str = "correct horse battery staple";

fn passphrase(text: &str) -> Option<Passphrase> {
    Some(Passphrase::given(text.to_string()).expect("a passphrase"))
}

/// A backup of `ns` named `name` encrypted with [`SECRET`], finished.
async fn sealed_backup(setup: &Setup, ns: &str, name: &str) -> BackupInfo {
    let chosen = Some(Passphrase::chosen(SECRET.to_string()).expect("long enough"));
    let (backup, job) = backup::create_with_passphrase(&setup.engine, ns, name, "admin", chosen)
        .await
        .expect("starts");
    let job = common::job_end(&setup.engine.db, &job.id).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    backup::get(&setup.engine.db, &backup.id)
        .await
        .expect("listed")
}

/// Restores backup `id` into `target` with `passphrase`: the job at its end, or the refusal
/// to start it.
async fn restore(
    setup: &Setup,
    id: &str,
    target: &str,
    passphrase: Option<Passphrase>,
) -> Result<app::types::JobInfo, DomainError> {
    let job =
        backup::restore_with_passphrase(&setup.engine, id, target, "admin", passphrase).await?;
    Ok(common::job_end(&setup.engine.db, &job.id).await)
}

/// An upload of the file at `path` as backup `name`, with `passphrase`.
async fn upload(
    engine: &Engine,
    path: &std::path::Path,
    name: &str,
    passphrase: Option<Passphrase>,
) -> Result<BackupInfo, DomainError> {
    let scratch = engine.store.scratch_path(&format!("test-{name}"));
    std::fs::copy(path, &scratch).expect("copied");
    backup::upload_with_passphrase(engine, scratch, name, "uploaded", "admin", passphrase)
        .await
        .map(|(backup, _)| backup)
}

#[tokio::test]
async fn a_backup_sealed_with_a_passphrase_restores_only_with_it() {
    let setup = setup().await;
    let db = &setup.engine.db;
    sample(db, "source").await;
    let listed = sealed_backup(&setup, "source", "Secret").await;

    assert_eq!(listed.encryption, Some(Encryption::Passphrase));
    assert!(listed.needs_passphrase() && listed.refusal().is_none());
    assert!(backup::download_name(&listed).ends_with(".zip.age"));
    let stored = setup.files.file(&format!("{}.zip.age", listed.id));
    let bytes = std::fs::read(&stored).expect("the sealed file");
    assert!(
        String::from_utf8_lossy(&bytes).starts_with(PASSPHRASE_FILE_START),
        "an age file sealed with a passphrase, as the page recognises one"
    );
    assert!(!String::from_utf8_lossy(&bytes).contains("Orders"));
    assert!(
        !String::from_utf8_lossy(&bytes).contains(SECRET),
        "the passphrase is not in the file"
    );

    // Without it, the restore is refused before it starts; with a wrong one, it fails before
    // anything is written.
    let refused = restore(&setup, &listed.id, "copy", None)
        .await
        .expect_err("refused");
    assert!(
        refused.to_string().contains("enter its passphrase"),
        "{refused}"
    );
    let job = restore(&setup, &listed.id, "copy", passphrase("wrong horse"))
        .await
        .expect("starts");
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    let error = job.error.unwrap_or_default();
    assert!(
        error.contains("The passphrase does not open this backup"),
        "{error}"
    );
    assert!(!error.contains("wrong horse"), "no secret in a message");
    assert!(namespace::get(db, "copy").await.is_err(), "nothing written");

    let job = restore(&setup, &listed.id, "copy", passphrase(SECRET))
        .await
        .expect("starts");
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(snapshot(db, "copy").await, snapshot(db, "source").await);

    // Nothing of it is kept for the next preview: each one needs the passphrase.
    let preview = backup::preview::preview_with_passphrase(
        &setup.engine,
        &listed.id,
        "source",
        passphrase(SECRET),
    )
    .await
    .expect("previewed");
    assert!(preview.items.unchanged > 0, "{preview:?}");
    let refused = backup::preview::preview(&setup.engine, &listed.id, "source")
        .await
        .expect_err("a passphrase is needed again");
    assert!(
        refused.to_string().contains("enter its passphrase"),
        "{refused}"
    );

    // The audit log names what happened, never the passphrase.
    let filter = app::types::AuditFilter::default();
    let audit = app::domain::audit::page(db, &filter, None, 100)
        .await
        .expect("audit");
    assert!(audit.total > 0);
    assert!(!format!("{audit:?}").contains(SECRET));
}

#[tokio::test]
async fn an_upload_sealed_with_a_passphrase_is_checked_with_it_and_refused_without() {
    let setup = setup().await;
    let db = &setup.engine.db;
    sample(db, "source").await;
    let listed = sealed_backup(&setup, "source", "Secret").await;
    let stored = setup.files.file(&format!("{}.zip.age", listed.id));
    let before = backup::list(db).await.expect("list").len();

    let refused = upload(&setup.engine, &stored, "Without", None)
        .await
        .expect_err("refused");
    assert!(
        refused.to_string().contains("enter its passphrase"),
        "{refused}"
    );
    let refused = upload(&setup.engine, &stored, "Wrong", passphrase("not it at all"))
        .await
        .expect_err("refused");
    assert!(
        refused.to_string().contains("does not open this backup"),
        "{refused}"
    );
    assert_eq!(
        backup::list(db).await.expect("list").len(),
        before,
        "nothing listed"
    );

    let uploaded = upload(&setup.engine, &stored, "With", passphrase(SECRET))
        .await
        .expect("listed");
    assert_eq!(uploaded.encryption, Some(Encryption::Passphrase));
    assert_eq!(uploaded.sha256, listed.sha256, "stored as it was sent");
    let job = restore(&setup, &uploaded.id, "copy", passphrase(SECRET))
        .await
        .expect("starts");
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(snapshot(db, "copy").await, snapshot(db, "source").await);

    // A changed byte fails the chunk's authentication, with the passphrase right.
    let mut bytes = std::fs::read(&stored).expect("the sealed file");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let changed = setup.dir.path().join("changed.zip.age");
    std::fs::write(&changed, &bytes).expect("written");
    let refused = upload(&setup.engine, &changed, "Changed", passphrase(SECRET))
        .await
        .expect_err("refused");
    assert!(
        refused.to_string().contains("damaged or was changed"),
        "{refused}"
    );

    // A header that asks for an absurd work factor (hours of key derivation for each guess
    // or each opening) is refused at once.
    let text = String::from_utf8_lossy(&std::fs::read(&stored).expect("file")).into_owned();
    let line = text.lines().nth(1).expect("the scrypt stanza").to_string();
    let (head, _) = line.rsplit_once(' ').expect("its work factor");
    let mut bytes = std::fs::read(&stored).expect("file");
    let at = bytes
        .windows(line.len())
        .position(|w| w == line.as_bytes())
        .expect("found");
    let heavier = format!("{head} 40");
    bytes.splice(at..at + line.len(), heavier.bytes());
    let heavy = setup.dir.path().join("heavy.zip.age");
    std::fs::write(&heavy, &bytes).expect("written");
    let refused = upload(&setup.engine, &heavy, "Heavy", passphrase(SECRET))
        .await
        .expect_err("refused");
    assert!(refused.to_string().contains("far more work"), "{refused}");
}

#[test]
fn passphrases_are_refused_when_short_or_long_and_never_printed() {
    let short = Passphrase::chosen("too short".into()).expect_err("short");
    assert!(short.contains("at least 10 characters"), "{short}");
    assert!(Passphrase::given(String::new()).is_err());
    assert!(Passphrase::given("x".repeat(1025)).is_err());
    let given = Passphrase::given(SECRET.into()).expect("given");
    assert!(!format!("{given:?}").contains(SECRET));
    let keys = app::domain::backup::archive::Keys::default().with_passphrase(Some(given));
    assert!(keys.seals() && !format!("{keys:?}").contains(SECRET));
    assert_eq!(keys.encryption(), Some(Encryption::Passphrase));
    assert!(sealed::PASSPHRASE_WRONG.contains("passphrase"));
}
