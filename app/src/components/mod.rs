//! Components shared by the pages.

pub mod errors;
pub mod hydration;
pub mod layout;
pub mod theme;
