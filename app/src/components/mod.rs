//! Components shared by the pages.

pub mod browser;
pub mod dialog;
pub mod errors;
pub mod files;
pub mod hydration;
pub mod layout;
pub mod session;
pub mod theme;
pub mod time;
pub mod toast;
