//! Reusable widgets: render only.

mod error_notice;
mod live;
mod service_entry_table;
mod session;

pub use error_notice::{ErrorNotice, FindingList};
pub use live::{provide_live, Live, LiveBanner};
pub use service_entry_table::ServiceEntryTable;
pub use session::SessionBadge;
