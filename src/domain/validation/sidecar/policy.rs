//! A Sidecar's `outboundTrafficPolicy`: a mode a Sidecar may take, and an egress proxy only
//! with ALLOW_ANY.

use super::super::kinds::SidecarMode;
use super::super::names::{is_dns1123_label, validate_fqdn, validate_wildcard_domain};
use super::super::read::{A_NUMBER, A_STRING};
use super::super::{Finding, Findings, LINT_POLICY_WITHOUT_MODE};
use super::{EgressProxy, ModeWord, OutboundPolicy};
use serde_json::Value;

const FIELD: &str = "spec.outboundTrafficPolicy";

/// Reads `outboundTrafficPolicy`.
pub(super) fn read(policy: &Value, out: &mut Findings) -> OutboundPolicy {
    let mode = match A_STRING.field(policy, "mode", FIELD, out) {
        None => ModeWord::Unset,
        Some(word) => match SidecarMode::parse(&word) {
            Some(mode) => ModeWord::Known(mode),
            None => ModeWord::Unknown(word),
        },
    };
    let at = format!("{FIELD}.egressProxy");
    let egress_proxy = policy
        .get("egressProxy")
        .filter(|p| !p.is_null())
        .map(|proxy| EgressProxy {
            host: A_STRING.field(proxy, "host", &at, out).unwrap_or_default(),
            subset: A_STRING.field(proxy, "subset", &at, out),
            port: proxy
                .get("port")
                .filter(|p| !p.is_null())
                .map(|port| A_NUMBER.field(port, "number", &format!("{at}.port"), out)),
        });
    OutboundPolicy { mode, egress_proxy }
}

/// The mode (ALLOW_ANY_DYNAMIC_DNS is for the mesh config only; none at all is the
/// REGISTRY_ONLY trap, a lint), and the egress proxy.
pub(super) fn validate(policy: &OutboundPolicy, out: &mut Findings) {
    let mode_field = format!("{FIELD}.mode");
    match &policy.mode {
        ModeWord::Unknown(word) => out.push(Finding::error(
            "SC501",
            mode_field,
            format!(
                "unsupported value {}: use REGISTRY_ONLY or ALLOW_ANY",
                crate::domain::quoted(word)
            ),
        )),
        ModeWord::Known(SidecarMode::AllowAnyDynamicDns) => {
            out.push(Finding::error(
                "SC502",
                mode_field,
                "sidecar: ALLOW_ANY_DYNAMIC_DNS mode is only supported in MeshConfig, not in \
                 Sidecar resource",
            ));
            return;
        }
        ModeWord::Unset => out.push(Finding::lint(
            LINT_POLICY_WITHOUT_MODE,
            FIELD,
            "outboundTrafficPolicy has no mode, which Istio reads as REGISTRY_ONLY: pods in \
             scope reach only registered hosts",
        )),
        ModeWord::Known(_) => {}
    }
    let Some(proxy) = &policy.egress_proxy else {
        return;
    };
    let at = format!("{FIELD}.egressProxy");
    if !matches!(policy.mode, ModeWord::Known(SidecarMode::AllowAny)) {
        out.push(Finding::error(
            "SC503",
            at,
            "sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode",
        ));
        return;
    }
    if let Err(e) = validate_fqdn(&proxy.host) {
        out.push(Finding::error("SC504", format!("{at}.host"), e));
    }
    let Some(port) = proxy.port else {
        out.push(Finding::error(
            "SC505",
            format!("{at}.port"),
            "sidecar: egress_proxy port must be non-nil",
        ));
        return;
    };
    // istiod then judges the proxy as a route destination.
    if proxy.host == "*" {
        out.push(Finding::error(
            "SC506",
            format!("{at}.host"),
            format!("invalid destination host {}", proxy.host),
        ));
    } else if let Err(e) = validate_wildcard_domain(&proxy.host) {
        out.push(Finding::error("SC506", format!("{at}.host"), e));
    }
    match &proxy.subset {
        Some(subset) if subset.is_empty() || !is_dns1123_label(subset) => out.push(Finding::error(
            "SC507",
            format!("{at}.subset"),
            format!("subset name is invalid: {subset}"),
        )),
        _ => {}
    }
    if !(1..=65535).contains(&port.unwrap_or(0)) {
        out.push(Finding::error(
            "SC508",
            format!("{at}.port.number"),
            "port must be between 1-65535",
        ));
    }
}
