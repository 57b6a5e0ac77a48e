//! `docs/architecture.md` draws the source tree, one line a file: it names every source file
//! there is, and none that is gone. (A directory's `mod.rs` is the map of it and goes
//! without saying; a directory whose files are not drawn names them in its line.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The repository's root (this crate is `server/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

/// The `.rs` file names in `text`.
fn file_names(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .filter(|word| word.len() > 3 && word.ends_with(".rs"))
}

/// The files the tree of the document draws, as paths from the repository's root.
fn drawn(tree: &str) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    // The root of the lines that follow (`app/src/`), and the directories open below it.
    let mut root = String::new();
    let mut open: Vec<String> = Vec::new();
    for line in tree.lines().filter(|line| !line.trim().is_empty()) {
        if !line.starts_with(['│', ' ', '├', '└']) {
            let name = line.split_whitespace().next().unwrap_or_default();
            if name.ends_with('/') {
                root = name.to_string();
                open.clear();
            } else {
                files.insert(name.to_string());
            }
            continue;
        }
        // Four columns a level: "│   " or "    ".
        let mut rest = line;
        let mut depth = 0;
        while let Some(after) = rest
            .strip_prefix("│   ")
            .or_else(|| rest.strip_prefix("    "))
        {
            rest = after;
            depth += 1;
        }
        let Some(entry) = rest
            .strip_prefix("├── ")
            .or_else(|| rest.strip_prefix("└── "))
        else {
            // The description of the entry above, continued: the files a directory names.
            let dir = format!("{root}{}", open.concat());
            files.extend(file_names(rest).map(|name| format!("{dir}{name}")));
            continue;
        };
        open.truncate(depth);
        let dir = format!("{root}{}", open.concat());
        let name = entry.split_whitespace().next().unwrap_or_default();
        if name.ends_with('/') {
            let description = &entry[name.len()..];
            files.insert(format!("{dir}{name}mod.rs"));
            files.extend(file_names(description).map(|file| format!("{dir}{name}{file}")));
            open.push(name.to_string());
        } else {
            files.insert(format!("{dir}{name}"));
        }
    }
    files
}

/// Every `.rs` file under `dir`, as paths from the repository's root.
fn sources(root: &Path, dir: &str, into: &mut BTreeSet<String>) {
    let entries = std::fs::read_dir(root.join(dir)).expect("a source directory");
    for entry in entries {
        let entry = entry.expect("an entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("{dir}/{name}");
        if entry.file_type().expect("a type").is_dir() {
            sources(root, &path, into);
        } else if name.ends_with(".rs") {
            into.insert(path);
        }
    }
}

#[test]
fn the_source_tree_of_the_architecture_document_is_the_source_tree() {
    let root = root();
    let document =
        std::fs::read_to_string(root.join("docs/architecture.md")).expect("docs/architecture.md");
    let tree = document
        .split("## The source tree")
        .nth(1)
        .and_then(|section| section.split("```text\n").nth(1))
        .and_then(|block| block.split("```").next())
        .expect("a ```text block under \"The source tree\"");
    let drawn = drawn(tree);
    let mut actual = BTreeSet::new();
    for dir in ["app/src", "server/src", "frontend/src"] {
        sources(&root, dir, &mut actual);
    }
    // A directory's mod.rs is implied by the directory: drawn or not, it is no stale line.
    let missing: Vec<_> = actual.difference(&drawn).collect();
    let gone: Vec<_> = drawn
        .difference(&actual)
        .filter(|path| !path.ends_with("/mod.rs"))
        .collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "docs/architecture.md, \"The source tree\": add {missing:?}; remove {gone:?}"
    );
}

#[test]
fn the_tree_reader_follows_directories_and_the_files_their_lines_name() {
    let tree = "\
app/src/
├── lib.rs                 the App
├── api/                   server functions
│   ├── mod.rs             services
│   └── backups.rs         backups
├── pages/                 mod.rs, list.rs,
│                          tokens.rs
└── domain/                the server only
    └── store/             local.rs (a directory), s3.rs
frontend/src/lib.rs        hydrates
";
    let drawn: Vec<String> = drawn(tree).into_iter().collect();
    assert_eq!(
        drawn,
        [
            "app/src/api/backups.rs",
            "app/src/api/mod.rs",
            "app/src/domain/mod.rs",
            "app/src/domain/store/local.rs",
            "app/src/domain/store/mod.rs",
            "app/src/domain/store/s3.rs",
            "app/src/lib.rs",
            "app/src/pages/list.rs",
            "app/src/pages/mod.rs",
            "app/src/pages/tokens.rs",
            "frontend/src/lib.rs",
        ]
    );
}
