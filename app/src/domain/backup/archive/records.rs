//! What each record of an archive must be: the rules the API applies to what it stores,
//! applied to what a file claims.

use std::collections::HashMap;

use super::{
    ArchiveError, FORMAT, FORMAT_VERSION, FolderRecord, ItemRecord, Manifest, NamespaceRecord,
    invalid,
};
use crate::domain::schema::SCHEMA_VERSION;
use crate::validate;

pub(super) fn parse_manifest(bytes: &[u8]) -> Result<Manifest, ArchiveError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        invalid(format!(
            "manifest.json is not JSON ({e}): the file is not an nsbackup backup."
        ))
    })?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(invalid(
            "manifest.json does not describe an nsbackup backup (its `format` is not nsbackup-backup).",
        ));
    }
    let version = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(FORMAT_VERSION)) {
        return Err(invalid(format!(
            "This backup has archive format version {}; this server reads version {FORMAT_VERSION}. Upgrade the server to restore it.",
            version.map_or_else(|| "?".to_string(), |v| v.to_string())
        )));
    }
    if let Some(found) = value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
        && found > u64::from(SCHEMA_VERSION)
    {
        return Err(ArchiveError::TooNew {
            found: u32::try_from(found).unwrap_or(u32::MAX),
            supported: SCHEMA_VERSION,
        });
    }
    let manifest: Manifest = serde_json::from_value(value)
        .map_err(|e| invalid(format!("manifest.json has a wrong field ({e}).")))?;
    validate::namespace_name(&manifest.namespace).map_err(|e| {
        invalid(format!(
            "manifest.json names a namespace nsbackup cannot have: {e}"
        ))
    })?;
    if manifest.schema_version == 0 {
        return Err(invalid(
            "manifest.json has schema version 0, which never existed.",
        ));
    }
    let version = &manifest.app_version;
    if version.is_empty()
        || version.len() > 64
        || version
            .chars()
            .any(|c| c.is_control() || validate::is_invisible_format(c))
    {
        return Err(invalid(
            "manifest.json has an application version nsbackup never writes.",
        ));
    }
    Ok(manifest)
}

pub(super) fn check_folder_tree(
    folders: &HashMap<String, (Option<String>, String)>,
) -> Result<(), ArchiveError> {
    let name_of = |id: &str| {
        folders
            .get(id)
            .map_or_else(|| id.to_string(), |(_, name)| name.clone())
    };
    let parents = folders
        .iter()
        .map(|(id, (parent, _))| (id.as_str(), parent.as_deref()))
        .collect();
    match validate::folder_depths(&parents, 0) {
        Ok(_) => Ok(()),
        Err(validate::TreeProblem::MissingParent { id, parent }) => Err(invalid(format!(
            "Folder `{}` is in folder `{parent}`, which the backup does not hold.",
            name_of(&id)
        ))),
        Err(validate::TreeProblem::Cycle { id }) => Err(invalid(format!(
            "Folder `{}` is inside itself: the backup is inconsistent.",
            name_of(&id)
        ))),
        Err(validate::TreeProblem::TooDeep { id, .. }) => Err(invalid(format!(
            "Folder `{}` lies more than {} folders deep; nsbackup keeps folders at most {} levels deep.",
            name_of(&id),
            validate::FOLDER_DEPTH_MAX,
            validate::FOLDER_DEPTH_MAX
        ))),
    }
}

/// A name as the API would store it: valid, and already trimmed.
fn check_name(name: &str) -> Result<(), String> {
    let trimmed = validate::entry_name(name)?;
    if trimmed != name {
        return Err(format!(
            "name `{}` has spaces at its start or end, which nsbackup never stores.",
            name.escape_debug()
        ));
    }
    Ok(())
}

/// The namespace record by the rules of the API.
pub(super) fn check_namespace(namespace: &NamespaceRecord) -> Result<(), String> {
    validate::namespace_name(&namespace.name)?;
    if validate::title(&namespace.title)? != namespace.title {
        return Err(
            "the title has spaces at its start or end, which nsbackup never stores.".into(),
        );
    }
    Ok(())
}

/// One folder record by the rules of the API: ids, name and permissions as stored at the
/// backup's `schema_version` (version 1: `KIND:NAME:ACCESS` strings; later: entries).
pub(super) fn check_folder(folder: &FolderRecord, schema_version: u32) -> Result<(), String> {
    validate::record_id(&folder.id).map_err(|e| format!("the folder's {e}."))?;
    if let Some(parent) = &folder.parent {
        validate::record_id(parent).map_err(|e| format!("the folder's parent: {e}."))?;
    }
    check_name(&folder.name)?;
    let Some(permissions) = folder.permissions.as_ref().filter(|p| !p.is_null()) else {
        return Ok(());
    };
    let bad = |detail: String| {
        format!(
            "folder `{}` has permissions nsbackup cannot read: {detail}",
            folder.name
        )
    };
    let list = permissions
        .as_array()
        .ok_or_else(|| bad("they are not a list.".into()))?;
    if list.len() > validate::PERMISSIONS_MAX {
        return Err(bad(format!(
            "{} entries, at most {} are allowed.",
            list.len(),
            validate::PERMISSIONS_MAX
        )));
    }
    for entry in list {
        let permission = if schema_version < 2 {
            entry
                .as_str()
                .and_then(validate::permission_v1)
                .ok_or_else(|| {
                    bad(format!(
                        "`{entry}` is not `user:NAME:ACCESS` or `role:NAME:ACCESS` with read, write or manage."
                    ))
                })?
        } else {
            serde_json::from_value::<crate::types::Permission>(entry.clone()).map_err(|e| {
                bad(format!(
                    "`{entry}` is not an entry with a user or a role and read, write or manage ({e})."
                ))
            })?
        };
        validate::principal_name(&permission.principal.name).map_err(bad)?;
    }
    Ok(())
}

/// One item record by the rules of the API (its content is checked with the content).
pub(super) fn check_item(item: &ItemRecord) -> Result<(), String> {
    validate::record_id(&item.id).map_err(|e| format!("the item's {e}."))?;
    if let Some(folder) = &item.folder {
        validate::record_id(folder).map_err(|e| format!("the item's folder: {e}."))?;
    }
    check_name(&item.name)?;
    validate::author(&item.updated_by).map_err(|e| {
        format!(
            "item `{}` was last changed by someone nsbackup cannot name: {e}.",
            item.name
        )
    })?;
    if i64::try_from(item.revision).is_err() {
        return Err(format!(
            "item `{}` has revision {}, more than nsbackup counts.",
            item.name, item.revision
        ));
    }
    Ok(())
}
