//! Hostile zips: not a zip or a damaged one; entry names, links, encryption, duplicates and
//! nesting; sizes and bombs.

use std::io::Write;

use app::domain::backup::Engine;
use app::domain::backup::archive::Limits;

use super::{refused, valid_backup, with_entry, with_extra_entry, write_zip};
use crate::common;
use crate::common::backups::{Setup, setup};

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

// Not a zip, or a damaged one.

hostile!(
    a_text_file_renamed_to_zip,
    "not a zip file",
    |path, entries, file| {
        std::fs::write(&file, "just some text, renamed").expect("write");
    }
);

hostile!(
    a_png_renamed_to_zip,
    "not a zip file",
    |path, entries, file| {
        std::fs::write(&file, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("write");
    }
);

hostile!(an_empty_file, "empty", |path, entries, file| {
    std::fs::write(&file, b"").expect("write");
});

hostile!(
    a_truncated_zip,
    "not a zip file, or it is damaged",
    |path, entries, file| {
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&file, &bytes[..bytes.len() * 2 / 3]).expect("write");
    }
);

hostile!(an_entry_with_a_bad_crc, "damaged", |path, entries, file| {
    // One byte of compressed data inside items.ndjson flipped: the CRC no longer matches.
    let mut bytes = std::fs::read(&path).expect("read");
    let at = find(&bytes, b"items.ndjson").expect("local header") + 200;
    bytes[at] ^= 0x55;
    std::fs::write(&file, bytes).expect("write");
});

// Entry names, links, encryption, duplicates, nesting.

hostile!(an_entry_name_with_dot_dot, "`..`", |path, entries, file| {
    with_extra_entry(&file, &entries, "../evil.json");
});

hostile!(
    an_absolute_entry_name,
    "absolute path",
    |path, entries, file| {
        with_extra_entry(&file, &entries, "/etc/passwd");
    }
);

hostile!(
    an_entry_name_with_a_drive_letter,
    "drive letter",
    |path, entries, file| {
        with_extra_entry(&file, &entries, "C:/windows/evil.json");
    }
);

hostile!(
    an_entry_name_with_a_backslash,
    "backslash",
    |path, entries, file| {
        with_extra_entry(&file, &entries, "contents\\evil.json");
    }
);

hostile!(an_entry_name_with_nul, "NUL", |path, entries, file| {
    with_extra_entry(&file, &entries, "evil\0.json");
});

hostile!(
    a_symbolic_link_entry,
    "symbolic link",
    |path, entries, file| {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&file).expect("create"));
        for (name, bytes) in &entries {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .expect("start");
            zip.write_all(bytes).expect("write");
        }
        zip.add_symlink(
            "link",
            "/etc/passwd",
            zip::write::SimpleFileOptions::default(),
        )
        .expect("symlink");
        zip.finish().expect("finish");
    }
);

hostile!(an_encrypted_entry, "encrypted", |path, entries, file| {
    // The encryption flag set in the local and central headers.
    write_zip(&file, &entries, true);
    let mut raw = std::fs::read(&file).expect("read");
    let local = find(&raw, b"PK\x03\x04").expect("local header");
    raw[local + 6] |= 1;
    let central = find(&raw, b"PK\x01\x02").expect("central record");
    raw[central + 8] |= 1;
    std::fs::write(&file, raw).expect("write");
});

hostile!(
    two_entries_with_the_same_name,
    "appears twice",
    |path, entries, file| {
        // A zip writer refuses duplicates, so the second name is patched afterwards (same
        // length) in the local and central headers.
        with_extra_entry(&file, &entries, "namespace.jsoX");
        let mut raw = std::fs::read(&file).expect("read");
        let mut start = 0;
        while let Some(at) = find(&raw[start..], b"namespace.jsoX") {
            raw[start + at + 13] = b'n';
            start += at + 14;
        }
        std::fs::write(&file, raw).expect("write");
    }
);

hostile!(
    a_zip_inside_the_zip_by_name,
    "archive inside the archive",
    |path, entries, file| {
        with_extra_entry(&file, &entries, "inner.zip");
    }
);

hostile!(
    a_zip_inside_the_zip_by_content,
    "archive inside the archive",
    |path, entries, file| {
        let mut nested = Vec::new();
        {
            let mut inner = zip::ZipWriter::new(std::io::Cursor::new(&mut nested));
            inner
                .start_file("x", zip::write::SimpleFileOptions::default())
                .expect("start");
            inner.write_all(b"x").expect("write");
            inner.finish().expect("finish");
        }
        let list = with_entry(&entries, "namespace.json", |_| nested.clone());
        write_zip(&file, &list, true);
    }
);

// Sizes and bombs, counted while reading.

hostile!(
    more_entries_than_the_cap,
    "at most 3",
    limits = Limits {
        max_entries: 3,
        ..Limits::default()
    },
    |path, entries, file| {
        std::fs::copy(&path, &file).expect("copy");
    }
);

hostile!(
    an_entry_beyond_the_size_cap,
    "the most one entry may hold",
    limits = Limits {
        max_entry_bytes: 1000,
        ..Limits::default()
    },
    |path, entries, file| {
        std::fs::copy(&path, &file).expect("copy");
    }
);

hostile!(
    a_total_beyond_the_size_cap,
    "the most a backup may hold",
    limits = Limits {
        max_total_bytes: 5000,
        ..Limits::default()
    },
    |path, entries, file| {
        std::fs::copy(&path, &file).expect("copy");
    }
);

hostile!(
    a_high_ratio_deflate_bomb,
    "zip bomb",
    |path, entries, file| {
        // 7 MiB of spaces (less than a content may hold) compress to about 7 KiB.
        let large = entries
            .iter()
            .find(|(name, _)| name.starts_with("contents/"))
            .map(|(name, _)| name.clone())
            .expect("a content entry");
        let list = with_entry(&entries, &large, |_| vec![b' '; 7 << 20]);
        write_zip(&file, &list, true);
    }
);

hostile!(
    an_item_content_larger_than_an_item_may_hold,
    "unpacks to more than 8388608 bytes",
    |path, entries, file| {
        // Letters at random: it packs too poorly to look like a bomb.
        let large = entries
            .iter()
            .find(|(name, _)| name.starts_with("contents/"))
            .map(|(name, _)| name.clone())
            .expect("a content entry");
        let mut rng = common::Rng(7);
        let text: String = (0..9 << 20)
            .map(|_| char::from(b'a' + rng.below(26) as u8))
            .collect();
        let list = with_entry(&entries, &large, |_| {
            format!("{{\"fields\": \"{text}\"}}").into_bytes()
        });
        write_zip(&file, &list, true);
    }
);

hostile!(overlapping_entries, "overlap", |path, entries, file| {
    // Two central directory records point at the same data: the last entry's local header
    // offset is made the first entry's.
    with_extra_entry(&file, &entries, "contents/aaaa");
    let mut raw = std::fs::read(&file).expect("read");
    let central = rfind(&raw, b"PK\x01\x02").expect("central record");
    let first_offset = raw[find(&raw, b"PK\x01\x02").expect("first") + 42..][..4].to_vec();
    raw[central + 42..central + 46].copy_from_slice(&first_offset);
    std::fs::write(&file, raw).expect("write");
});
