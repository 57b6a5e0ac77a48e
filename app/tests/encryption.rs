//! Encrypted backups with the server's keys: sealed to its recipients as `<id>.zip.age`,
//! opened with its identities to restore, refused with the reason (and nothing written)
//! when the key is missing or a byte of the file was changed.

mod common;

use std::sync::Arc;

use age::secrecy::ExposeSecret;
use app::domain::backup::archive::{Keys, sealed};
use app::domain::backup::{self, Engine};
use app::domain::content::namespace;
use app::types::{Encryption, JobStatus};
use common::backups::{Setup, backup_of, restore_into, sample, setup, snapshot};

/// A new key pair: its recipient (`age1…`) and the text of an identity file holding it.
fn key_pair() -> (String, String) {
    let identity = age::x25519::Identity::generate();
    let secret = identity.to_string().expose_secret().to_string();
    (
        identity.to_public().to_string(),
        format!("# a test key\n{secret}\n"),
    )
}

/// `setup` with `keys`.
fn with_keys(setup: Setup, keys: Keys) -> Setup {
    Setup {
        engine: Engine {
            keys: Arc::new(keys),
            ..setup.engine
        },
        ..setup
    }
}

/// An upload of the file at `path` as backup `name` of namespace `ns`.
async fn upload(
    engine: &Engine,
    path: &std::path::Path,
    name: &str,
) -> Result<app::types::BackupInfo, app::domain::DomainError> {
    let scratch = engine.store.scratch_path(&format!("test-{name}"));
    std::fs::copy(path, &scratch).expect("copied");
    backup::upload(engine, scratch, name, "uploaded", "admin")
        .await
        .map(|(backup, _)| backup)
}

#[tokio::test]
async fn a_backup_is_sealed_to_the_servers_recipient_and_restores_with_its_identity() {
    let (recipient, identity) = key_pair();
    let keys = Keys::new(std::slice::from_ref(&recipient), Some(&identity)).expect("keys");
    let setup = with_keys(setup().await, keys);
    let db = &setup.engine.db;
    sample(db, "source").await;
    let id = backup_of(&setup, "source", "Sealed").await;

    // Stored as `<id>.zip.age`, an age file: none of the namespace's names can be read in it.
    let listed = backup::get(db, &id).await.expect("listed");
    assert_eq!(
        listed.encryption,
        Some(Encryption::Keys {
            recipients: vec![recipient.clone()]
        })
    );
    assert!(!setup.files.path(&id).exists(), "no plain zip is stored");
    let stored = setup.files.file(&format!("{id}.zip.age"));
    let bytes = std::fs::read(&stored).expect("the sealed file");
    assert!(bytes.starts_with(sealed::MAGIC));
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("manifest.json") && !text.contains("Orders"),
        "encrypted"
    );
    assert_eq!(
        listed.size,
        Some(bytes.len() as u64),
        "size and SHA-256 are the stored file's"
    );
    assert!(backup::download_name(&listed).ends_with(".zip.age"));

    let job = restore_into(&setup, &id, "copy").await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(snapshot(db, "copy").await, snapshot(db, "source").await);

    // The same file uploaded again is opened with the same key, and listed as encrypted.
    let again = upload(&setup.engine, &stored, "Again")
        .await
        .expect("listed");
    assert_eq!(again.encryption, listed.encryption);
    assert!(setup.files.file(&format!("{}.zip.age", again.id)).exists());
}

#[tokio::test]
async fn without_the_secret_key_an_encrypted_backup_is_refused_and_nothing_is_written() {
    let (recipient, identity) = key_pair();
    // A server that encrypts to a key whose secret half is kept elsewhere.
    let keys = Keys::new(std::slice::from_ref(&recipient), None).expect("keys");
    let setup = with_keys(setup().await, keys);
    let db = &setup.engine.db;
    sample(db, "source").await;
    let id = backup_of(&setup, "source", "Offline key").await;

    let job = restore_into(&setup, &id, "copy").await;
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    let error = job.error.unwrap_or_default();
    assert!(
        error.contains("encrypted to a key this server does not hold")
            && error.contains("--backup-identity"),
        "{error}"
    );
    assert!(
        namespace::get(db, "copy").await.is_err(),
        "nothing was written"
    );

    // Nor is its file accepted as an upload by a server without the key; nothing is listed.
    let stored = setup.files.file(&format!("{id}.zip.age"));
    let before = backup::list(db).await.expect("list").len();
    let refused = upload(&setup.engine, &stored, "Upload")
        .await
        .expect_err("refused");
    assert!(refused.to_string().contains("does not hold"), "{refused}");
    assert_eq!(backup::list(db).await.expect("list").len(), before);

    // A server with the key opens it.
    let keys = Keys::new(&[], Some(&identity)).expect("keys");
    let other = with_keys(common::backups::setup().await, keys);
    let listed = upload(&other.engine, &stored, "Upload")
        .await
        .expect("opened");
    assert_eq!(
        listed.encryption,
        Some(Encryption::Keys {
            recipients: vec![recipient]
        })
    );
}

#[tokio::test]
async fn a_changed_byte_of_an_encrypted_file_fails_its_authentication_and_nothing_is_listed() {
    let (recipient, identity) = key_pair();
    let keys = Keys::new(std::slice::from_ref(&recipient), Some(&identity)).expect("keys");
    let setup = with_keys(setup().await, keys);
    let db = &setup.engine.db;
    sample(db, "source").await;
    let id = backup_of(&setup, "source", "Tampered").await;
    let stored = setup.files.file(&format!("{id}.zip.age"));
    let mut bytes = std::fs::read(&stored).expect("the sealed file");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let changed = setup.dir.path().join("changed.zip.age");
    std::fs::write(&changed, &bytes).expect("written");

    let before = backup::list(db).await.expect("list").len();
    let refused = upload(&setup.engine, &changed, "Changed")
        .await
        .expect_err("refused");
    assert!(
        refused.to_string().contains("damaged or was changed"),
        "{refused}"
    );
    assert_eq!(backup::list(db).await.expect("list").len(), before);

    // The stored file changed on the disk: its restore is refused before anything is
    // written, and the backup is listed as damaged.
    std::fs::write(&stored, &bytes).expect("changed on the disk");
    let job = restore_into(&setup, &id, "copy").await;
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    assert!(
        namespace::get(db, "copy").await.is_err(),
        "nothing was written"
    );
    let listed = backup::get(db, &id).await.expect("listed");
    assert_eq!(listed.status, app::types::BackupStatus::Damaged);
}

#[test]
fn keys_that_are_not_keys_are_refused_with_the_reason() {
    let refused = Keys::new(&["ssh-ed25519 AAAA".into()], None).expect_err("no age key");
    assert!(refused.contains("is not an age recipient"), "{refused}");
    let refused = Keys::new(&[], Some("AGE-SECRET-KEY-1NOTAKEY\n")).expect_err("no age key");
    assert!(refused.contains("line 1"), "{refused}");
}
