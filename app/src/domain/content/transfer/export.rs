//! Exporting one folder (with everything below it) or one item as an export file.

use chrono::Utc;

use super::{
    ExportFile, ExportTarget, FORMAT, FORMAT_VERSION, FolderRecord, ItemRecord, file_name_safe,
};
use crate::domain::content::{active_generation, folder};
use crate::domain::db::take_json;
use crate::domain::schema::SCHEMA_VERSION;
use crate::domain::{Db, DomainError};

/// Exports one folder (with its subfolders and items) or one item. Returns the file name a
/// browser should save it under, and the document.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing namespace, folder or item.
pub async fn export(
    db: &Db,
    ns: &str,
    target: &ExportTarget,
) -> Result<(String, ExportFile), DomainError> {
    let generation = active_generation(db, ns).await?;
    let (name, folders, items) = match target {
        ExportTarget::Item(id) => {
            let document = crate::domain::content::item::get(db, ns, id).await?;
            let record = ItemRecord {
                id: document.info.id,
                folder: None,
                kind: document.info.kind,
                name: document.info.name.clone(),
                content: document.content,
            };
            (document.info.name, Vec::new(), vec![record])
        }
        ExportTarget::Folder(id) => {
            let tree = folder::tree(db, ns).await?;
            let root = tree.folders.iter().find(|f| &f.id == id).ok_or_else(|| {
                DomainError::NotFound(format!(
                    "That folder no longer exists in namespace `{ns}`; reload the page."
                ))
            })?;
            let ids = folder::subtree(&tree.folders, id);
            let folders: Vec<FolderRecord> = tree
                .folders
                .iter()
                .filter(|f| ids.contains(&f.id))
                .map(|f| FolderRecord {
                    id: f.id.clone(),
                    parent: if &f.id == id { None } else { f.parent.clone() },
                    name: f.name.clone(),
                    permissions: f.permissions.clone(),
                })
                .collect();
            let mut response = db
                .query("SELECT id[1] AS id, folder, kind, name, content FROM item WHERE gen = $gen AND folder IN $folders")
                .bind(("gen", generation))
                .bind(("folders", ids.into_iter().collect::<Vec<_>>()))
                .await?;
            let mut items: Vec<ItemRecord> = take_json(&mut response, 0)?;
            items.sort_by(|a, b| a.id.cmp(&b.id));
            (root.name.clone(), folders, items)
        }
    };
    let to_json = |value: serde_json::Result<serde_json::Value>| {
        value.map_err(|e| DomainError::Corrupt(e.to_string()))
    };
    let file = ExportFile {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        schema_version: SCHEMA_VERSION,
        app_version: env!("CARGO_PKG_VERSION").into(),
        exported_at: Utc::now(),
        namespace: ns.into(),
        folders: folders
            .iter()
            .map(|f| to_json(serde_json::to_value(f)))
            .collect::<Result<_, _>>()?,
        items: items
            .iter()
            .map(|i| to_json(serde_json::to_value(i)))
            .collect::<Result<_, _>>()?,
    };
    Ok((format!("{}.export.json", file_name_safe(&name)), file))
}
