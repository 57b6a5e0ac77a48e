//! Checking an export file before anything of it is written: its envelope, its size
//! and counts, every record's fields, and the shape of its tree below the target folder.

use std::collections::{HashMap, HashSet};

use super::{ExportFile, FORMAT, FORMAT_VERSION, IMPORT_MAX_BYTES, invalid};
use crate::domain::DomainError;
use crate::domain::schema::SCHEMA_VERSION;
use crate::validate;

/// Reads and checks an export file's envelope, before any of it is written.
pub(super) fn parse(text: &str) -> Result<ExportFile, DomainError> {
    if text.len() > IMPORT_MAX_BYTES {
        return Err(invalid(format!(
            "The file is {} MiB; an import reads at most {} MiB. Export a smaller folder.",
            text.len() / (1024 * 1024),
            IMPORT_MAX_BYTES / (1024 * 1024)
        )));
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        invalid(format!(
            "This file is not an nsbackup export: it is not JSON ({e})."
        ))
    })?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(invalid(
            "This file is not an nsbackup export. Choose a file made with Export in the explorer.",
        ));
    }
    let format_version = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if format_version != u64::from(FORMAT_VERSION) {
        return Err(invalid(format!(
            "This export has format version {format_version}; this server reads version {FORMAT_VERSION}. Upgrade the server to import it."
        )));
    }
    let file: ExportFile = serde_json::from_value(value)
        .map_err(|e| invalid(format!("This export file is damaged: {e}.")))?;
    if file.schema_version > SCHEMA_VERSION {
        return Err(invalid(format!(
            "This export was made with schema version {}; this server supports up to {SCHEMA_VERSION}. Upgrade the server to import it.",
            file.schema_version
        )));
    }
    Ok(file)
}

/// The most folders one import writes.
pub const IMPORT_FOLDERS_MAX: usize = 2_000;
/// The most items one import writes.
pub const IMPORT_ITEMS_MAX: usize = 20_000;

/// What a record is called in a refusal: its name, or its id when the name is no text.
fn label(record: &serde_json::Value) -> String {
    let text = |field: &str| record.get(field).and_then(serde_json::Value::as_str);
    let name = text("name").or_else(|| text("id")).unwrap_or("?");
    name.chars().take(100).collect()
}

/// Checks every record's fields before the database sees any of them: names are text,
/// folder permissions are a list of what the file's schema version writes (`KIND:NAME:ACCESS`
/// strings in version 1, objects since), and no two siblings share a name.
fn check_records(file: &ExportFile) -> Result<(), DomainError> {
    let mut siblings = HashSet::new();
    for record in &file.folders {
        let Some(name) = record.get("name").and_then(serde_json::Value::as_str) else {
            return Err(invalid(format!(
                "This export file is damaged: folder `{}` has no name.",
                label(record)
            )));
        };
        let parent = record.get("parent").and_then(serde_json::Value::as_str);
        if !siblings.insert(("folder", parent, name)) {
            return Err(invalid(format!(
                "The file holds two folders named `{}` in the same place.",
                label(record)
            )));
        }
        check_permissions(record, file.schema_version)?;
    }
    for record in &file.items {
        let Some(name) = record.get("name").and_then(serde_json::Value::as_str) else {
            return Err(invalid(format!(
                "This export file is damaged: item `{}` has no name.",
                label(record)
            )));
        };
        let folder = record.get("folder").and_then(serde_json::Value::as_str);
        if !siblings.insert(("item", folder, name)) {
            return Err(invalid(format!(
                "The file holds two items named `{}` in the same folder.",
                label(record)
            )));
        }
    }
    Ok(())
}

/// A folder record's `permissions`: none (it inherits), or a list of at most
/// [`validate::PERMISSIONS_MAX`] permissions as schema version `schema` writes them.
fn check_permissions(record: &serde_json::Value, schema: u32) -> Result<(), DomainError> {
    let refused = |why: &str| {
        invalid(format!(
            "Folder `{}` in the file has permissions nsbackup never writes: {why}",
            label(record)
        ))
    };
    let list = match record.get("permissions") {
        None | Some(serde_json::Value::Null) => return Ok(()),
        Some(serde_json::Value::Array(list)) => list,
        Some(_) => return Err(refused("they are not a list.")),
    };
    if list.len() > validate::PERMISSIONS_MAX {
        return Err(invalid(format!(
            "Folder `{}` in the file sets more than {} permissions.",
            label(record),
            validate::PERMISSIONS_MAX
        )));
    }
    for permission in list {
        let fits = if schema == 1 {
            permission.as_str().is_some_and(|text| {
                let parts: Vec<&str> = text.split(':').collect();
                matches!(parts.as_slice(), [kind, name, access]
                    if matches!(*kind, "user" | "role")
                        && !name.is_empty()
                        && matches!(*access, "read" | "write" | "manage"))
            })
        } else {
            serde_json::from_value::<crate::types::Permission>(permission.clone()).is_ok()
        };
        if !fits {
            let shown: String = permission.to_string().chars().take(80).collect();
            return Err(refused(&if schema == 1 {
                format!("`{shown}` is not `KIND:NAME:ACCESS` (schema version 1).")
            } else {
                format!("`{shown}` is not a principal with an access.")
            }));
        }
    }
    Ok(())
}

/// Checks that the records form one folder tree (or one item) whose references hold, and
/// that the tree fits below a place `depth` folders deep.
pub(super) fn check_structure(file: &ExportFile, depth: usize) -> Result<(), DomainError> {
    // An import writes in one request; a whole namespace moves by backup and restore.
    if file.folders.len() > IMPORT_FOLDERS_MAX || file.items.len() > IMPORT_ITEMS_MAX {
        return Err(invalid(format!(
            "This export holds {} folder(s) and {} item(s); an import takes at most {} folders and {} items. Export smaller folders, or move the whole namespace with a backup and a restore.",
            crate::text::thousands(file.folders.len()),
            crate::text::thousands(file.items.len()),
            crate::text::thousands(IMPORT_FOLDERS_MAX),
            crate::text::thousands(IMPORT_ITEMS_MAX),
        )));
    }
    check_records(file)?;
    let id_of = |record: &serde_json::Value, what: &str| -> Result<String, DomainError> {
        let id = record
            .get("id")
            .and_then(|id| id.as_str())
            .ok_or_else(|| invalid(format!("This export file is damaged: a {what} has no id.")))?;
        validate::record_id(id)
            .map_err(|e| invalid(format!("This export file is damaged: a {what}'s {e}.")))?;
        Ok(id.to_string())
    };
    let reference = |record: &serde_json::Value, field: &str| {
        record
            .get(field)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let mut folder_ids = HashSet::new();
    let mut parents = HashMap::new();
    for record in &file.folders {
        let id = id_of(record, "folder")?;
        parents.insert(id.clone(), reference(record, "parent"));
        if !folder_ids.insert(id) {
            return Err(invalid(
                "This export file is damaged: two folders have the same id.",
            ));
        }
    }
    let roots = parents.values().filter(|p| p.is_none()).count();
    if !file.folders.is_empty() && roots != 1 {
        return Err(invalid(
            "This export file is damaged: it must hold exactly one top folder.",
        ));
    }
    let links = parents
        .iter()
        .map(|(id, parent)| (id.as_str(), parent.as_deref()))
        .collect();
    match validate::folder_depths(&links, depth) {
        Ok(_) => {}
        Err(validate::TreeProblem::TooDeep { .. }) => {
            return Err(invalid(format!(
                "Importing this folder here would nest folders more than {} levels deep. Import it into a folder nearer the top.",
                validate::FOLDER_DEPTH_MAX
            )));
        }
        Err(_) => {
            return Err(invalid(
                "This export file is damaged: a folder refers to a parent that is not in the file.",
            ));
        }
    }
    let mut item_ids = HashSet::new();
    for record in &file.items {
        if !item_ids.insert(id_of(record, "item")?) {
            return Err(invalid(
                "This export file is damaged: two items have the same id.",
            ));
        }
        match reference(record, "folder") {
            Some(folder) if !folder_ids.contains(&folder) => {
                return Err(invalid(
                    "This export file is damaged: an item refers to a folder that is not in the file.",
                ));
            }
            None if !file.folders.is_empty() => {
                return Err(invalid(
                    "This export file is damaged: an item lies outside the exported folder.",
                ));
            }
            _ => {}
        }
    }
    if file.folders.is_empty() && file.items.len() != 1 {
        return Err(invalid(
            "This export file is empty or damaged: it holds neither a folder nor one item.",
        ));
    }
    Ok(())
}
