//! Uploaded archives: a valid one is listed (twice when sent twice, the copy named); every
//! hostile one — each a fixture made from a valid backup — is refused naming its problem,
//! with nothing listed and nothing written; one of a newer schema version is kept, listed
//! as such and never restored.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use app::domain::backup::archive::{self, Limits};
use app::domain::backup::{self, Engine, jobs};
use app::domain::content::namespace;
use app::domain::{DomainError, schema};
use app::types::JobStatus;
use common::backups::{Setup, backup_of, entries, restore_into, sample, setup, snapshot};

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

/// A fixture with entry `name` (holding `{}`) added to the valid entries.
fn with_extra_entry(file: &Path, entries: &[(String, Vec<u8>)], name: &str) {
    let mut list = entries.to_vec();
    list.push((name.to_string(), b"{}".to_vec()));
    write_zip(file, &list, true);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

// Not a zip, or a damaged one.

hostile!(
    a_text_file_renamed_to_zip,
    "not a zip file",
    |path, entries, file| {
        std::fs::write(&file, "just some text, renamed").expect("write");
    }
);

hostile!(
    a_png_renamed_to_zip,
    "not a zip file",
    |path, entries, file| {
        std::fs::write(&file, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("write");
    }
);

hostile!(an_empty_file, "empty", |path, entries, file| {
    std::fs::write(&file, b"").expect("write");
});

hostile!(
    a_truncated_zip,
    "not a zip file, or it is damaged",
    |path, entries, file| {
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&file, &bytes[..bytes.len() * 2 / 3]).expect("write");
    }
);

hostile!(an_entry_with_a_bad_crc, "damaged", |path, entries, file| {
    // One byte of compressed data inside items.ndjson flipped: the CRC no longer matches.
    let mut bytes = std::fs::read(&path).expect("read");
    let at = find(&bytes, b"items.ndjson").expect("local header") + 200;
    bytes[at] ^= 0x55;
    std::fs::write(&file, bytes).expect("write");
});

// Entry names, links, encryption, duplicates, nesting.

hostile!(an_entry_name_with_dot_dot, "`..`", |path, entries, file| {
    with_extra_entry(&file, &entries, "../evil.json");
});

hostile!(
    an_absolute_entry_name,
    "absolute path",
    |path, entries, file| {
        with_extra_entry(&file, &entries, "/etc/passwd");
    }
);

hostile!(
    an_entry_name_with_a_drive_letter,
    "drive letter",
    |path, entries, file| {
        with_extra_entry(&file, &entries, "C:/windows/evil.json");
    }
);

hostile!(
    an_entry_name_with_a_backslash,
    "backslash",
    |path, entries, file| {
        with_extra_entry(&file, &entries, "contents\\evil.json");
    }
);

hostile!(an_entry_name_with_nul, "NUL", |path, entries, file| {
    with_extra_entry(&file, &entries, "evil\0.json");
});

hostile!(
    a_symbolic_link_entry,
    "symbolic link",
    |path, entries, file| {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&file).expect("create"));
        for (name, bytes) in &entries {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .expect("start");
            zip.write_all(bytes).expect("write");
        }
        zip.add_symlink(
            "link",
            "/etc/passwd",
            zip::write::SimpleFileOptions::default(),
        )
        .expect("symlink");
        zip.finish().expect("finish");
    }
);

hostile!(an_encrypted_entry, "encrypted", |path, entries, file| {
    // The encryption flag set in the local and central headers.
    write_zip(&file, &entries, true);
    let mut raw = std::fs::read(&file).expect("read");
    let local = find(&raw, b"PK\x03\x04").expect("local header");
    raw[local + 6] |= 1;
    let central = find(&raw, b"PK\x01\x02").expect("central record");
    raw[central + 8] |= 1;
    std::fs::write(&file, raw).expect("write");
});

hostile!(
    two_entries_with_the_same_name,
    "appears twice",
    |path, entries, file| {
        // A zip writer refuses duplicates, so the second name is patched afterwards (same
        // length) in the local and central headers.
        with_extra_entry(&file, &entries, "namespace.jsoX");
        let mut raw = std::fs::read(&file).expect("read");
        let mut start = 0;
        while let Some(at) = find(&raw[start..], b"namespace.jsoX") {
            raw[start + at + 13] = b'n';
            start += at + 14;
        }
        std::fs::write(&file, raw).expect("write");
    }
);

hostile!(
    a_zip_inside_the_zip_by_name,
    "archive inside the archive",
    |path, entries, file| {
        with_extra_entry(&file, &entries, "inner.zip");
    }
);

hostile!(
    a_zip_inside_the_zip_by_content,
    "archive inside the archive",
    |path, entries, file| {
        let mut nested = Vec::new();
        {
            let mut inner = zip::ZipWriter::new(std::io::Cursor::new(&mut nested));
            inner
                .start_file("x", zip::write::SimpleFileOptions::default())
                .expect("start");
            inner.write_all(b"x").expect("write");
            inner.finish().expect("finish");
        }
        let list = with_entry(&entries, "namespace.json", |_| nested.clone());
        write_zip(&file, &list, true);
    }
);

// Sizes and bombs, counted while reading.

hostile!(
    more_entries_than_the_cap,
    "at most 3",
    limits = Limits {
        max_entries: 3,
        ..Limits::default()
    },
    |path, entries, file| {
        std::fs::copy(&path, &file).expect("copy");
    }
);

hostile!(
    an_entry_beyond_the_size_cap,
    "the most one entry may hold",
    limits = Limits {
        max_entry_bytes: 1000,
        ..Limits::default()
    },
    |path, entries, file| {
        std::fs::copy(&path, &file).expect("copy");
    }
);

hostile!(
    a_total_beyond_the_size_cap,
    "the most a backup may hold",
    limits = Limits {
        max_total_bytes: 5000,
        ..Limits::default()
    },
    |path, entries, file| {
        std::fs::copy(&path, &file).expect("copy");
    }
);

hostile!(
    a_high_ratio_deflate_bomb,
    "zip bomb",
    |path, entries, file| {
        // 7 MiB of spaces (less than a content may hold) compress to about 7 KiB.
        let large = entries
            .iter()
            .find(|(name, _)| name.starts_with("contents/"))
            .map(|(name, _)| name.clone())
            .expect("a content entry");
        let list = with_entry(&entries, &large, |_| vec![b' '; 7 << 20]);
        write_zip(&file, &list, true);
    }
);

hostile!(
    an_item_content_larger_than_an_item_may_hold,
    "unpacks to more than 8388608 bytes",
    |path, entries, file| {
        // Letters at random: it packs too poorly to look like a bomb.
        let large = entries
            .iter()
            .find(|(name, _)| name.starts_with("contents/"))
            .map(|(name, _)| name.clone())
            .expect("a content entry");
        let mut rng = common::Rng(7);
        let text: String = (0..9 << 20)
            .map(|_| char::from(b'a' + rng.below(26) as u8))
            .collect();
        let list = with_entry(&entries, &large, |_| {
            format!("{{\"fields\": \"{text}\"}}").into_bytes()
        });
        write_zip(&file, &list, true);
    }
);

hostile!(overlapping_entries, "overlap", |path, entries, file| {
    // Two central directory records point at the same data: the last entry's local header
    // offset is made the first entry's.
    with_extra_entry(&file, &entries, "contents/aaaa");
    let mut raw = std::fs::read(&file).expect("read");
    let central = rfind(&raw, b"PK\x01\x02").expect("central record");
    let first_offset = raw[find(&raw, b"PK\x01\x02").expect("first") + 42..][..4].to_vec();
    raw[central + 42..central + 46].copy_from_slice(&first_offset);
    std::fs::write(&file, raw).expect("write");
});

// Manifests that are missing or lie.

hostile!(no_manifest, "no manifest.json", |path, entries, file| {
    let without: Vec<_> = entries
        .iter()
        .filter(|(k, _)| k != "manifest.json")
        .cloned()
        .collect();
    write_zip(&file, &without, false);
});

hostile!(
    a_manifest_that_is_not_json,
    "manifest.json is not JSON",
    |path, entries, file| {
        write_zip(
            &file,
            &with_entry(&entries, "manifest.json", |_| b"not json".to_vec()),
            false,
        );
    }
);

hostile!(
    a_manifest_with_a_wrong_type,
    "wrong field",
    |path, entries, file| {
        write_zip(
            &file,
            &manifest_edit(&entries, |m| m["counts"]["items"] = "many".into()),
            false,
        );
    }
);

hostile!(
    manifest_counts_that_disagree,
    "counts 99 items",
    |path, entries, file| {
        write_zip(
            &file,
            &manifest_edit(&entries, |m| m["counts"]["items"] = 99.into()),
            false,
        );
    }
);

hostile!(
    a_checksum_that_disagrees,
    "does not match its checksum",
    |path, entries, file| {
        // Content changed after the manifest was written.
        let list = with_entry(&entries, "namespace.json", |b| {
            replace_text(b, "Sample", "Tampered")
        });
        write_zip(&file, &list, false);
    }
);

hostile!(
    an_entry_the_manifest_does_not_list,
    "which its manifest does not list",
    |path, entries, file| {
        let mut extra = entries.clone();
        extra.push(("contents/unlisted".into(), b"{}".to_vec()));
        write_zip(&file, &extra, false);
    }
);

hostile!(
    an_unknown_format_version,
    "archive format version 2",
    |path, entries, file| {
        write_zip(
            &file,
            &manifest_edit(&entries, |m| m["format_version"] = 2.into()),
            false,
        );
    }
);

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

// Records: broken JSON or XML, hostile XML, missing parents.

hostile!(
    a_record_that_is_broken_json,
    "not an item record",
    |path, entries, file| {
        let list = with_entry(&entries, "items.ndjson", |b| {
            let mut b = b.to_vec();
            b.extend_from_slice(b"{\"id\": broken\n");
            b
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_model_that_is_not_well_formed_xml,
    "well-formed",
    |path, entries, file| {
        let list = with_entry(&entries, "items.ndjson", |b| {
            replace_text(
                b,
                "<definitions><process id=\\\"p\\\"/></definitions>",
                "<definitions><process>",
            )
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_model_with_a_doctype_and_an_external_entity,
    "document type",
    |path, entries, file| {
        let list = with_entry(&entries, "items.ndjson", |b| {
            replace_text(
                b,
                "<definitions>",
                "<!DOCTYPE d [<!ENTITY x SYSTEM \\\"file:///etc/passwd\\\">]><definitions>",
            )
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_service_that_is_not_json,
    "not valid JSON",
    |path, entries, file| {
        let list = with_entry(&entries, "items.ndjson", |b| {
            replace_text(b, "{\\\"url\\\"", "{url")
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    an_item_in_a_folder_the_backup_does_not_hold,
    "which the backup does not hold",
    |path, entries, file| {
        // The folder's line removed and the manifest's count made to agree.
        let without_orders = with_entry(&entries, "folders.ndjson", |b| {
            String::from_utf8_lossy(b)
                .lines()
                .filter(|line| !line.contains("\"Orders\""))
                .map(|line| format!("{line}\n"))
                .collect::<String>()
                .into_bytes()
        });
        let list = manifest_edit(&without_orders, |m| {
            let folders = m["counts"]["folders"].as_u64().unwrap_or(0);
            m["counts"]["folders"] = (folders - 1).into();
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_folder_in_a_folder_the_backup_does_not_hold,
    "which the backup does not hold",
    |path, entries, file| {
        let list = with_entry(&entries, "folders.ndjson", |b| {
            String::from_utf8_lossy(b)
                .lines()
                .map(|line| {
                    let mut record: serde_json::Value = serde_json::from_str(line).expect("folder");
                    if record["name"] == "Orders" {
                        record["parent"] = "gone".into();
                    }
                    format!("{record}\n")
                })
                .collect::<String>()
                .into_bytes()
        });
        write_zip(&file, &list, true);
    }
);

// Records that pass as JSON but break the rules the API keeps: each would have been
// restored and then broken the namespace (or every later backup of it).

/// `entries` with `edit` applied to every record of the NDJSON entry `name`.
fn edit_records(
    entries: &[(String, Vec<u8>)],
    name: &str,
    edit: impl Fn(&mut serde_json::Value),
) -> Vec<(String, Vec<u8>)> {
    with_entry(entries, name, |bytes| {
        String::from_utf8_lossy(bytes)
            .lines()
            .map(|line| {
                let mut record: serde_json::Value = serde_json::from_str(line).expect("record");
                edit(&mut record);
                format!("{record}\n")
            })
            .collect::<String>()
            .into_bytes()
    })
}

/// `entries` with the permissions of folder `Orders` replaced by `permissions`.
fn orders_permissions(
    entries: &[(String, Vec<u8>)],
    permissions: serde_json::Value,
) -> Vec<(String, Vec<u8>)> {
    edit_records(entries, "folders.ndjson", |record| {
        if record["name"] == "Orders" {
            record["permissions"] = permissions.clone();
        }
    })
}

hostile!(
    a_permission_with_an_access_level_that_does_not_exist,
    "permissions nsbackup cannot read",
    |path, entries, file| {
        let permissions = serde_json::json!([
            {"principal": {"kind": "role", "name": "sales"}, "access": "god"}
        ]);
        write_zip(&file, &orders_permissions(&entries, permissions), true);
    }
);

hostile!(
    a_permission_for_a_kind_of_principal_that_does_not_exist,
    "permissions nsbackup cannot read",
    |path, entries, file| {
        let permissions = serde_json::json!([
            {"principal": {"kind": "group", "name": "sales"}, "access": "read"}
        ]);
        write_zip(&file, &orders_permissions(&entries, permissions), true);
    }
);

hostile!(
    permissions_that_are_a_string,
    "not a list",
    |path, entries, file| {
        let permissions = serde_json::json!("role:sales:superuser");
        write_zip(&file, &orders_permissions(&entries, permissions), true);
    }
);

hostile!(
    permissions_that_are_objects_of_another_shape,
    "permissions nsbackup cannot read",
    |path, entries, file| {
        let permissions = serde_json::json!([{"role": "sales", "level": 9}]);
        write_zip(&file, &orders_permissions(&entries, permissions), true);
    }
);

hostile!(
    version_1_permission_strings_with_unknown_parts,
    "is not `user:NAME:ACCESS`",
    |path, entries, file| {
        let permissions = serde_json::json!(["role:sales:superuser"]);
        let list = orders_permissions(&entries, permissions);
        let list = manifest_edit(&list, |m| m["schema_version"] = 1.into());
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_principal_name_of_300_characters_with_markup,
    "at most 64 characters",
    |path, entries, file| {
        let name = "<img src=x onerror=alert(1)>".repeat(11);
        let permissions = serde_json::json!([
            {"principal": {"kind": "user", "name": name}, "access": "read"}
        ]);
        write_zip(&file, &orders_permissions(&entries, permissions), true);
    }
);

hostile!(
    an_item_id_that_is_a_path,
    "is not an id",
    |path, entries, file| {
        let list = edit_records(&entries, "items.ndjson", |record| {
            if record["name"] == "Top service" {
                record["id"] = "../../evil".into();
            }
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_folder_id_that_is_a_path,
    "is not an id",
    |path, entries, file| {
        let list = edit_records(&entries, "folders.ndjson", |record| {
            if record["name"] == "Empty" {
                record["id"] = "a/b".into();
            }
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    twin_items_that_differ_only_by_a_trailing_space,
    "spaces at its start or end",
    |path, entries, file| {
        let list = with_entry(&entries, "items.ndjson", |bytes| {
            let text = String::from_utf8_lossy(bytes).to_string();
            let twin = text
                .lines()
                .find(|line| line.contains("\"Top service\""))
                .expect("the top service")
                .replacen("\"Top service\"", "\"Top service \"", 1);
            let mut twin: serde_json::Value = serde_json::from_str(&twin).expect("record");
            twin["id"] = "0123456789abcdef".into();
            format!("{text}{twin}\n").into_bytes()
        });
        let list = manifest_edit(&list, |m| {
            let items = m["counts"]["items"].as_u64().unwrap_or(0);
            m["counts"]["items"] = (items + 1).into();
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_namespace_title_of_10000_characters_with_control_characters,
    "title",
    |path, entries, file| {
        let list = with_entry(&entries, "namespace.json", |bytes| {
            let mut record: serde_json::Value = serde_json::from_slice(bytes).expect("json");
            record["title"] = format!("{}\u{7}\u{1b}[31m", "T".repeat(10_000)).into();
            serde_json::to_vec(&record).expect("json")
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    an_author_name_of_300_characters_with_control_characters,
    "cannot name",
    |path, entries, file| {
        let list = edit_records(&entries, "items.ndjson", |record| {
            record["updated_by"] = format!("{}\u{1b}[2J", "<b>".repeat(100)).into();
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_manifest_naming_a_namespace_that_cannot_exist,
    "namespace nsbackup cannot have",
    |path, entries, file| {
        let list = manifest_edit(&entries, |m| m["namespace"] = "../Other".into());
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_listed_entry_that_no_record_uses,
    "not part of an nsbackup backup",
    |path, entries, file| {
        // Listed with its right checksum, so only its being there is wrong.
        with_extra_entry(&file, &entries, "payload.bin");
    }
);

hostile!(
    a_chain_of_ten_thousand_folders,
    "levels deep",
    |path, entries, file| {
        let chain: String = (0..10_000)
            .map(|i| {
                let parent = (i > 0).then(|| format!("c{:015}", i - 1));
                let record = serde_json::json!({
                    "id": format!("c{i:015}"), "parent": parent, "name": format!("Level {i}"),
                    "permissions": null, "created_at": "2026-01-01T00:00:00Z"
                });
                format!("{record}\n")
            })
            .collect();
        let items = edit_records(&entries, "items.ndjson", |record| {
            record["folder"] = serde_json::Value::Null;
        });
        let list = with_entry(&items, "folders.ndjson", |_| chain.clone().into_bytes());
        let list = manifest_edit(&list, |m| m["counts"]["folders"] = 10_000.into());
        write_zip(&file, &list, true);
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
