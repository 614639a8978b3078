//! The pure core: no kube, no leptos, no I/O. Everything here compiles for wasm32 too, so the
//! browser and the server share one judgement.

pub mod manifest;
pub mod overview;
pub mod policy;
pub mod sidecar;
pub mod validation;

pub use overview::{NamespaceSummary, Overview};
pub use policy::{
    OutboundPolicyMode, PolicyReport, PolicySetting, PolicySource, PolicyState, SourceKind,
};
pub use sidecar::{EffectivePolicy, PolicyOrigin, SidecarPolicy};
