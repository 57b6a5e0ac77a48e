//! The backup engine on a real database and real files: create, list, delete, restore, and
//! every kind of hostile archive refused with a reason and without a trace.

#[path = "../common/mod.rs"]
mod common;

mod jobs;
mod listing;
mod restoring;
mod writing;
