//! TLS on a Sidecar's ingress listener: what a Sidecar does not support, and istiod's
//! `validateTLSOptions` (certificates each mode needs, cipher suites, CRLs).

use super::super::kinds::PortProtocol;
use super::super::read::{string_list_at, A_STRING};
use super::super::{errors_where, Finding, Findings};
use serde_json::Value;

/// The server TLS modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    Passthrough,
    Simple,
    Mutual,
    AutoPassthrough,
    IstioMutual,
    OptionalMutual,
}

impl TlsMode {
    fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "" | "PASSTHROUGH" => Self::Passthrough,
            "SIMPLE" => Self::Simple,
            "MUTUAL" => Self::Mutual,
            "AUTO_PASSTHROUGH" => Self::AutoPassthrough,
            "ISTIO_MUTUAL" => Self::IstioMutual,
            "OPTIONAL_MUTUAL" => Self::OptionalMutual,
            _ => return None,
        })
    }

    fn as_istio(self) -> &'static str {
        match self {
            Self::Passthrough => "PASSTHROUGH",
            Self::Simple => "SIMPLE",
            Self::Mutual => "MUTUAL",
            Self::AutoPassthrough => "AUTO_PASSTHROUGH",
            Self::IstioMutual => "ISTIO_MUTUAL",
            Self::OptionalMutual => "OPTIONAL_MUTUAL",
        }
    }
}

/// Istio's known cipher suites (`security.ValidCipherSuites`).
const CIPHER_SUITES: &[&str] = &[
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-RSA-AES256-SHA",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "AES128-SHA",
    "AES256-SHA",
    "DES-CBC3-SHA",
];

/// An ingress listener's `tls`, read once.
pub(super) struct IngressTls {
    /// `None`: a word Istio does not know.
    mode: Option<TlsMode>,
    subject_alt_names: bool,
    https_redirect: bool,
    credential_name: bool,
    credential_names: bool,
    tls_certificates: bool,
    server_certificate: bool,
    private_key: bool,
    ca_certificates: bool,
    ca_crl: bool,
    old_minimum: bool,
    cipher_suites: Vec<String>,
}

fn set(tls: &Value, key: &str) -> bool {
    match tls.get(key) {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

/// Reads `tls` at `field`.
pub(super) fn read(tls: &Value, field: &str, out: &mut Findings) -> IngressTls {
    let mode = A_STRING.field(tls, "mode", field, out).unwrap_or_default();
    let minimum = A_STRING
        .field(tls, "minProtocolVersion", field, out)
        .unwrap_or_default();
    IngressTls {
        mode: TlsMode::parse(&mode),
        subject_alt_names: set(tls, "subjectAltNames"),
        https_redirect: set(tls, "httpsRedirect"),
        credential_name: set(tls, "credentialName"),
        credential_names: set(tls, "credentialNames"),
        tls_certificates: set(tls, "tlsCertificates"),
        server_certificate: set(tls, "serverCertificate"),
        private_key: set(tls, "privateKey"),
        ca_certificates: set(tls, "caCertificates"),
        ca_crl: set(tls, "caCrl"),
        old_minimum: matches!(minimum.as_str(), "TLSV1_0" | "TLSV1_1"),
        cipher_suites: string_list_at(tls, "cipherSuites", &format!("{field}.cipherSuites"), out)
            .into_iter()
            .map(|(_, suite)| suite)
            .collect(),
    }
}

/// What a Sidecar's ingress TLS may not set, and what its mode needs.
pub(super) fn validate(tls: &IngressTls, protocol: PortProtocol, field: &str, out: &mut Findings) {
    // istiod's words, each for a setting a Sidecar's ingress TLS does not support.
    let t = tls;
    let unsupported = [
        (
            t.subject_alt_names,
            "subjectAltNames",
            "subjectAltNames is not supported in ingress tls",
        ),
        (
            t.https_redirect,
            "httpsRedirect",
            "httpsRedirect is not supported",
        ),
        (
            t.credential_name,
            "credentialName",
            "credentialName is not currently supported",
        ),
        (
            t.credential_names,
            "credentialNames",
            "credentialNames is not currently supported",
        ),
        (
            t.tls_certificates,
            "tlsCertificates",
            "tls_certificates is not currently supported",
        ),
    ]
    .map(|(set, key, message)| (set, key, format!("sidecar: {message}")));
    errors_where(out, "SC401", field, unsupported);
    match tls.mode {
        None => out.push(Finding::error(
            "SC402",
            format!("{field}.mode"),
            "unknown TLS mode",
        )),
        Some(mode @ (TlsMode::IstioMutual | TlsMode::AutoPassthrough)) => out.push(Finding::error(
            "SC403",
            format!("{field}.mode"),
            format!(
                "configuration is invalid: cannot set mode to {} in sidecar ingress tls",
                mode.as_istio()
            ),
        )),
        Some(_) => {}
    }
    if !protocol.is_tls() {
        out.push(Finding::error(
            "SC404",
            field.to_string(),
            "server cannot have TLS settings for non HTTPS/TLS ports",
        ));
    }
    options(tls, field, out);
}

/// istiod's `validateTLSOptions`.
fn options(tls: &IngressTls, field: &str, out: &mut Findings) {
    if tls.old_minimum && tls.cipher_suites.is_empty() {
        out.push(Finding::warning(
            "SC410",
            format!("{field}.minProtocolVersion"),
            "TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.",
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    let (mut invalid, mut duplicate) = (Vec::new(), Vec::new());
    for suite in &tls.cipher_suites {
        let free_form = suite.is_empty()
            || suite == "ALL"
            || !suite.chars().next().is_some_and(char::is_alphanumeric);
        if !free_form && !CIPHER_SUITES.contains(&suite.as_str()) {
            invalid.push(suite.clone());
        } else if !seen.insert(suite) {
            duplicate.push(suite.clone());
        }
    }
    for (suites, words) in [(invalid, "invalid"), (duplicate, "duplicate")] {
        if !suites.is_empty() {
            out.push(Finding::warning(
                "SC411",
                format!("{field}.cipherSuites"),
                format!("ignoring {words} cipher suites: {suites:?}"),
            ));
        }
    }
    let Some(mode) = tls.mode else { return };
    let remote = tls.credential_name || tls.credential_names;
    let sources = [
        tls.server_certificate && tls.private_key,
        tls.credential_name,
        tls.credential_names,
        tls.tls_certificates,
    ];
    if sources.iter().filter(|s| **s).count() > 1 {
        out.push(Finding::error(
            "SC412",
            field.to_string(),
            "only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified",
        ));
    }
    let terminates = matches!(
        mode,
        TlsMode::Simple | TlsMode::Mutual | TlsMode::OptionalMutual
    );
    if terminates && !remote {
        let prefix = if mode == TlsMode::Simple {
            "SIMPLE TLS"
        } else {
            "MUTUAL TLS"
        };
        let t = tls;
        let needed = [
            (
                mode != TlsMode::Simple && !t.ca_certificates,
                "caCertificates",
                "a client CA bundle",
            ),
            (
                !t.tls_certificates && !t.server_certificate,
                "serverCertificate",
                "a server certificate",
            ),
            (
                !t.tls_certificates && !t.private_key,
                "privateKey",
                "a private key",
            ),
        ]
        .map(|(missing, key, what)| (missing, key, format!("{prefix} requires {what}")));
        errors_where(out, "SC413", field, needed);
    }
    if tls.ca_crl && (tls.credential_name || mode == TlsMode::Simple) {
        out.push(Finding::error(
            "SC414",
            format!("{field}.caCrl"),
            "CRL is not supported with credentialName or SIMPLE TLS",
        ));
    }
}
