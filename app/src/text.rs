//! How the product writes things for people and for addresses: sizes and percent-encoding,
//! one way everywhere (pages, refusals, headers).

/// A size in bytes as people read it: `512 B`, `1.2 KiB`, `3.4 MiB`, `2 GiB`, `2.5 GiB`.
pub fn size(bytes: u64) -> String {
    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    match bytes {
        0..KIB => format!("{bytes} B"),
        KIB..MIB => format!("{:.1} KiB", bytes as f64 / KIB as f64),
        MIB..GIB => format!("{:.1} MiB", bytes as f64 / MIB as f64),
        _ if bytes.is_multiple_of(GIB) => format!("{} GiB", bytes / GIB),
        _ => format!("{:.1} GiB", bytes as f64 / GIB as f64),
    }
}

/// A count with thousands separated by commas: `1,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Percent-encodes `text` for a URL: everything but unreserved characters (letters, digits,
/// `-`, `.`, `_`, `~`) and the bytes of `keep` (such as `/` in a path).
pub fn percent_encode(text: &str, keep: &[u8]) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The text `encoded` stands for, as [`percent_encode`] writes it (any byte may be
/// encoded); `None` when an escape is broken or the bytes are not UTF-8.
pub fn percent_decode(encoded: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.bytes();
    while let Some(b) = rest.next() {
        if b == b'%' {
            let high = (rest.next()? as char).to_digit(16)?;
            let low = (rest.next()? as char).to_digit(16)?;
            bytes.push(u8::try_from(high * 16 + low).ok()?);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_undoes_encoding_and_refuses_broken_escapes() {
        for text in ["plain", "two words & 100% sure", "gr\u{fc}n \u{1f512}", ""] {
            assert_eq!(
                percent_decode(&percent_encode(text, b"")).as_deref(),
                Some(text)
            );
        }
        assert_eq!(percent_decode("a%2"), None);
        assert_eq!(percent_decode("a%zz"), None);
        assert_eq!(percent_decode("%FF"), None, "not UTF-8");
    }

    #[test]
    fn counts_have_thousands_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1255), "1.2 KiB");
        assert_eq!(size(5 << 20), "5.0 MiB");
        assert_eq!(size(2 << 30), "2 GiB");
        assert_eq!(size((5 << 30) / 2), "2.5 GiB");
    }

    #[test]
    fn only_unreserved_characters_stay_as_they_are() {
        assert_eq!(percent_encode("a b/ü~", b""), "a%20b%2F%C3%BC~");
        assert_eq!(percent_encode("/explorer/x?y", b"/"), "/explorer/x%3Fy");
    }
}
