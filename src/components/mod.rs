//! Reusable widgets: render only.

mod error_notice;

pub use error_notice::ErrorNotice;
