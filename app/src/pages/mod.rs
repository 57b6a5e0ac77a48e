//! The pages, one file per route.

pub mod admin;
pub mod backups;
pub mod explorer;
pub mod not_found;
pub mod overview;
pub mod signin;
pub mod tokens;
