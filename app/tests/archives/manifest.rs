//! Manifests that are missing or lie: not JSON, a wrong type, counts or checksums that
//! disagree, an entry it does not list, an unknown format version.

use app::domain::backup::Engine;
use app::domain::backup::archive::Limits;

use super::{manifest_edit, refused, replace_text, valid_backup, with_entry, write_zip};
use crate::common::backups::{Setup, setup};

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
