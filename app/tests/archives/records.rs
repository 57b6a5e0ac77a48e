//! Hostile records: broken JSON or XML, hostile XML, missing parents, and records that pass
//! as JSON but break the rules the API keeps.

use app::domain::backup::Engine;
use app::domain::backup::archive::Limits;

use super::{
    manifest_edit, refused, replace_text, valid_backup, with_entry, with_extra_entry, write_zip,
};
use crate::common::backups::{Setup, setup};

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
