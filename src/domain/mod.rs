//! The pure core: no kube, no leptos, no I/O. Everything here compiles for wasm32 too, so the
//! browser and the server share one judgement.

pub mod access;
pub mod edit;
pub mod form;
pub mod gateway;
pub mod manifest;
pub mod map;
pub mod mesh_gateway;
pub mod overview;
pub mod paging;
pub mod policy;
pub mod quoted;
pub mod restrict;
pub mod rollout;
pub mod route;
pub mod service_entry;
pub mod sidecar;
pub mod traffic;
pub mod validation;
pub mod visibility;
pub mod yaml;

pub use overview::{NamespaceSummary, Overview};
pub use policy::{
    OutboundPolicyMode, PolicyReport, PolicySetting, PolicySource, PolicyState, SourceKind,
};
pub use quoted::quoted;
pub use sidecar::{EffectivePolicy, PolicyOrigin, SidecarPolicy};

/// The live state of the server's watch on the cluster, pushed to open pages.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LiveStatus {
    /// Grows with every change seen; pages reload their data when it moves.
    pub generation: u64,
    /// Whether the watch is connected to the API server.
    pub connected: bool,
    /// Whether the first full list has arrived.
    pub synced: bool,
    /// The last error, in words, while disconnected.
    pub error: Option<String>,
}

/// What a URL's query or a `data:` URL keeps as it is: RFC 3986's unreserved characters.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes text for a URL's query or a `data:` URL (every byte but the unreserved).
pub fn url_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}
