//! Namespace backups (`docs/architecture.md`, "Backup jobs"; the archive format is in
//! `docs/backup-format.md`), one operation a file:
//!
//! - [`engine`](mod@engine): the [`Engine`] every operation runs with;
//! - [`catalog`]: the list — [`list`], [`get`], [`delete`], names;
//! - [`create`](mod@create): a durable job that writes a consistent snapshot into a zip;
//! - [`upload`](mod@upload): a file received within the limit, checked completely before
//!   it is listed;
//! - [`download`](mod@download): a completed, intact backup, checked while it streams;
//! - [`restore`](mod@restore): checked completely, written into an invisible generation
//!   ([`writers`], [`crate::domain::generation`]), migrated, switched to in one small transaction;
//! - [`recover`](mod@recover): what a crash left, put right at start-up, and the leases
//!   of jobs: renewed while their replica lives, ended by another when it dies;
//! - [`preview`]: what a restore will do, before it runs;
//! - [`undo`]: restore points, and switching a namespace back to one;
//! - [`verify`]: stored files checked against what was written;
//! - [`jobs`], [`progress`], [`store`], [`archive`]: durable jobs and how far they are, the
//!   file store, the archive format;
//! - `faults`: the test fault points.

pub mod archive;
mod catalog;
mod create;
pub mod download;
mod engine;
mod faults;
pub mod jobs;
pub mod preview;
pub mod progress;
mod recover;
mod restore;
pub mod store;
pub mod undo;
mod upload;
pub mod verify;
mod writers;

pub use self::archive::Passphrase;
pub use self::catalog::{
    ListQuery, PendingDeletion, check_name, delete, delete_by_policy, download_file_name,
    download_name, get, list, list_page, mark_locked, passphrase_to_open, passphrase_to_seal,
    pending_deletions, pin, retry_deletions, stored_file, upload_name,
};
pub use self::create::{create, create_scheduled, create_with_passphrase, write_backup};
pub use self::download::{Body, Conditions, Download, Wanted, download, etag};
pub use self::engine::Engine;
pub use self::jobs::Replica;
pub use self::recover::{keep_leases, recover};
pub use self::restore::{restore, restore_with_passphrase};
pub use self::upload::{
    Incoming, Received, receive, receive_upload, upload, upload_with_passphrase,
};
