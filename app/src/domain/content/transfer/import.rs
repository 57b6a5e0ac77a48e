//! Importing an export file: checked whole, staged in a scratch generation and migrated,
//! then copied in with fresh ids — or nothing written at all.

use std::collections::{HashMap, HashSet};

use super::{
    ExportFile, FORMAT, FORMAT_VERSION, FolderRecord, IMPORT_MAX_BYTES, ItemRecord, invalid,
};
use crate::domain::content::{Siblings, active_generation, folder, new_id};
use crate::domain::db::{check_transaction, take_json};
use crate::domain::generation as generations;
use crate::domain::schema::{self, SCHEMA_VERSION};
use crate::domain::{Db, DomainError};
use crate::types::{ClashPolicy, ImportReport};
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
fn check_structure(file: &ExportFile, depth: usize) -> Result<(), DomainError> {
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

/// Imports an export file into `container` (a folder of namespace `ns`, or `None` for its
/// top level).
///
/// # Errors
///
/// [`DomainError::Invalid`] for a file that is not a valid export, or of a newer schema
/// version; [`DomainError::Conflict`] when the target holds an entry of the same name and
/// `policy` is [`ClashPolicy::Refuse`]; [`DomainError::NotFound`] for a missing namespace or
/// folder. Nothing is written then.
pub async fn import(
    db: &Db,
    ns: &str,
    container: Option<&str>,
    text: &str,
    policy: ClashPolicy,
    keep_permissions: bool,
    actor: &str,
) -> Result<ImportReport, DomainError> {
    let file = parse(text)?;
    let target = active_generation(db, ns).await?;
    let depth = match container {
        Some(container) => {
            folder::ensure_exists(db, ns, &target, container).await?;
            folder::depth_of(&folder::tree(db, ns).await?.folders, container)
        }
        None => 0,
    };
    check_structure(&file, depth)?;

    let scratch = generations::new_id();
    let staged = stage(db, &scratch, &file).await;
    let result = match staged {
        Ok(()) => {
            let into = Destination {
                generation: &target,
                container,
                keep_permissions,
            };
            copy_in(db, &scratch, into, &file, policy, actor).await
        }
        Err(error) => Err(error),
    };
    // The scratch generation goes whatever happened; one left by a crash is retired at start-up.
    discard(db, &scratch).await;
    result
}

/// Writes the file's records as they are into a scratch generation and migrates it.
async fn stage(db: &Db, scratch: &str, file: &ExportFile) -> Result<(), DomainError> {
    let create = generations::create_importing();
    db.query(format!(
        "BEGIN TRANSACTION;
         {create}
         FOR $f IN $folders {{
             CREATE type::record('folder', [$gen, $f.id]) CONTENT {{
                 gen: $gen, parent: $f.parent ?? NONE, name: $f.name, permissions: $f.permissions ?? NONE
             }};
         }};
         FOR $i IN $items {{
             CREATE type::record('item', [$gen, $i.id]) CONTENT {{
                 gen: $gen, folder: $i.folder ?? NONE, kind: $i.kind, name: $i.name, content: $i.content
             }};
         }};
         COMMIT TRANSACTION;",
    ))
    .bind(("gen", scratch.to_string()))
    .bind(("folders", serde_json::Value::Array(file.folders.clone())))
    .bind(("items", serde_json::Value::Array(file.items.clone())))
    .await
    .and_then(check_transaction)
    .map_err(|e| invalid(format!("This export file is damaged: {e}.")))?;
    if file.schema_version < SCHEMA_VERSION {
        schema::migrate_generation(db, scratch, file.schema_version).await?;
    }
    Ok(())
}

async fn discard(db: &Db, scratch: &str) {
    if let Err(error) = generations::remove(db, scratch).await {
        tracing::warn!(%error, generation = scratch, "could not remove an import's scratch data; it is removed at the next start");
    }
}

/// Where an import goes, and whether the folders keep the permissions the file gives them.
#[derive(Clone, Copy, Debug)]
struct Destination<'a> {
    generation: &'a str,
    container: Option<&'a str>,
    keep_permissions: bool,
}

/// Reads the migrated records back, checks them as the explorer would, and writes them with
/// fresh ids into the target generation in one transaction.
async fn copy_in(
    db: &Db,
    scratch: &str,
    into: Destination<'_>,
    file: &ExportFile,
    policy: ClashPolicy,
    actor: &str,
) -> Result<ImportReport, DomainError> {
    let damaged = |e: DomainError| invalid(format!("This export file is damaged: {e}."));
    let mut response = db
        .query(
            "SELECT id[1] AS id, parent, name, permissions FROM folder:[$gen, NONE]..[$gen, {}];
             SELECT id[1] AS id, folder, kind, name, content FROM item:[$gen, NONE]..[$gen, {}];",
        )
        .bind(("gen", scratch.to_string()))
        .await?;
    let Destination {
        generation: target,
        container,
        keep_permissions,
    } = into;
    let mut folders: Vec<FolderRecord> = take_json(&mut response, 0).map_err(damaged)?;
    let items: Vec<ItemRecord> = take_json(&mut response, 1).map_err(damaged)?;
    for folder in &folders {
        stored_name(&folder.name)
            .map_err(|e| invalid(format!("A folder in the file has a bad name: {e}")))?;
        let permissions = folder.permissions.iter().flatten();
        if permissions.clone().count() > validate::PERMISSIONS_MAX {
            return Err(invalid(format!(
                "Folder `{}` in the file sets more than {} permissions.",
                folder.name,
                validate::PERMISSIONS_MAX
            )));
        }
        for permission in permissions {
            validate::principal_name(&permission.principal.name).map_err(invalid)?;
        }
    }
    // Permissions are part of what is imported only for someone who may set them here;
    // for anyone else the folders inherit, as new folders do.
    let mut permissions_dropped = 0;
    if !keep_permissions {
        for folder in &mut folders {
            if folder.permissions.take().is_some() {
                permissions_dropped += 1;
            }
        }
    }
    for item in &items {
        stored_name(&item.name)
            .map_err(|e| invalid(format!("An item in the file has a bad name: {e}")))?;
        validate::content(item.kind, &item.content)
            .map_err(|e| invalid(format!("`{}`: {e}", item.name)))?;
    }
    check_sibling_names(&folders, &items)?;

    let (siblings, wanted) = match folders.iter().find(|f| f.parent.is_none()) {
        Some(root) => (Siblings::Folders, root.name.clone()),
        None => (
            Siblings::Items,
            items.first().map(|i| i.name.clone()).unwrap_or_default(),
        ),
    };
    let name = free_name(db, siblings, target, container, &wanted, policy).await?;

    // Fresh ids everywhere: the same file imported twice makes two independent copies.
    let fresh: HashMap<&str, String> = folders
        .iter()
        .map(|f| f.id.as_str())
        .chain(items.iter().map(|i| i.id.as_str()))
        .map(|id| (id, new_id()))
        .collect();
    let folder_rows: Vec<serde_json::Value> = folders
        .iter()
        .map(|f| {
            serde_json::json!({
                "id": fresh[f.id.as_str()],
                "parent": match &f.parent { Some(p) => Some(fresh[p.as_str()].clone()), None => container.map(str::to_string) },
                "name": if f.parent.is_none() { name.clone() } else { f.name.clone() },
                "permissions": f.permissions,
            })
        })
        .collect();
    let item_rows: Vec<serde_json::Value> = items
        .iter()
        .map(|i| {
            serde_json::json!({
                "id": fresh[i.id.as_str()],
                "folder": match &i.folder { Some(f) => Some(fresh[f.as_str()].clone()), None => container.map(str::to_string) },
                "kind": i.kind.as_str(),
                "name": if folders.is_empty() { name.clone() } else { i.name.clone() },
                "content": i.content,
                "size": i.content.len(),
            })
        })
        .collect();
    db.query(
        "BEGIN TRANSACTION;
         FOR $f IN $folders {
             CREATE type::record('folder', [$gen, $f.id]) CONTENT {
                 gen: $gen, parent: $f.parent ?? NONE, name: $f.name, permissions: $f.permissions ?? NONE,
                 created_at: time::now()
             };
         };
         FOR $i IN $items {
             CREATE type::record('item', [$gen, $i.id]) CONTENT {
                 gen: $gen, folder: $i.folder ?? NONE, kind: $i.kind, name: $i.name, content: $i.content,
                 size: $i.size, revision: 1, created_at: time::now(), updated_at: time::now(), updated_by: $actor
             };
         };
         COMMIT TRANSACTION;",
    )
    .bind(("gen", target.to_string()))
    .bind(("folders", serde_json::Value::Array(folder_rows)))
    .bind(("items", serde_json::Value::Array(item_rows)))
    .bind(("actor", actor.to_string()))
    .await
    .and_then(check_transaction)
    .map_err(crate::domain::content::map_duplicate(&name, clash))?;

    Ok(ImportReport {
        renamed: name != wanted,
        name,
        folders: folders.len(),
        items: items.len(),
        migrated_from: (file.schema_version < SCHEMA_VERSION).then_some(file.schema_version),
        permissions_dropped,
    })
}

/// A name as the explorer stores it: valid and trimmed already (a file that differs only by
/// spaces around a name would otherwise make two siblings that look alike).
fn stored_name(name: &str) -> Result<(), String> {
    if validate::entry_name(name)? != name {
        return Err(format!(
            "`{}` has spaces at its start or end.",
            name.escape_debug()
        ));
    }
    Ok(())
}

fn clash(name: &str) -> DomainError {
    DomainError::Conflict(format!(
        "`{name}` exists in this folder already. Import it as a copy, or rename or delete the existing one first."
    ))
}

/// Names inside the imported tree must be unique among siblings, as everywhere.
fn check_sibling_names(folders: &[FolderRecord], items: &[ItemRecord]) -> Result<(), DomainError> {
    let mut seen = HashSet::new();
    for folder in folders {
        if !seen.insert(("folder", folder.parent.clone(), folder.name.clone())) {
            return Err(invalid(format!(
                "The file holds two folders named `{}` in the same place.",
                folder.name
            )));
        }
    }
    for item in items {
        if !seen.insert(("item", item.folder.clone(), item.name.clone())) {
            return Err(invalid(format!(
                "The file holds two items named `{}` in the same folder.",
                item.name
            )));
        }
    }
    Ok(())
}

/// The name the imported root gets in `container`: `wanted` when it is free; otherwise a
/// refusal, or (for [`ClashPolicy::Copy`]) the first free `wanted (N)`.
async fn free_name(
    db: &Db,
    siblings: Siblings,
    generation: &str,
    container: Option<&str>,
    wanted: &str,
    policy: ClashPolicy,
) -> Result<String, DomainError> {
    let taken_by = |name: String| async move {
        crate::domain::content::ensure_name_free(
            db, siblings, generation, container, &name, None, clash,
        )
        .await
    };
    match taken_by(wanted.to_string()).await {
        Ok(()) => return Ok(wanted.to_string()),
        Err(DomainError::Conflict(message)) if policy == ClashPolicy::Refuse => {
            return Err(DomainError::Conflict(message));
        }
        Err(DomainError::Conflict(_)) => {}
        Err(other) => return Err(other),
    }
    for n in 2..1000 {
        let candidate = format!("{wanted} ({n})");
        if validate::entry_name(&candidate).is_err() {
            break;
        }
        match taken_by(candidate.clone()).await {
            Ok(()) => return Ok(candidate),
            Err(DomainError::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Err(clash(wanted))
}
