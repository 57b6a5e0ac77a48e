//! Whether folders form a tree that may be stored: every parent present, no loops, no deeper
//! than [`FOLDER_DEPTH_MAX`] — found in one pass, however the tree is shaped.

use super::FOLDER_DEPTH_MAX;

/// Why a set of folders does not form a tree that may be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeProblem {
    /// Folder `id` names a parent that is not among the folders.
    MissingParent { id: String, parent: String },
    /// Folder `id` is (through its parents) inside itself.
    Cycle { id: String },
    /// Folder `id` lies deeper than [`FOLDER_DEPTH_MAX`].
    TooDeep { id: String, depth: usize },
}

/// The depth of every folder (1 at the top, where `parent` is `None`), given each folder's
/// parent. Every folder is visited once, whatever the shape of the tree, so a long chain
/// costs no more than a flat list; a chain is never followed past [`FOLDER_DEPTH_MAX`] plus
/// `extra` (the depth of the place the folders are put into: 0 for the top level).
///
/// # Errors
///
/// The first [`TreeProblem`] found.
pub fn folder_depths<'a>(
    parents: &std::collections::HashMap<&'a str, Option<&'a str>>,
    extra: usize,
) -> Result<std::collections::HashMap<&'a str, usize>, TreeProblem> {
    use std::collections::HashMap;

    let mut depths: HashMap<&'a str, usize> = HashMap::with_capacity(parents.len());
    let mut chain: Vec<&'a str> = Vec::new();
    // In the order of the ids, so that a file with several problems is refused for the same
    // one every time (a map's own order changes from run to run).
    let mut starts: Vec<&'a str> = parents.keys().copied().collect();
    starts.sort_unstable();
    for start in starts {
        if depths.contains_key(start) {
            continue;
        }
        chain.clear();
        let mut current = start;
        // The depth of the first known folder above the chain (0: the chain reaches the top).
        let base = loop {
            chain.push(current);
            if chain.len() + extra > FOLDER_DEPTH_MAX {
                // Deeper than allowed already, before the top is even in sight (a loop is
                // found before it gets this long: the chain holds no folder twice).
                return Err(TreeProblem::TooDeep {
                    id: start.to_string(),
                    depth: chain.len() + extra,
                });
            }
            match parents.get(current) {
                Some(None) | None => break 0,
                Some(Some(parent)) => {
                    let parent: &'a str = parent;
                    if let Some(&known) = depths.get(parent) {
                        break known;
                    }
                    if !parents.contains_key(parent) {
                        return Err(TreeProblem::MissingParent {
                            id: current.to_string(),
                            parent: parent.to_string(),
                        });
                    }
                    if chain.contains(&parent) {
                        return Err(TreeProblem::Cycle {
                            id: parent.to_string(),
                        });
                    }
                    current = parent;
                }
            }
        };
        for (above, id) in chain.iter().rev().enumerate() {
            let depth = base + above + 1;
            if depth + extra > FOLDER_DEPTH_MAX {
                return Err(TreeProblem::TooDeep {
                    id: (*id).to_string(),
                    depth: depth + extra,
                });
            }
            depths.insert(*id, depth);
        }
    }
    Ok(depths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(length: usize) -> Vec<(String, Option<String>)> {
        (0..length)
            .map(|i| (format!("f{i}"), (i > 0).then(|| format!("f{}", i - 1))))
            .collect()
    }

    fn depths_of(
        folders: &[(String, Option<String>)],
        extra: usize,
    ) -> Result<std::collections::HashMap<String, usize>, TreeProblem> {
        let parents = folders
            .iter()
            .map(|(id, parent)| (id.as_str(), parent.as_deref()))
            .collect();
        folder_depths(&parents, extra).map(|depths| {
            depths
                .into_iter()
                .map(|(id, depth)| (id.to_string(), depth))
                .collect()
        })
    }

    #[test]
    fn folder_depths_count_from_the_top() {
        let depths = depths_of(&chain(FOLDER_DEPTH_MAX), 0).expect("a chain at the limit");
        assert_eq!(depths["f0"], 1);
        assert_eq!(
            depths[&format!("f{}", FOLDER_DEPTH_MAX - 1)],
            FOLDER_DEPTH_MAX
        );
        assert!(matches!(
            depths_of(&chain(FOLDER_DEPTH_MAX), 1),
            Err(TreeProblem::TooDeep { .. })
        ));
        assert!(matches!(
            depths_of(&chain(FOLDER_DEPTH_MAX + 1), 0),
            Err(TreeProblem::TooDeep { .. })
        ));
    }

    #[test]
    fn a_very_long_chain_is_refused_after_a_bounded_walk() {
        // 200,000 folders in one chain: each is visited at most a few times.
        let folders = chain(200_000);
        assert!(matches!(
            depths_of(&folders, 0),
            Err(TreeProblem::TooDeep { .. })
        ));
    }

    #[test]
    fn the_same_problem_is_named_every_time() {
        // Two chains too deep, and a gap: whichever the map holds first, the same is named.
        let mut folders: Vec<(String, Option<String>)> = Vec::new();
        for prefix in ["m", "c"] {
            folders.extend((0..FOLDER_DEPTH_MAX + 5).map(|i| {
                let parent = (i > 0).then(|| format!("{prefix}{:03}", i - 1));
                (format!("{prefix}{i:03}"), parent)
            }));
        }
        folders.push(("z".to_string(), Some("gone".to_string())));
        let named: std::collections::HashSet<String> = (0..20)
            .map(|_| format!("{:?}", depths_of(&folders, 0)))
            .collect();
        assert_eq!(named.len(), 1, "{named:?}");
    }

    #[test]
    fn folder_depths_find_gaps_and_loops() {
        let gap = vec![("a".to_string(), Some("gone".to_string()))];
        assert_eq!(
            depths_of(&gap, 0),
            Err(TreeProblem::MissingParent {
                id: "a".into(),
                parent: "gone".into()
            })
        );
        let looped = vec![
            ("a".to_string(), Some("b".to_string())),
            ("b".to_string(), Some("a".to_string())),
        ];
        assert!(matches!(
            depths_of(&looped, 0),
            Err(TreeProblem::Cycle { .. })
        ));
        let own = vec![("a".to_string(), Some("a".to_string()))];
        assert!(matches!(depths_of(&own, 0), Err(TreeProblem::Cycle { .. })));
    }
}
