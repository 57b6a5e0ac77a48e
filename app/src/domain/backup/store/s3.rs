//! Backup files in an S3 bucket (any S3-compatible server), under a prefix: `<prefix>/<id>.zip`
//! (or `.zip.age`).
//! Files go up as multipart uploads in parts of [`PART_SIZE`], a few at a time, so that memory
//! stays bounded whatever their size; a failed upload is aborted, and S3 shows an object only
//! once its upload is complete. Reads stream straight from the bucket.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use std::collections::VecDeque;

use bytes::BytesMut;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as Key;
use object_store::{
    ClientOptions, GetOptions, GetRange, MultipartId, ObjectStore, ObjectStoreExt, PutPayload,
    RetryConfig,
};
use tokio::io::AsyncWriteExt;

use super::{BackupStore, ByteStream, LocalFile, StoreFuture, id_of, sweep_dir};

/// The size of one part of a multipart upload.
pub const PART_SIZE: usize = 8 << 20;
/// Parts on their way at the same time: with [`PART_SIZE`], at most 32 MiB of a file are
/// in memory while it goes up.
const PARTS_IN_FLIGHT: usize = 4;

/// Where the bucket is and how to reach it; credentials come from the standard
/// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) variables.
#[derive(Clone, Debug, Default)]
pub struct S3Options {
    /// `s3://BUCKET` or `s3://BUCKET/PREFIX`.
    pub url: String,
    /// The server's address, for S3-compatible servers (`http://127.0.0.1:8333`); AWS when
    /// not given.
    pub endpoint: Option<String>,
    /// The region; `us-east-1` when not given.
    pub region: Option<String>,
    /// An access key id and its secret; when not given, the `AWS_*` variables.
    pub credentials: Option<(String, String)>,
}

/// Backup files in an S3 bucket.
#[derive(Debug)]
pub struct S3Store {
    bucket: Arc<AmazonS3>,
    prefix: Key,
    scratch: PathBuf,
    /// `s3://bucket/prefix`, for messages.
    url: String,
}

/// An S3 failure as an I/O error: a missing object is [`std::io::ErrorKind::NotFound`].
fn io(error: object_store::Error) -> std::io::Error {
    match error {
        object_store::Error::NotFound { .. } => {
            std::io::Error::new(std::io::ErrorKind::NotFound, error)
        }
        other => std::io::Error::other(other),
    }
}

impl S3Store {
    /// Opens the bucket that `options` name, with local scratch files in `scratch`, and
    /// checks that it can be reached and listed.
    ///
    /// # Errors
    ///
    /// One sentence that says what is wrong and what to change: a malformed URL, a bucket
    /// that cannot be reached, credentials that are refused.
    pub async fn open(options: &S3Options, scratch: &Path) -> Result<Self, String> {
        let rest = options.url.strip_prefix("s3://").ok_or_else(|| {
            format!(
                "the store `{}` is not an S3 URL; write s3://BUCKET or s3://BUCKET/PREFIX",
                options.url
            )
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!(
                "the store `{}` names no bucket; write s3://BUCKET or s3://BUCKET/PREFIX",
                options.url
            ));
        }
        let prefix = Key::parse(prefix.trim_matches('/')).map_err(|e| {
            format!(
                "the prefix of the store `{}` is not usable: {e}",
                options.url
            )
        })?;
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region(options.region.as_deref().unwrap_or("us-east-1"))
            // Path-style addressing: what S3-compatible servers understand.
            .with_virtual_hosted_style_request(false)
            // A download may stream for longer than any fixed request timeout.
            .with_client_options(
                ClientOptions::new()
                    .with_timeout_disabled()
                    .with_connect_timeout(Duration::from_secs(5)),
            )
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
                ..RetryConfig::default()
            });
        if let Some((key, secret)) = &options.credentials {
            builder = builder
                .with_access_key_id(key)
                .with_secret_access_key(secret);
        }
        if let Some(endpoint) = &options.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let bucket_store = builder.build().map_err(|e| {
            format!(
                "the S3 store `{}` cannot be set up: {e}. Check --s3-endpoint, --s3-region and the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY variables",
                options.url
            )
        })?;
        std::fs::create_dir_all(scratch).map_err(|e| {
            format!(
                "the scratch directory {} cannot be created: {e}",
                scratch.display()
            )
        })?;
        let store = Self {
            bucket: Arc::new(bucket_store),
            prefix,
            scratch: scratch.to_path_buf(),
            url: options.url.clone(),
        };
        // One page of the listing is enough to know that the bucket answers.
        if let Some(Err(error)) = store.bucket.list(Some(&store.prefix)).next().await {
            return Err(format!(
                "the S3 bucket of `{}` cannot be reached or listed: {error}. Check that the bucket exists, the endpoint and region are right, and the credentials may list it",
                options.url
            ));
        }
        Ok(store)
    }

    fn key(&self, name: &str) -> Key {
        self.prefix.clone().join(name)
    }

    /// Where the id of the file `name`'s unfinished multipart upload is written down while
    /// it runs: `<prefix>/unfinished/<name>` (before encrypted backups: `…/<id>`, for
    /// `<id>.zip`).
    fn marker(&self, name: &str) -> Key {
        self.prefix.clone().join("unfinished").join(name)
    }

    /// Sends `bytes` as one multipart upload to `id`. The upload's id is written down first,
    /// so that an upload its process did not live to finish can be aborted by another
    /// ([`BackupStore::delete`], [`BackupStore::abort_stale_uploads`]); one that fails here
    /// is aborted at once. Returns how many bytes went up.
    async fn upload(&self, id: &str, bytes: ByteStream) -> std::io::Result<u64> {
        let key = self.key(id);
        let upload = self.bucket.create_multipart(&key).await.map_err(io)?;
        let marker = self.marker(id);
        let result = match self
            .bucket
            .put(&marker, PutPayload::from(upload.clone().into_bytes()))
            .await
        {
            Ok(_) => match self.send_parts(&key, &upload, bytes).await {
                Ok((parts, sent)) => self
                    .bucket
                    .complete_multipart(&key, &upload, parts)
                    .await
                    .map(|_| sent)
                    .map_err(io),
                Err(error) => Err(error),
            },
            Err(error) => Err(io(error)),
        };
        if result.is_err()
            && let Err(abort) = self.bucket.abort_multipart(&key, &upload).await
        {
            tracing::warn!(error = %abort, store = self.url, backup = id, "could not abort an unfinished upload; it is tried again when the backup's file is removed, or after a day");
            return result;
        }
        // The upload is complete or aborted: nothing is left to abort. (A marker that stays
        // behind is harmless: aborting a finished upload does nothing.)
        let _ = self.bucket.delete(&marker).await;
        result
    }

    /// Sends the parts of one multipart upload, [`PART_SIZE`] bytes each (the last may be
    /// shorter), at most [`PARTS_IN_FLIGHT`] at a time. Returns the parts in order and how
    /// many bytes went up.
    async fn send_parts(
        &self,
        key: &Key,
        upload: &MultipartId,
        mut bytes: ByteStream,
    ) -> std::io::Result<(Vec<PartId>, u64)> {
        let mut in_flight: Parts = Parts(VecDeque::new());
        let mut parts = Vec::new();
        let mut buffer = BytesMut::new();
        let (mut sent, mut index) = (0u64, 0usize);
        loop {
            let chunk = bytes.next().await.transpose()?;
            let done = chunk.is_none();
            if let Some(chunk) = chunk {
                sent += chunk.len() as u64;
                buffer.extend_from_slice(&chunk);
            }
            // The last part is sent at the end, and an empty file is one empty part.
            while buffer.len() >= PART_SIZE || (done && (!buffer.is_empty() || index == 0)) {
                let part = buffer.split_to(PART_SIZE.min(buffer.len())).freeze();
                if in_flight.0.len() >= PARTS_IN_FLIGHT {
                    parts.push(in_flight.next().await?);
                }
                let (bucket, key, upload) = (Arc::clone(&self.bucket), key.clone(), upload.clone());
                in_flight.0.push_back(tokio::spawn(async move {
                    bucket
                        .put_part(&key, &upload, index, PutPayload::from(part))
                        .await
                        .map_err(io)
                }));
                index += 1;
                if index == 1 {
                    super::super::faults::pause_point("store:uploading", "").await;
                }
            }
            if done {
                break;
            }
        }
        while !in_flight.0.is_empty() {
            parts.push(in_flight.next().await?);
        }
        Ok((parts, sent))
    }

    /// Aborts the file `name`'s unfinished upload, if one was written down.
    async fn abort_unfinished(&self, name: &str) -> std::io::Result<()> {
        let marker = self.marker(name);
        // A marker written before files had their extension in their name is a backup id.
        let file = match id_of(name) {
            Some(_) => name.to_string(),
            None => super::file_name(name, false),
        };
        let upload = match self.bucket.get(&marker).await {
            Ok(found) => found.bytes().await.map_err(io)?,
            Err(object_store::Error::NotFound { .. }) => return Ok(()),
            Err(error) => return Err(io(error)),
        };
        let upload = String::from_utf8_lossy(&upload).into_owned();
        match self.bucket.abort_multipart(&self.key(&file), &upload).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(error) => return Err(io(error)),
        }
        tracing::info!(
            store = self.url,
            file = name,
            "aborted an upload that was not finished"
        );
        match self.bucket.delete(&marker).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(io(error)),
        }
    }
}

/// The parts of an upload on their way; those still running when this goes are stopped.
struct Parts(VecDeque<tokio::task::JoinHandle<std::io::Result<PartId>>>);

impl Parts {
    /// The oldest part's result.
    async fn next(&mut self) -> std::io::Result<PartId> {
        let Some(part) = self.0.pop_front() else {
            return Err(std::io::Error::other("no part is on its way"));
        };
        part.await
            .map_err(|error| std::io::Error::other(format!("sending a part stopped: {error}")))?
    }
}

impl Drop for Parts {
    fn drop(&mut self) {
        for part in &self.0 {
            part.abort();
        }
    }
}

impl BackupStore for S3Store {
    fn scratch_path(&self, name: &str) -> PathBuf {
        self.scratch.join(format!("{name}.zip"))
    }

    fn put_file<'a>(&'a self, id: &'a str, scratch: &'a Path) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let file = tokio::fs::File::open(scratch).await?;
            let bytes = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20);
            self.upload(id, Box::pin(bytes)).await?;
            tokio::fs::remove_file(scratch).await
        })
    }

    fn put_stream<'a>(&'a self, id: &'a str, bytes: ByteStream) -> StoreFuture<'a, u64> {
        Box::pin(self.upload(id, bytes))
    }

    fn size<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<u64>> {
        Box::pin(async move {
            match self.bucket.head(&self.key(id)).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(io(error)),
            }
        })
    }

    fn modified<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<std::time::SystemTime>> {
        Box::pin(async move {
            match self.bucket.head(&self.key(id)).await {
                Ok(meta) => Ok(Some(meta.last_modified.into())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(io(error)),
            }
        })
    }

    fn get<'a>(&'a self, id: &'a str, range: Option<Range<u64>>) -> StoreFuture<'a, ByteStream> {
        Box::pin(async move {
            let options = GetOptions {
                range: range.map(GetRange::Bounded),
                ..GetOptions::default()
            };
            let result = self
                .bucket
                .get_opts(&self.key(id), options)
                .await
                .map_err(io)?;
            let stream: ByteStream = Box::pin(result.into_stream().map_err(io));
            Ok(stream)
        })
    }

    fn local_file<'a>(&'a self, id: &'a str) -> StoreFuture<'a, LocalFile> {
        Box::pin(async move {
            let path = self.scratch_path(&format!("fetch-{id}-{}", uuid::Uuid::new_v4().simple()));
            // From here on, the copy goes when this value does, however the fetch ends.
            let local = LocalFile {
                path,
                fetched: true,
            };
            let mut bytes = self.get(id, None).await?;
            let mut file = tokio::fs::File::create(local.path()).await?;
            while let Some(chunk) = bytes.next().await {
                file.write_all(&chunk?).await?;
            }
            file.flush().await?;
            Ok(local)
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            match self.bucket.delete(&self.key(id)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => return Err(io(error)),
            }
            // The file may never have been finished: its parts go too.
            self.abort_unfinished(id).await
        })
    }

    fn abort_stale_uploads(&self, older_than: Duration) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            let unfinished = self.prefix.clone().join("unfinished");
            let markers: Vec<object_store::ObjectMeta> = self
                .bucket
                .list(Some(&unfinished))
                .try_collect()
                .await
                .map_err(io)?;
            let now = chrono::Utc::now();
            let mut aborted = 0;
            for marker in markers {
                let old = (now - marker.last_modified)
                    .to_std()
                    .is_ok_and(|age| age >= older_than);
                if let (true, Some(id)) = (old, marker.location.filename()) {
                    self.abort_unfinished(id).await?;
                    aborted += 1;
                }
            }
            Ok(aborted)
        })
    }

    fn list(&self) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move {
            let listed = self
                .bucket
                .list_with_delimiter(Some(&self.prefix))
                .await
                .map_err(io)?;
            let mut ids: Vec<String> = listed
                .objects
                .iter()
                .filter_map(|object| object.location.filename())
                .filter(|name| id_of(name).is_some())
                .map(str::to_string)
                .collect();
            ids.sort();
            Ok(ids)
        })
    }

    fn sweep_scratch(&self) -> StoreFuture<'_, usize> {
        sweep_dir(self.scratch.clone())
    }
}
