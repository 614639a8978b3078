//! Reusable widgets: render only.

mod copy;
mod delete;
mod diff;
mod entry_form;
mod error_notice;
mod filter;
mod live;
mod loading;
mod pager;
mod post_form;
mod query;
mod service_entry_table;
mod session;
mod table;
mod textarea;
mod traffic;

pub use copy::CopyButton;
pub use delete::{DeleteForm, DeletedNotice};
pub use diff::DiffView;
pub use entry_form::{focus_first_error, EntryFields};
pub use error_notice::{ErrorNotice, FindingList};
pub use filter::FilterBox;
pub use live::{use_live, HydratedMark, Live, LiveUpdates};
pub use loading::{shown, Loading};
pub use pager::Pager;
pub use post_form::PostForm;
pub use query::{
    provide_page, query_value, use_entry_key, use_query, use_query_param, use_replace_query,
    use_route_param, PageUrl,
};
pub use service_entry_table::ServiceEntryTable;
pub use session::SessionBadge;
pub use table::{Column, Table};
pub use textarea::textarea_text;
pub use traffic::{
    use_traffic_tick, DestinationTable, RateChart, TelemetryHint, TrafficNotice, TrafficTick,
    WindowLinks,
};
