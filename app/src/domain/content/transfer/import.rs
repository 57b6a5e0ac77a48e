//! Importing an export file: checked whole, staged in a scratch generation and migrated,
//! then copied in with fresh ids — or nothing written at all.

use std::collections::{HashMap, HashSet};

use super::checks::{check_structure, parse};
use super::{ExportFile, FolderRecord, ItemRecord, invalid};
use crate::domain::content::{Siblings, active_generation, folder, new_id};
use crate::domain::db::{check_transaction, take_json};
use crate::domain::generation as generations;
use crate::domain::schema::{self, SCHEMA_VERSION};
use crate::domain::{Db, DomainError};
use crate::types::{ClashPolicy, ImportReport};
use crate::validate;

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
