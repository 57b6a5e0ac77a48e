//! Folder permissions, enforced: what one signed-in user may see and do in a namespace.
//!
//! A folder is visible when the user may read it and every folder above it. Read lets a user
//! see a folder and its items, write lets them create, change, move and delete there, manage
//! lets them change the folder's permissions. At the top level the namespace defaults apply
//! ([`permissions::namespace_defaults`]). Administrators manage everything.
//!
//! A folder the user may not see is answered as missing, so its name does not leak.

use std::collections::HashMap;

use super::{folder, item, permissions};
use crate::domain::{Db, DomainError};
use crate::types::{Access, Actor, ItemDocument, NamespaceTree};

/// What one user may do in each folder of one namespace, as loaded at one moment.
#[derive(Clone, Debug)]
pub struct FolderAccess {
    ns: String,
    top: Option<Access>,
    /// Per folder: its parent, its name and the user's own level there (before visibility).
    folders: HashMap<String, (Option<String>, String, Option<Access>)>,
}

fn not_found(ns: &str) -> DomainError {
    DomainError::NotFound(format!(
        "That folder does not exist in namespace `{ns}`, or you may not see it. Reload the page."
    ))
}

impl FolderAccess {
    /// Loads the folders of namespace `ns` and what `actor` may do in each.
    ///
    /// # Errors
    ///
    /// [`DomainError::NotFound`] for a missing namespace.
    pub async fn load(db: &Db, ns: &str, actor: &Actor) -> Result<Self, DomainError> {
        let tree = folder::tree(db, ns).await?;
        Ok(Self::of_tree(&tree, actor))
    }

    /// What `actor` may do in the folders of `tree`.
    pub fn of_tree(tree: &NamespaceTree, actor: &Actor) -> Self {
        Self {
            ns: tree.namespace.name.clone(),
            top: actor.access(&permissions::namespace_defaults()),
            folders: tree
                .folders
                .iter()
                .map(|f| {
                    (
                        f.id.clone(),
                        (
                            f.parent.clone(),
                            f.name.clone(),
                            actor.access(&f.effective_permissions),
                        ),
                    )
                })
                .collect(),
        }
    }

    /// The name of folder `id`, when it exists.
    pub fn name_of(&self, id: &str) -> Option<String> {
        self.folders.get(id).map(|(_, name, _)| name.clone())
    }

    /// The user's level in `folder` (`None`: the top level); `None` when they may not see it
    /// (or it does not exist).
    pub fn level(&self, folder: Option<&str>) -> Option<Access> {
        let Some(id) = folder else {
            return self.top;
        };
        let (parent, _, own) = self.folders.get(id)?;
        let own = (*own)?;
        // Every folder above must be visible too; the domain never writes cycles, but a
        // broken chain ends the walk rather than looping.
        let mut current = parent.clone();
        let mut steps = 0;
        while let Some(id) = current {
            steps += 1;
            let (parent, _, level) = self.folders.get(&id)?;
            if level.is_none() || steps > self.folders.len() {
                return None;
            }
            current = parent.clone();
        }
        Some(own)
    }

    /// Fails unless the user has at least `needed` in `folder` (`None`: the top level):
    /// [`DomainError::NotFound`] when they may not even see it, [`DomainError::Forbidden`]
    /// when they see it but may do less.
    pub fn require(&self, folder: Option<&str>, needed: Access) -> Result<(), DomainError> {
        let level = self.level(folder).ok_or_else(|| not_found(&self.ns))?;
        if level >= needed {
            return Ok(());
        }
        let place = match folder.and_then(|id| self.folders.get(id)) {
            Some((_, name, _)) => format!("folder `{name}`"),
            None => format!("the top level of namespace `{}`", self.ns),
        };
        let what = match needed {
            Access::Read => "see",
            Access::Write => "change anything in",
            Access::Manage => "change the permissions of",
        };
        Err(DomainError::Forbidden(format!(
            "You may not {what} {place}: that needs {} access. Ask someone who manages the folder, or an administrator.",
            needed.as_str()
        )))
    }

    /// As [`require`](Self::require) for `root` and every folder below it: deleting or
    /// exporting a folder reaches everything inside.
    pub fn require_subtree(&self, root: &str, needed: Access) -> Result<(), DomainError> {
        self.require(Some(root), needed)?;
        let below: Vec<&String> = self
            .folders
            .keys()
            .filter(|id| self.is_below(id, root))
            .collect();
        for id in below {
            if self.level(Some(id)).is_none_or(|level| level < needed) {
                let (_, name, _) = &self.folders[root];
                return Err(DomainError::Forbidden(format!(
                    "Folder `{name}` holds folders you may not {}. Ask an administrator.",
                    if needed == Access::Read {
                        "see"
                    } else {
                        "change"
                    }
                )));
            }
        }
        Ok(())
    }

    fn is_below(&self, id: &str, root: &str) -> bool {
        let mut current = self
            .folders
            .get(id)
            .and_then(|(parent, _, _)| parent.clone());
        let mut steps = 0;
        while let Some(parent) = current {
            if parent == root {
                return true;
            }
            steps += 1;
            if steps > self.folders.len() {
                return false;
            }
            current = self.folders.get(&parent).and_then(|(p, _, _)| p.clone());
        }
        false
    }

    /// `tree` with only the folders the user may see, each with the user's level, and the
    /// user's level at the top.
    pub fn filter(&self, mut tree: NamespaceTree) -> NamespaceTree {
        tree.folders.retain_mut(|folder| {
            folder.access = self.level(Some(&folder.id));
            folder.access.is_some()
        });
        tree.top_access = self.top;
        tree
    }
}

/// Namespace `ns` as `actor` may see it.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing namespace.
pub async fn visible_tree(db: &Db, ns: &str, actor: &Actor) -> Result<NamespaceTree, DomainError> {
    let tree = folder::tree(db, ns).await?;
    Ok(FolderAccess::of_tree(&tree, actor).filter(tree))
}

/// Item `id` of `ns`, after checking that `actor` has `needed` in its folder; also returns
/// the access map for further checks.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing item or one the user may not see,
/// [`DomainError::Forbidden`] when they may see it but `needed` is more than they have.
pub async fn item_with(
    db: &Db,
    ns: &str,
    id: &str,
    actor: &Actor,
    needed: Access,
) -> Result<(ItemDocument, FolderAccess), DomainError> {
    let access = FolderAccess::load(db, ns, actor).await?;
    let document = item::get(db, ns, id).await?;
    let folder = document.info.folder.as_deref();
    if access.level(folder).is_none() {
        return Err(DomainError::NotFound(format!(
            "That item does not exist in namespace `{ns}`, or you may not see it. Reload the page."
        )));
    }
    access.require(folder, needed)?;
    Ok((document, access))
}
