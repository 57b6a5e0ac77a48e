//! Rules for names and content, shared by the browser (to say what is wrong while typing)
//! and the server (which enforces them). Each check returns the message a user should see.

use crate::types::ItemKind;

/// Longest namespace name.
pub const NAMESPACE_NAME_MAX: usize = 63;
/// Longest folder or item name, in characters.
pub const NAME_MAX: usize = 200;
/// Longest namespace title, in characters.
pub const TITLE_MAX: usize = 200;
/// Largest item content, in bytes.
pub const CONTENT_MAX: usize = 8 * 1024 * 1024;

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

/// Shortest password accepted.
pub const PASSWORD_MIN: usize = 10;

/// A password: at least 10 characters, at most 1,024 (hashing is deliberately slow).
pub fn password(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < PASSWORD_MIN {
        return Err(format!(
            "A password has at least {PASSWORD_MIN} characters."
        ));
    }
    if password.len() > 1024 {
        return Err("A password has at most 1,024 bytes.".into());
    }
    Ok(())
}

/// An item's content: at most 8 MiB; services and forms hold JSON, models XML (BPMN is
/// XML). Empty content is allowed: a new item starts empty.
pub fn content(kind: ItemKind, content: &str) -> Result<(), String> {
    if content.len() > CONTENT_MAX {
        return Err(format!(
            "The content is {} bytes; an item holds at most {} MiB.",
            content.len(),
            CONTENT_MAX / (1024 * 1024)
        ));
    }
    let text = content.trim();
    if text.is_empty() {
        return Ok(());
    }
    match kind {
        // Checked completely without building the value.
        ItemKind::Service | ItemKind::Form => serde_json::from_str::<serde::de::IgnoredAny>(text)
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "A {} holds JSON, and this is not valid JSON: {e}.",
                    kind.as_str()
                )
            }),
        ItemKind::Model => xml(text),
    }
}

/// Checks that `text` is well-formed XML without a document type: `<!DOCTYPE>` and entity
/// declarations are refused, as they are how XML reaches for files and expands into bombs.
pub fn xml(text: &str) -> Result<(), String> {
    use quick_xml::events::Event;

    let upper = text.to_ascii_uppercase();
    if upper.contains("<!DOCTYPE") || upper.contains("<!ENTITY") {
        return Err(
            "A model holds XML without a document type: remove the `<!DOCTYPE …>` or `<!ENTITY …>` declaration."
                .into(),
        );
    }
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth: u64 = 0;
    let mut elements: u64 = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(_)) => {
                depth += 1;
                elements += 1;
            }
            Ok(Event::Empty(_)) => elements += 1,
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::DocType(_)) => {
                return Err("A model holds XML without a document type.".into());
            }
            Ok(_) => {}
            Err(error) => {
                return Err(format!(
                    "A model holds XML or BPMN, and this is not well-formed XML (at byte {}): {error}.",
                    reader.buffer_position()
                ));
            }
        }
    }
    if depth != 0 || elements == 0 {
        return Err(
            "A model holds XML or BPMN, and this is not well-formed XML: an element is not closed."
                .into(),
        );
    }
    Ok(())
}

/// The name a backup file suggests: its name without the folder a browser may send along
/// and without `.zip` (in any case).
pub fn name_from_file(file_name: &str) -> String {
    let file_name = file_name.trim();
    let file_name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = file_name.len().checked_sub(4).and_then(|cut| {
        file_name
            .get(cut..)
            .filter(|suffix| suffix.eq_ignore_ascii_case(".zip"))
            .and_then(|_| file_name.get(..cut))
    });
    stem.unwrap_or(file_name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn content_must_match_the_kind() {
        assert!(content(ItemKind::Service, "{\"a\": 1}").is_ok());
        assert!(content(ItemKind::Form, "").is_ok());
        assert!(
            content(ItemKind::Service, "{oops")
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(content(ItemKind::Model, "<definitions/>").is_ok());
        assert!(content(ItemKind::Model, "{}").unwrap_err().contains("XML"));
        assert!(
            content(ItemKind::Model, "<a><b></a>")
                .unwrap_err()
                .contains("well-formed")
        );
        assert!(
            content(ItemKind::Model, "<a>")
                .unwrap_err()
                .contains("not closed")
        );
        let external = r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>"#;
        assert!(
            content(ItemKind::Model, external)
                .unwrap_err()
                .contains("document type")
        );
        let big = format!("\"{}\"", "x".repeat(CONTENT_MAX));
        assert!(
            content(ItemKind::Service, &big)
                .unwrap_err()
                .contains("at most 8 MiB")
        );
    }
}
