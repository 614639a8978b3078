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

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An address block (`10.0.0.0/8`, `fd00::/8`) or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: std::net::IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (address, prefix) = text.trim().split_once('/').unwrap_or((text.trim(), ""));
        let network: std::net::IpAddr = address.parse().map_err(|_| {
            format!(
                "{} is not an address or an address block (10.0.0.0/8)",
                crate::domain::quoted(text)
            )
        })?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            "" => max,
            p => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| {
                format!(
                    "{}: the prefix length must be 0 to {max}",
                    crate::domain::quoted(text)
                )
            })?,
        };
        Ok(Self { network, prefix })
    }
}

impl Cidr {
    /// Whether `ip` is in the block.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        let ip = match ip {
            V6(v6) => v6.to_ipv4_mapped().map(V4).unwrap_or(V6(v6)),
            v4 => v4,
        };
        match (self.network, ip) {
            (V4(net), V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (V6(net), V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
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
