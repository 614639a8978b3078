//! Judging Istio objects the way istiod's validating webhook and the CRD's schema do, plus
//! mesh-egress's own lint rules (warnings with stable codes). Pure: the same code runs in the
//! browser (field errors as the user types) and on the server (before every write).
//!
//! An object's `spec` is read once into a typed view (`service_entry::view`,
//! `sidecar::view`: enums for resolution, location, protocol and mode), and small rule
//! functions, grouped by what they judge, look at that view. Every finding names the rule that
//! made it with a stable code (`rule`): `SE…` for ServiceEntry rules, `SC…` for Sidecar rules,
//! `LBL…`/`SEL…` for labels and workload selectors, `EXP…` for exportTo, `SHAPE…` for fields of
//! the wrong JSON type, `MEG…` for mesh-egress's lints (also in `code`).

mod export_to;
mod kinds;
mod names;
mod read;
#[cfg(test)]
mod rule_cases;
mod service_entry;
mod sidecar;
#[cfg(test)]
mod tests;

pub use kinds::{Location, Protocol, Resolution, SidecarMode, LOCATIONS, PROTOCOLS, RESOLUTIONS};
pub use names::{
    is_dns1123_label, is_dns1123_subdomain, is_k8s_label, validate_fqdn, validate_wildcard_domain,
};
pub use service_entry::validate_service_entry;
pub use sidecar::validate_sidecar;

use serde::{Deserialize, Serialize};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    /// istiod or the apiserver rejects the object.
    Error,
    /// Accepted, but probably not what was meant.
    Warning,
}

/// One thing wrong with an object, at a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Path of the field, such as `spec.ports[1].name`.
    pub field: String,
    /// Why, in words.
    pub message: String,
    /// A stable code for mesh-egress's own lint rules (`MEG…`); none for istiod's rules.
    pub code: Option<String>,
    /// The stable code of the rule that found it, istiod's rules and lints alike; none for
    /// what the API server reported.
    #[serde(default)]
    pub rule: Option<String>,
}

impl Finding {
    /// An error found by `rule`.
    pub fn error(rule: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            field: field.into(),
            message: message.into(),
            code: None,
            rule: Some(rule.to_string()),
        }
    }

    /// A warning found by `rule` (istiod accepts the object but warns).
    pub fn warning(rule: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(rule, field, message)
        }
    }

    /// A warning of one of mesh-egress's lint rules.
    fn lint(code: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: Some(code.to_string()),
            ..Self::warning(code, field, message)
        }
    }

    /// A refusal the API server reported (it names no rule of ours).
    pub fn reported(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            rule: None,
            ..Self::error("", field, message)
        }
    }

    /// `field: message`, with the lint code when there is one.
    pub fn describe(&self) -> String {
        match &self.code {
            Some(code) => format!("{}: {} [{code}]", self.field, self.message),
            None => format!("{}: {}", self.field, self.message),
        }
    }
}

/// The findings of one object, in the order the rules made them.
type Findings = Vec<Finding>;

/// For each check that holds, an error of `rule` at `field.KEY` with its message.
fn errors_where<'a>(
    out: &mut Findings,
    rule: &str,
    field: &str,
    checks: impl IntoIterator<Item = (bool, &'a str, String)>,
) {
    for (holds, key, message) in checks {
        if holds {
            out.push(Finding::error(rule, format!("{field}.{key}"), message));
        }
    }
}

/// Whether a list of findings lets the object through (warnings do).
pub fn is_valid(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.severity != Severity::Error)
}

/// Lint: resolution NONE with a TCP port and no addresses opens 0.0.0.0:port.
pub const LINT_NONE_TCP_WITHOUT_ADDRESSES: &str = "MEG001";
/// Lint: several hosts share a TCP-level port while resolution is not NONE.
pub const LINT_MULTI_HOST_TCP: &str = "MEG002";
/// Lint: DNS resolution of a host that is not fully qualified.
pub const LINT_DNS_SHORT_NAME: &str = "MEG003";
/// Lint: an `outboundTrafficPolicy` without a mode means REGISTRY_ONLY.
pub const LINT_POLICY_WITHOUT_MODE: &str = "MEG004";
