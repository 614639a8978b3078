//! Proxy mode: identity headers count only from the authenticating proxy (its addresses, or
//! its shared secret).

use axum::http::HeaderMap;

/// Proxy mode: who may name the user, and in which headers.
#[derive(Clone)]
pub struct ProxyAuth {
    /// The header naming the user (lowercase), e.g. x-forwarded-user.
    pub user_header: String,
    /// The header with comma-separated groups (lowercase); groups are ignored without it.
    pub groups_header: Option<String>,
    /// Peers whose identity headers are believed (the proxy's addresses).
    pub trusted_peers: Vec<Cidr>,
    /// A secret the proxy sends in [`PROXY_SECRET_HEADER`], for proxies without a fixed address.
    pub secret: Option<String>,
}

/// The header a trusted proxy sends its shared secret in.
pub const PROXY_SECRET_HEADER: &str = "x-mesh-egress-proxy-secret";

impl ProxyAuth {
    /// Whether a request from `peer` with `headers` comes from the trusted proxy.
    pub(super) fn trusts(&self, peer: Option<std::net::IpAddr>, headers: &HeaderMap) -> bool {
        let from_peer = peer.is_some_and(|ip| self.trusted_peers.iter().any(|c| c.contains(ip)));
        let with_secret = match (&self.secret, headers.get(PROXY_SECRET_HEADER)) {
            (Some(secret), Some(sent)) => constant_time_eq(secret.as_bytes(), sent.as_bytes()),
            _ => false,
        };
        from_peer || with_secret
    }
}

/// Whether the two secrets are equal, in time that does not depend on where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// An address block (`10.0.0.0/8`, `fd00::/8`) or one address (a block of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(ipnet::IpNet);

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if let Ok(block) = trimmed.parse::<ipnet::IpNet>() {
            return Ok(Self(block.trunc()));
        }
        match trimmed.split_once('/') {
            None => trimmed
                .parse::<std::net::IpAddr>()
                .map(|ip| Self(ipnet::IpNet::from(ip)))
                .map_err(|_| {
                    format!(
                        "{} is not an address or an address block (10.0.0.0/8)",
                        crate::domain::quoted(text)
                    )
                }),
            Some((address, _)) if address.parse::<std::net::IpAddr>().is_ok() => {
                let max = if address.contains(':') { 128 } else { 32 };
                Err(format!(
                    "{}: the prefix length must be 0 to {max}",
                    crate::domain::quoted(text)
                ))
            }
            Some(_) => Err(format!(
                "{} is not an address or an address block (10.0.0.0/8)",
                crate::domain::quoted(text)
            )),
        }
    }
}

impl Cidr {
    /// Whether `ip` is in the block (an IPv4 address written as IPv6, `::ffff:10.0.0.1`, as
    /// the IPv4 address it is).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        let ip = match ip {
            V6(v6) => v6.to_ipv4_mapped().map(V4).unwrap_or(V6(v6)),
            v4 => v4,
        };
        self.0.contains(&ip)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AuthMode, Caller};
    use super::*;

    #[test]
    fn a_shared_secret_stands_for_the_proxy_and_groups_need_their_header() {
        let mode = AuthMode::Proxy(ProxyAuth {
            user_header: "x-forwarded-user".into(),
            groups_header: None,
            trusted_peers: vec![],
            secret: Some("s3cret-value".into()),
        });
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-user", "bob".parse().expect("header"));
        headers.insert(
            "x-forwarded-groups",
            "system:masters".parse().expect("header"),
        );
        assert!(matches!(
            mode.caller(&headers, None),
            Caller::Anonymous { .. }
        ));
        headers.insert(PROXY_SECRET_HEADER, "s3cret-valuX".parse().expect("header"));
        assert!(matches!(
            mode.caller(&headers, None),
            Caller::Anonymous { .. }
        ));
        headers.insert(PROXY_SECRET_HEADER, "s3cret-value".parse().expect("header"));
        assert_eq!(
            mode.caller(&headers, None),
            Caller::Proxied {
                user: "bob".into(),
                groups: vec![]
            },
            "groups are ignored unless their header is configured"
        );
    }

    #[test]
    fn address_blocks_hold_what_they_say() {
        let block: Cidr = "10.0.0.0/8".parse().expect("cidr");
        assert!(block.contains("10.255.0.1".parse().expect("ip")));
        assert!(!block.contains("11.0.0.1".parse().expect("ip")));
        assert!(
            block.contains("::ffff:10.1.1.1".parse().expect("ip")),
            "v4-mapped"
        );
        let one: Cidr = "127.0.0.1".parse().expect("one address");
        assert!(one.contains("127.0.0.1".parse().expect("ip")));
        assert!(!one.contains("127.0.0.2".parse().expect("ip")));
        let v6: Cidr = "fd00::/8".parse().expect("cidr");
        assert!(v6.contains("fd12::1".parse().expect("ip")));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("proxy.example".parse::<Cidr>().is_err());
    }
}
