//! Uploaded archives: a valid one is listed (twice when sent twice, the copy named); every
//! hostile one — each a fixture made from a valid backup — is refused naming its problem,
//! with nothing listed and nothing written; one of a newer schema version is kept, listed
//! as such and never restored.

#[path = "../common/mod.rs"]
mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use app::domain::DomainError;
use app::domain::backup;
use app::domain::content::namespace;
use common::backups::{Setup, backup_of, entries, sample, setup};

/// One hostile archive, one test: `$build` makes the fixture `$file` (from `$path`, a valid
/// backup file, and `$entries`, its entries), and uploading it must be refused with a message
/// containing `$expected`, with nothing listed and nothing stored. `limits` makes the caps
/// small for the case.
macro_rules! hostile {
    ($name:ident, $expected:expr, |$path:ident, $entries:ident, $file:ident| $build:block) => {
        hostile!($name, $expected, limits = Limits::default(), |$path, $entries, $file| $build);
    };
    ($name:ident, $expected:expr, limits = $limits:expr, |$path:ident, $entries:ident, $file:ident| $build:block) => {
        #[tokio::test]
        async fn $name() {
            let setup = setup().await;
            let ($path, $entries) = valid_backup(&setup).await;
            let _ = (&$path, &$entries);
            let $file = setup.dir.path().join(concat!(stringify!($name), ".zip"));
            $build
            let setup = Setup {
                engine: Engine {
                    limits: $limits,
                    ..setup.engine.clone()
                },
                files: setup.files,
                dir: setup.dir,
            };
            refused(&setup, &$file, $expected).await;
        }
    };
}

// The hostile archives, by what is wrong with them (they use `hostile!`, defined above).
mod manifest;
mod newer;
mod records;
mod zips;

/// A valid backup file of the sample namespace, and its entries.
async fn valid_backup(setup: &Setup) -> (PathBuf, Vec<(String, Vec<u8>)>) {
    sample(&setup.engine.db, "ns").await;
    let id = backup_of(setup, "ns", "valid").await;
    let path = setup.files.path(&id);
    let list = entries(&path)
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (path, list)
}

/// Writes `entries` as a zip; with `fix_manifest`, the manifest's list is recomputed so that
/// only the intended problem remains.
fn write_zip(path: &Path, entries: &[(String, Vec<u8>)], fix_manifest: bool) {
    use sha2::Digest;
    let mut entries = entries.to_vec();
    if fix_manifest {
        let listed: Vec<serde_json::Value> = entries
            .iter()
            .filter(|(name, _)| name != "manifest.json")
            .map(|(name, bytes)| {
                let sha: String = sha2::Sha256::digest(bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                serde_json::json!({"path": name, "size": bytes.len(), "sha256": sha})
            })
            .collect();
        if let Some((_, manifest)) = entries.iter_mut().find(|(name, _)| name == "manifest.json")
            && let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(manifest)
        {
            value["entries"] = serde_json::Value::Array(listed);
            *manifest = serde_json::to_vec(&value).expect("json");
        }
    }
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    for (name, bytes) in &entries {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("start");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish");
}

fn with_entry(
    entries: &[(String, Vec<u8>)],
    name: &str,
    change: impl Fn(&[u8]) -> Vec<u8>,
) -> Vec<(String, Vec<u8>)> {
    entries
        .iter()
        .map(|(n, b)| {
            if n == name {
                (n.clone(), change(b))
            } else {
                (n.clone(), b.clone())
            }
        })
        .collect()
}

fn manifest_edit(
    entries: &[(String, Vec<u8>)],
    edit: impl Fn(&mut serde_json::Value),
) -> Vec<(String, Vec<u8>)> {
    with_entry(entries, "manifest.json", |bytes| {
        let mut value: serde_json::Value = serde_json::from_slice(bytes).expect("json");
        edit(&mut value);
        serde_json::to_vec(&value).expect("json")
    })
}

fn replace_text(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    String::from_utf8_lossy(bytes)
        .replacen(from, to, 1)
        .into_bytes()
}

/// Uploads `file` and expects a refusal whose message contains `expected`, with nothing
/// listed and no file left behind.
async fn refused(setup: &Setup, file: &Path, expected: &str) {
    let before = backup::list(&setup.engine.db).await.expect("list").len();
    let scratch = setup.engine.store.scratch_path("upload");
    std::fs::copy(file, &scratch).expect("copy");
    let result = backup::upload(&setup.engine, scratch.clone(), "Upload", "ns", "admin").await;
    match result {
        Err(DomainError::Invalid(message)) => assert!(
            message.contains(expected),
            "expected {expected:?} in {message:?}"
        ),
        other => panic!("expected a refusal naming {expected:?}, got {other:?}"),
    }
    assert_eq!(
        backup::list(&setup.engine.db).await.expect("list").len(),
        before
    );
    assert!(!scratch.exists(), "the upload is removed");
    let stored = std::fs::read_dir(setup.dir.path().join("backups"))
        .expect("dir")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_file()))
        .count();
    assert_eq!(stored, before, "no file stored for a refused upload");
}

#[tokio::test]
async fn a_valid_upload_is_listed_twice_without_overwriting_and_the_duplicate_is_named() {
    let setup = setup().await;
    let (path, _) = valid_backup(&setup).await;
    for round in 0..2 {
        let scratch = setup.engine.store.scratch_path(&format!("up{round}"));
        std::fs::copy(&path, &scratch).expect("copy");
        let (listed, duplicate) =
            backup::upload(&setup.engine, scratch, "Mine", "elsewhere", "admin")
                .await
                .expect("accepted");
        assert_eq!(listed.origin, app::types::BackupOrigin::Uploaded);
        assert_eq!(listed.namespace, "elsewhere");
        assert!(duplicate.is_some_and(|d| d.contains("identical")));
    }
    assert_eq!(backup::list(&setup.engine.db).await.expect("list").len(), 3);
    // An uploaded backup is not restored by uploading it.
    assert!(namespace::get(&setup.engine.db, "elsewhere").await.is_err());
}

#[tokio::test]
async fn the_duplicate_hint_names_the_newest_identical_backup() {
    let setup = setup().await;
    let (path, _) = valid_backup(&setup).await;
    let mut hints = Vec::new();
    for name in ["First copy", "Second copy", "Third copy"] {
        let scratch = setup.engine.store.scratch_path(name);
        std::fs::copy(&path, &scratch).expect("copy");
        let (_, duplicate) = backup::upload(&setup.engine, scratch, name, "ns", "admin")
            .await
            .expect("accepted");
        hints.push(duplicate.expect("a duplicate"));
        // Listed times differ.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(hints[0].contains("\u{201c}valid\u{201d}"), "{}", hints[0]);
    assert!(hints[1].contains("First copy"), "{}", hints[1]);
    assert!(hints[2].contains("Second copy"), "{}", hints[2]);
}

/// A fixture with entry `name` (holding `{}`) added to the valid entries.
fn with_extra_entry(file: &Path, entries: &[(String, Vec<u8>)], name: &str) {
    let mut list = entries.to_vec();
    list.push((name.to_string(), b"{}".to_vec()));
    write_zip(file, &list, true);
}
