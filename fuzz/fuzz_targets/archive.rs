//! Feeds arbitrary bytes to the backup archive reader, as an upload would: whatever comes
//! in, it must end in `Ok` or an error, never a panic, a hang or unbounded memory.

#![no_main]

use app::domain::backup::archive::{self, CheckOnly, Limits};
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
    let _ = archive::read(&path, limits, &mut CheckOnly);
});
