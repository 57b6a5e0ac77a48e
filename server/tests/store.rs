//! The backup store's contract, kept by every implementation: the local directory, and S3
//! against a real S3 server (SeaweedFS, started here on free loopback ports and stopped
//! afterwards).

mod support;

use std::io;

use app::domain::backup::store::{BackupStore, ByteStream, LocalStore, S3Options, S3Store};
use bytes::Bytes;
use futures_util::TryStreamExt;
use support::free_port;
use support::s3::{KEY, Seaweed};

async fn read_all(stream: ByteStream) -> Vec<u8> {
    let chunks: Vec<Bytes> = stream.try_collect().await.expect("the bytes");
    chunks.concat()
}

fn stream_of(chunks: Vec<io::Result<Bytes>>) -> ByteStream {
    Box::pin(futures_util::stream::iter(chunks))
}

/// What every store must do, seen from outside.
async fn keeps_the_contract(store: &dyn BackupStore) {
    // A file is put whole (the scratch file is used up), read whole or in part, listed.
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let scratch = store.scratch_path("writing");
    std::fs::write(&scratch, &bytes).expect("a scratch file");
    assert_eq!(store.size("b1.zip").await.expect("size"), None);
    assert!(store.list().await.expect("list").is_empty());
    store.put_file("b1.zip", &scratch).await.expect("put");
    assert!(!scratch.exists(), "the scratch file is used up");
    assert_eq!(store.size("b1.zip").await.expect("size"), Some(300_000));
    let stored = store
        .modified("b1.zip")
        .await
        .expect("modified")
        .expect("a time");
    let age = std::time::SystemTime::now()
        .duration_since(stored)
        .unwrap_or_default();
    assert!(
        age < std::time::Duration::from_secs(60),
        "stored just now: {age:?}"
    );
    assert_eq!(store.modified("none.zip").await.expect("modified"), None);
    assert_eq!(
        read_all(store.get("b1.zip", None).await.expect("get")).await,
        bytes
    );
    let part = read_all(store.get("b1.zip", Some(1000..270_000)).await.expect("get")).await;
    assert_eq!(part, bytes[1000..270_000]);
    let tail = read_all(
        store
            .get("b1.zip", Some(299_990..400_000))
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(tail, bytes[299_990..]);
    let local = store.local_file("b1.zip").await.expect("a local file");
    assert_eq!(std::fs::read(local.path()).expect("read"), bytes);
    drop(local);
    assert_eq!(store.list().await.expect("list"), ["b1.zip"]);

    // A stream is stored whole, or not at all.
    let chunks = (0..10u8)
        .map(|i| Ok(Bytes::from(vec![i; 100_000])))
        .collect();
    let written = store
        .put_stream("s1.zip", stream_of(chunks))
        .await
        .expect("stored");
    assert_eq!(written, 1_000_000);
    let back = read_all(store.get("s1.zip", None).await.expect("get")).await;
    assert_eq!((back.len(), back[999_999]), (1_000_000, 9));
    let broken = vec![
        Ok(Bytes::from(vec![1u8; 100_000])),
        Err(io::Error::other("the sender went away")),
    ];
    assert!(store.put_stream("s2.zip", stream_of(broken)).await.is_err());
    assert_eq!(store.size("s2.zip").await.expect("size"), None);
    assert_eq!(store.list().await.expect("list"), ["b1.zip", "s1.zip"]);

    // Deleting: gone, and deleting again is fine; a missing file is NotFound.
    store.delete("b1.zip").await.expect("delete");
    store
        .delete("b1.zip")
        .await
        .expect("a missing file is fine");
    assert_eq!(store.size("b1.zip").await.expect("size"), None);
    let missing = store.get("b1.zip", None).await.err().expect("gone");
    assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    assert!(store.local_file("b1.zip").await.is_err());
    assert_eq!(store.list().await.expect("list"), ["s1.zip"]);

    // Scratch files left by a crash are swept and never listed; fetched copies are gone.
    std::fs::write(store.scratch_path("a"), b"left by a crash").expect("scratch");
    assert_eq!(store.list().await.expect("list"), ["s1.zip"]);
    assert_eq!(store.sweep_scratch().await.expect("sweep"), 1);
    assert_eq!(store.sweep_scratch().await.expect("sweep"), 0);

    // An encrypted backup's file is listed by its name too; a file of another kind is not.
    for name in ["e1.zip.age", "notes.txt"] {
        let one = vec![Ok(Bytes::from_static(b"bytes"))];
        store
            .put_stream(name, stream_of(one))
            .await
            .expect("stored");
    }
    assert_eq!(store.list().await.expect("list"), ["e1.zip.age", "s1.zip"]);
}

#[tokio::test]
async fn the_local_store_keeps_the_contract() {
    let dir = tempfile::tempdir().expect("a directory");
    let store = LocalStore::open(dir.path()).expect("a store");
    keeps_the_contract(&store).await;
}

#[tokio::test]
async fn the_s3_store_keeps_the_contract_and_a_large_file_goes_up_in_parts() {
    let s3 = Seaweed::start().await;
    let scratch = tempfile::tempdir().expect("a directory");
    let store = S3Store::open(&s3.options("s3://backups/contract"), scratch.path())
        .await
        .expect("the bucket");
    keeps_the_contract(&store).await;

    // Larger than several parts: it arrives whole, byte for byte.
    let large: Vec<u8> = (0..(3 * app::domain::backup::store::PART_SIZE + 12_345))
        .map(|i| (i % 253) as u8)
        .collect();
    let path = store.scratch_path("large");
    std::fs::write(&path, &large).expect("a large file");
    store.put_file("large", &path).await.expect("put in parts");
    assert_eq!(
        store.size("large").await.expect("size"),
        Some(large.len() as u64)
    );
    assert!(read_all(store.get("large", None).await.expect("get")).await == large);
    // An empty file is one empty part.
    let empty = store.scratch_path("empty");
    std::fs::write(&empty, b"").expect("an empty file");
    store.put_file("empty", &empty).await.expect("put");
    assert_eq!(store.size("empty").await.expect("size"), Some(0));
    // Every upload above ended complete or aborted: none is left to abort.
    assert_eq!(
        store
            .abort_stale_uploads(std::time::Duration::ZERO)
            .await
            .expect("looks"),
        0
    );

    // Another prefix of the same bucket is another store.
    let other = S3Store::open(&s3.options("s3://backups/elsewhere"), scratch.path())
        .await
        .expect("the bucket");
    assert!(other.list().await.expect("list").is_empty());
}

#[tokio::test]
async fn a_bucket_that_cannot_be_used_is_refused_with_a_sentence_that_says_what_to_check() {
    let s3 = Seaweed::start().await;
    let scratch = tempfile::tempdir().expect("a directory");
    let refused = |options: S3Options| {
        let scratch = scratch.path().to_path_buf();
        async move {
            S3Store::open(&options, &scratch)
                .await
                .expect_err("refused")
        }
    };
    let wrong_secret = S3Options {
        credentials: Some((KEY.to_string(), "not the secret".to_string())),
        ..s3.options("s3://backups")
    };
    let message = refused(wrong_secret).await;
    assert!(message.contains("cannot be reached or listed"), "{message}");
    assert!(message.contains("credentials"), "{message}");
    let message = refused(S3Options {
        endpoint: Some(format!("http://127.0.0.1:{}", free_port())),
        ..s3.options("s3://backups")
    })
    .await;
    assert!(message.contains("cannot be reached or listed"), "{message}");
    let message = refused(s3.options("backups")).await;
    assert!(message.contains("not an S3 URL"), "{message}");
    let message = refused(s3.options("s3://")).await;
    assert!(message.contains("names no bucket"), "{message}");
}
