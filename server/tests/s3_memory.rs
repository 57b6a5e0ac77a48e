//! A backup file of a gibibyte goes up to S3 and comes back with the process's memory
//! nearly flat: the file streams in parts, never whole. (A test binary of its own: the
//! process's peak memory is what is measured, so nothing else may run in it meanwhile.)

mod support;

use std::io::Write;

use app::domain::backup::store::{BackupStore, S3Store};
use futures_util::StreamExt;
use support::memory::Process;
use support::s3::Seaweed;

const GIB: u64 = 1 << 30;
/// What the whole round trip may add to the process's peak memory.
const ALLOWED: u64 = 64 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gibibyte_goes_up_and_comes_back_in_bounded_memory() {
    let s3 = Seaweed::start().await;
    let scratch = tempfile::tempdir().expect("a directory");
    let store = S3Store::open(&s3.options("s3://backups/large"), scratch.path())
        .await
        .expect("the bucket");
    // A gibibyte of bytes that do not repeat in any short period.
    let path = store.scratch_path("large");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("a file"));
        let mut block = vec![0u8; 1 << 20];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..(GIB >> 20) {
            for byte in block.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *byte = state as u8;
            }
            file.write_all(&block).expect("written");
        }
        file.flush().expect("flushed");
    }

    let before = Process::Own.reset_peak();
    store.put_file("large", &path).await.expect("put");
    let after_upload = Process::Own.peak();
    assert_eq!(store.size("large").await.expect("size"), Some(GIB));

    Process::Own.reset_peak();
    let mut bytes = store.get("large", None).await.expect("get");
    let mut received = 0u64;
    while let Some(chunk) = bytes.next().await {
        received += chunk.expect("a chunk").len() as u64;
    }
    assert_eq!(received, GIB);
    let after_download = Process::Own.peak();

    let rise = |after: u64| after.saturating_sub(before) >> 20;
    eprintln!(
        "peak memory rise: upload {} MiB, download {} MiB",
        rise(after_upload),
        rise(after_download)
    );
    assert!(
        after_upload.saturating_sub(before) < ALLOWED,
        "the upload raised the peak by {} MiB",
        rise(after_upload)
    );
    assert!(
        after_download.saturating_sub(before) < ALLOWED,
        "the download raised the peak by {} MiB",
        rise(after_download)
    );
}
