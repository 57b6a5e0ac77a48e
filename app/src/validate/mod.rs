//! Rules for names and content, shared by the browser (to say what is wrong while typing)
//! and the server (which enforces them). Each check returns the message a user should see.

mod content;
mod tree;

pub use self::content::{content, xml};
pub use self::tree::{TreeProblem, folder_depths};

/// Longest namespace name.
pub const NAMESPACE_NAME_MAX: usize = 63;
/// Longest folder or item name, in characters.
pub const NAME_MAX: usize = 200;
/// Longest backup name, in characters.
pub const BACKUP_NAME_MAX: usize = 100;
/// Longest namespace title, in characters.
pub const TITLE_MAX: usize = 200;
/// Largest item content, in bytes.
pub const CONTENT_MAX: usize = 8 * 1024 * 1024;
/// Deepest nesting of folders: a folder at the top level of a namespace has depth 1. Deeper
/// trees are refused wherever folders enter (create, move, import, upload, restore), so that
/// nothing that walks a path from a folder to the top has to go further.
pub const FOLDER_DEPTH_MAX: usize = 64;
/// Most permission entries one folder may set.
pub const PERMISSIONS_MAX: usize = 100;
/// Longest record id (of a folder or an item) in a backup or an export file.
pub const ID_MAX: usize = 64;

/// Characters that change how text is shown without being seen themselves: bidirectional
/// embeddings, overrides, isolates and marks, zero-width spaces and joiners, the word joiner
/// and the byte order mark. In a name they let one thing pass for another (`txt.exe`
/// shown as `exe.txt`, two names that look equal), so names refuse them.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

fn no_invisible_format(text: &str, what: &str) -> Result<(), String> {
    if text.chars().any(is_invisible_format) {
        return Err(format!(
            "{what} may not contain invisible formatting characters (bidirectional overrides, zero-width characters)."
        ));
    }
    Ok(())
}

/// A namespace name: 1–63 characters, lowercase letters, digits, `-` and `_`, starting with
/// a letter or digit (`^[a-z0-9][a-z0-9_-]{0,62}$`).
pub fn namespace_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err("Enter a namespace name.".into());
    };
    if name.len() > NAMESPACE_NAME_MAX {
        return Err(format!(
            "A namespace name has at most {NAMESPACE_NAME_MAX} characters."
        ));
    }
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err("A namespace name starts with a lowercase letter or a digit.".into());
    }
    if let Some(bad) =
        chars.find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "A namespace name may hold only lowercase letters, digits, `-` and `_`, not `{bad}`."
        ));
    }
    Ok(())
}

/// A folder or item name: 1–200 characters after trimming, in any language, without `/`,
/// `\` or control characters. Returns the trimmed name.
pub fn entry_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Enter a name.".into());
    }
    if name.chars().count() > NAME_MAX {
        return Err(format!("A name has at most {NAME_MAX} characters."));
    }
    if name.contains(['/', '\\']) {
        return Err("A name may not contain `/` or `\\`.".into());
    }
    if name.chars().any(char::is_control) {
        return Err("A name may not contain control characters.".into());
    }
    if name == "." || name == ".." {
        return Err("`.` and `..` are not names.".into());
    }
    no_invisible_format(name, "A name")?;
    Ok(name.to_string())
}

/// A namespace title: up to 200 characters after trimming. Returns the trimmed title.
pub fn title(title: &str) -> Result<String, String> {
    let title = title.trim();
    if title.chars().count() > TITLE_MAX {
        return Err(format!("A title has at most {TITLE_MAX} characters."));
    }
    if title.chars().any(char::is_control) {
        return Err("A title may not contain control characters.".into());
    }
    no_invisible_format(title, "A title")?;
    Ok(title.to_string())
}

/// The name of a user or a role in a permission: 1–64 characters of letters, digits, `.`,
/// `_`, `-` and `@`.
pub fn principal_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Enter the name of a user or a role.".into());
    }
    if name.len() > 64 {
        return Err("A user or role name has at most 64 characters.".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(format!(
            "`{name}` is not a user or role name: use letters, digits, `.`, `_`, `-` and `@`."
        ));
    }
    Ok(())
}

/// The id of a folder or an item as a backup or an export file carries it: 1–64 bytes,
/// without `/`, `\\`, spaces, control characters or invisible formatting, and not `.` or
/// `..`. nsbackup makes random hex ids; these rules keep any other id a key and never a
/// path (a large item's content is the entry `contents/<id>`).
pub fn record_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > ID_MAX {
        return Err(format!("an id has 1 to {ID_MAX} bytes"));
    }
    if id == "."
        || id == ".."
        || id.chars().any(|c| {
            c == '/' || c == '\\' || c.is_whitespace() || c.is_control() || is_invisible_format(c)
        })
    {
        return Err(format!(
            "`{}` is not an id: an id has no `/`, `\\`, spaces or control characters, and is not `.` or `..`",
            id.escape_debug()
        ));
    }
    Ok(())
}

/// The name of whoever last changed an item, as a backup carries it: at most 64
/// characters, none of them control characters or invisible formatting. (Authors are shown,
/// never matched against permissions, so older names that the user name rules of today
/// would refuse still restore.)
pub fn author(name: &str) -> Result<(), String> {
    if name.chars().count() > 64 {
        return Err("a name has at most 64 characters".into());
    }
    if name
        .chars()
        .any(|c| c.is_control() || is_invisible_format(c))
    {
        return Err("a name may not contain control characters or invisible formatting".into());
    }
    Ok(())
}

/// A permission as schema version 1 stored it, `KIND:NAME:ACCESS` (`role:legal:manage`),
/// when every part is one nsbackup knows; the name is not checked here.
pub fn permission_v1(text: &str) -> Option<crate::types::Permission> {
    use crate::types::{Access, Permission, Principal, PrincipalKind};

    let mut parts = text.split(':');
    let (kind, name, access) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some(Permission {
        principal: Principal {
            kind: PrincipalKind::parse(kind)?,
            name: name.to_string(),
        },
        access: Access::parse(access)?,
    })
}

/// The fewest characters of a passphrase new backups are encrypted with.
pub const PASSPHRASE_MIN: usize = 10;

/// The most characters of a backup's passphrase.
pub const PASSPHRASE_MAX: usize = 1024;

/// How hard a passphrase is to guess, as the hint beside its field says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// Shorter than [`PASSPHRASE_MIN`]: refused.
    TooShort,
    Weak,
    Fair,
    Strong,
}

impl Strength {
    /// The hint, in words.
    pub fn words(self) -> &'static str {
        match self {
            Strength::TooShort => "Too short: at least 10 characters.",
            Strength::Weak => {
                "Weak: whoever finds the file could guess it. Add a few unrelated words."
            }
            Strength::Fair => "Fair: a little longer would make it much harder to guess.",
            Strength::Strong => "Strong.",
        }
    }
}

/// A passphrase's [`Strength`]: an estimate of the bits an attacker must guess, from its
/// length and the kinds of characters it uses, a character that repeats the one before
/// counting for nothing. (An estimate for a hint: the work factor of the encryption makes
/// every guess slow, and the refusal is only for one shorter than [`PASSPHRASE_MIN`].)
pub fn passphrase_strength(text: &str) -> Strength {
    if text.chars().count() < PASSPHRASE_MIN {
        return Strength::TooShort;
    }
    let has = |f: fn(&char) -> bool| text.chars().any(|c| f(&c));
    let pool = [
        (has(char::is_ascii_lowercase), 26.0),
        (has(char::is_ascii_uppercase), 26.0),
        (has(char::is_ascii_digit), 10.0),
        (has(|c| c.is_ascii_punctuation() || *c == ' '), 33.0),
        (has(|c| !c.is_ascii()), 100.0),
    ]
    .iter()
    .filter(|(present, _)| *present)
    .map(|(_, size)| size)
    .sum::<f64>();
    let mut previous = None;
    let counted = text
        .chars()
        .filter(|c| previous.replace(*c) != Some(*c))
        .count();
    let bits = counted as f64 * pool.max(2.0).log2();
    match bits {
        bits if bits < 60.0 => Strength::Weak,
        bits if bits < 90.0 => Strength::Fair,
        _ => Strength::Strong,
    }
}

/// Shortest password accepted.
pub const PASSWORD_MIN: usize = 10;

/// Longest password, in bytes.
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// A password: at least 10 characters, at most 1,024 bytes (hashing is deliberately slow).
pub fn password(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < PASSWORD_MIN {
        return Err(format!(
            "A password has at least {PASSWORD_MIN} characters."
        ));
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return Err("A password has at most 1,024 bytes.".into());
    }
    Ok(())
}

/// A backup's name: 1–[`BACKUP_NAME_MAX`] characters after trimming, any language, no
/// control characters, not only dots (`..` reads as a folder). Returns it trimmed.
///
/// # Errors
///
/// What is wrong with it, as a sentence for the user.
pub fn backup_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    let length = name.chars().count();
    if length == 0 {
        return Err("Give the backup a name.".into());
    }
    if length > BACKUP_NAME_MAX {
        return Err(format!(
            "A backup name has at most {BACKUP_NAME_MAX} characters; this one has {length}."
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(
            "A backup name cannot contain control characters (such as line breaks).".into(),
        );
    }
    if name.chars().all(|c| c == '.' || c.is_whitespace()) {
        return Err("A backup name cannot be only dots.".into());
    }
    Ok(name.to_string())
}

/// The name a backup file suggests: its name without the folder a browser may send along,
/// without `.zip` (in any case), and without the timestamp a download adds
/// (`nightly_2026-11-29_18-13-35.zip` suggests `nightly`), so that a file downloaded and
/// uploaded again downloads with one timestamp, not two.
pub fn name_from_file(file_name: &str) -> String {
    let mut name = stem_of_file(file_name);
    while let Some(cut) = name.len().checked_sub(DOWNLOAD_STAMP.len())
        && cut > 0
        && name.get(cut..).is_some_and(is_download_stamp)
    {
        name.truncate(cut);
    }
    name
}

/// The shape of the timestamp a download adds to a backup's name: `_2026-11-29_18-13-35`.
const DOWNLOAD_STAMP: &str = "_0000-00-00_00-00-00";

fn is_download_stamp(text: &str) -> bool {
    text.len() == DOWNLOAD_STAMP.len()
        && text
            .bytes()
            .zip(DOWNLOAD_STAMP.bytes())
            .all(|(got, shape)| {
                if shape == b'0' {
                    got.is_ascii_digit()
                } else {
                    got == shape
                }
            })
}

fn stem_of_file(file_name: &str) -> String {
    let file_name = file_name.trim();
    let file_name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    // An encrypted backup's `.zip.age`, or a plain one's `.zip`.
    fn without<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
        name.len().checked_sub(suffix.len()).and_then(|cut| {
            name.get(cut..)
                .filter(|end| end.eq_ignore_ascii_case(suffix))
                .and_then(|_| name.get(..cut))
        })
    }
    let plain = without(file_name, ".age").unwrap_or(file_name);
    without(plain, ".zip").unwrap_or(file_name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_strength_grows_with_length_and_variety_and_not_with_repetition() {
        assert_eq!(passphrase_strength("short"), Strength::TooShort);
        assert_eq!(passphrase_strength("aaaaaaaaaaaaaaaaaaaa"), Strength::Weak);
        assert_eq!(passphrase_strength("abcdefghij"), Strength::Weak);
        assert_eq!(passphrase_strength("Abcdefgh12345"), Strength::Fair);
        assert_eq!(
            passphrase_strength("correct horse battery staple"),
            Strength::Strong
        );
        assert!(passphrase_strength("abcdefghijklmnop") > passphrase_strength("abcdefghij"));
    }

    #[test]
    fn a_file_name_suggests_the_name_without_the_download_timestamps() {
        for (file, name) in [
            ("nightly.zip", "nightly"),
            ("C:\\Downloads\\nightly.ZIP", "nightly"),
            ("nightly_2026-11-29_18-13-35.zip", "nightly"),
            ("nightly_2026-11-29_18-13-35.zip.age", "nightly"),
            ("notes.age", "notes.age"),
            (
                "nightly_2026-11-29_18-13-35_2026-11-29_18-14-05.zip",
                "nightly",
            ),
            // Only the exact shape is a timestamp; a name that is one stays.
            ("nightly_2026-11-29.zip", "nightly_2026-11-29"),
            ("_2026-11-29_18-13-35.zip", "_2026-11-29_18-13-35"),
            (
                "release 1_2026-11-29_18-13-3x.zip",
                "release 1_2026-11-29_18-13-3x",
            ),
        ] {
            assert_eq!(name_from_file(file), name, "{file}");
        }
    }

    #[test]
    fn namespace_names_follow_the_pattern() {
        for good in ["a", "0", "sales", "team-a_2", &"x".repeat(63)] {
            assert_eq!(namespace_name(good), Ok(()), "{good}");
        }
        for bad in ["", "-a", "_a", "Sales", "a b", "a/b", "ä", &"x".repeat(64)] {
            assert!(namespace_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn entry_names_are_trimmed_and_may_be_in_any_language() {
        assert_eq!(
            entry_name("  Bestellung prüfen "),
            Ok("Bestellung prüfen".into())
        );
        assert_eq!(entry_name("注文"), Ok("注文".into()));
        for bad in ["", "   ", "a/b", "a\\b", "a\nb", "..", &"x".repeat(201)] {
            assert!(entry_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_and_titles_refuse_invisible_formatting() {
        for bad in [
            "invoice\u{202E}txt.exe",
            "Twin\u{200B}",
            "a\u{2066}b",
            "\u{FEFF}Orders",
        ] {
            assert!(
                entry_name(bad).unwrap_err().contains("invisible"),
                "{bad:?}"
            );
            assert!(title(bad).unwrap_err().contains("invisible"), "{bad:?}");
        }
        assert_eq!(
            entry_name("Prüfung – 注文 😀"),
            Ok("Prüfung – 注文 😀".into())
        );
    }

    #[test]
    fn record_ids_are_keys_not_paths() {
        for good in ["f000000000000001", "0a1b2c3d4e5f6a7b", "a-b_C", "9~", "é"] {
            assert_eq!(record_id(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "..",
            "../../evil",
            "a/b",
            "a\\b",
            "a b",
            "a\u{0}",
            &"x".repeat(65),
        ] {
            assert!(record_id(bad).is_err(), "{bad:?}");
        }
    }
}
