//! Whether an item's content fits its kind: JSON for services and forms, XML without a
//! document type for models, at most [`CONTENT_MAX`] bytes.

use super::CONTENT_MAX;
use crate::types::ItemKind;

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

#[cfg(test)]
mod tests {
    use super::*;

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
