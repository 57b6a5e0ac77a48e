//! Folder permissions: what a folder sets itself, and what applies through inheritance.

use std::collections::{HashMap, HashSet};

use crate::types::{Access, Permission, Principal, PrincipalKind};

/// What applies at the top of a namespace when no folder sets permissions: administrators
/// manage, modelers write.
pub fn namespace_defaults() -> Vec<Permission> {
    vec![
        Permission {
            principal: Principal {
                kind: PrincipalKind::Role,
                name: "admin".into(),
            },
            access: Access::Manage,
        },
        Permission {
            principal: Principal {
                kind: PrincipalKind::Role,
                name: "modeler".into(),
            },
            access: Access::Write,
        },
    ]
}

/// The permissions that apply to each folder: its own when it sets some, otherwise those of
/// the nearest ancestor that does, otherwise [`namespace_defaults`].
///
/// `folders` maps a folder id to its parent and its own permissions. A parent that is missing
/// (or a cycle, which the domain never writes) ends the walk at the namespace defaults.
pub fn effective(
    folders: &HashMap<String, (Option<String>, Option<Vec<Permission>>)>,
) -> HashMap<String, Vec<Permission>> {
    let mut result: HashMap<String, Vec<Permission>> = HashMap::with_capacity(folders.len());
    for start in folders.keys() {
        let mut chain = Vec::new();
        let mut on_chain = HashSet::new();
        let mut current = Some(start.clone());
        let found = loop {
            let Some(id) = current else {
                break namespace_defaults();
            };
            if let Some(known) = result.get(&id) {
                break known.clone();
            }
            if !on_chain.insert(id.clone()) {
                break namespace_defaults();
            }
            match folders.get(&id) {
                Some((_, Some(own))) => break own.clone(),
                Some((parent, None)) => {
                    chain.push(id);
                    current = parent.clone();
                }
                None => break namespace_defaults(),
            }
        };
        for id in chain {
            result.insert(id, found.clone());
        }
        if let Some((_, Some(own))) = folders.get(start) {
            result.insert(start.clone(), own.clone());
        }
    }
    result
}

/// Sorts and de-duplicates a permission list so that equal sets compare equal; of two
/// entries for the same principal the stronger access stays.
pub fn normalize(mut permissions: Vec<Permission>) -> Vec<Permission> {
    permissions.sort_by(|a, b| a.principal.cmp(&b.principal).then(b.access.cmp(&a.access)));
    permissions.dedup_by(|later, earlier| later.principal == earlier.principal);
    permissions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str, access: Access) -> Permission {
        Permission {
            principal: Principal {
                kind: PrincipalKind::Role,
                name: name.into(),
            },
            access,
        }
    }

    #[test]
    fn folders_inherit_from_the_nearest_ancestor_that_sets_permissions() {
        let own = vec![role("auditors", Access::Read)];
        let folders = HashMap::from([
            ("top".to_string(), (None, None)),
            (
                "mid".to_string(),
                (Some("top".to_string()), Some(own.clone())),
            ),
            ("leaf".to_string(), (Some("mid".to_string()), None)),
            ("deep".to_string(), (Some("leaf".to_string()), None)),
        ]);
        let effective = effective(&folders);
        assert_eq!(effective["top"], namespace_defaults());
        assert_eq!(effective["mid"], own);
        assert_eq!(effective["leaf"], own);
        assert_eq!(effective["deep"], own);
    }

    #[test]
    fn normalizing_keeps_the_strongest_access_per_principal() {
        let list = vec![
            role("b", Access::Read),
            role("a", Access::Read),
            role("b", Access::Manage),
        ];
        assert_eq!(
            normalize(list),
            vec![role("a", Access::Read), role("b", Access::Manage)]
        );
    }
}
