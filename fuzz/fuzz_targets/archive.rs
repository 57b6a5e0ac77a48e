//! Feeds arbitrary bytes to the backup archive reader, as an upload would: whatever comes
//! in, it must end in `Ok` or an error, never a panic, a hang or unbounded memory.
//!
//! The reader is the application's own source file (`app/src/domain/backup/archive/`),
//! compiled here with the two small modules it uses, so that the target needs neither the
//! database nor the pages.

#![no_main]
#![allow(dead_code, unused_imports)]

#[path = "../../app/src/domain/backup/archive/mod.rs"]
mod archive;
#[path = "../../app/src/types/mod.rs"]
mod types;
#[path = "../../app/src/validate/mod.rs"]
mod validate;

/// Where the reader's source looks for the schema version.
mod domain {
    pub mod schema {
        pub use crate::types::SCHEMA_VERSION;
    }
}

use archive::{CheckOnly, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("nsbackup-fuzz-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let path = dir.join("input.zip");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    // Small caps keep every run short; the checks are the same as with the defaults.
    let limits = Limits {
        max_entries: 1_000,
        max_entry_bytes: 1 << 20,
        max_total_bytes: 4 << 20,
        max_ratio: 250,
    };
    let _ = archive::read(&path, &archive::Keys::default(), limits, &mut CheckOnly);
});
