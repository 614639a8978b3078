//! The closed vocabularies of Istio's networking API, as enums: what the rules compare
//! instead of strings, and what the pages offer as options.

/// How the proxy finds the endpoints of a ServiceEntry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Connect to the address the application asked for.
    None,
    /// The endpoints' static IP addresses.
    Static,
    /// Resolve the hosts (or endpoint addresses) by DNS, one connection pool per address.
    Dns,
    /// Resolve by DNS, use the first address.
    DnsRoundRobin,
    /// Resolve wildcard hosts by DNS on demand.
    DynamicDns,
}

/// Every resolution, in the order the form offers them.
pub const RESOLUTIONS: &[&str] = &["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"];

impl Resolution {
    /// The resolution Istio's enum name stands for.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "NONE" => Self::None,
            "STATIC" => Self::Static,
            "DNS" => Self::Dns,
            "DNS_ROUND_ROBIN" => Self::DnsRoundRobin,
            "DYNAMIC_DNS" => Self::DynamicDns,
            _ => return None,
        })
    }

    /// Istio's name for it.
    pub fn as_istio(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Static => "STATIC",
            Self::Dns => "DNS",
            Self::DnsRoundRobin => "DNS_ROUND_ROBIN",
            Self::DynamicDns => "DYNAMIC_DNS",
        }
    }

    /// DNS or DNS_ROUND_ROBIN: hosts or endpoint addresses are looked up.
    pub fn resolves_by_dns(self) -> bool {
        matches!(self, Self::Dns | Self::DnsRoundRobin)
    }
}

/// Whether a ServiceEntry's service is part of the mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Outside the mesh: no mTLS, no sidecar there.
    MeshExternal,
    /// Part of the mesh.
    MeshInternal,
}

/// Every location, in the order the form offers them.
pub const LOCATIONS: &[&str] = &["MESH_EXTERNAL", "MESH_INTERNAL"];

impl Location {
    /// The location Istio's enum name stands for.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "MESH_EXTERNAL" => Some(Self::MeshExternal),
            "MESH_INTERNAL" => Some(Self::MeshInternal),
            _ => None,
        }
    }
}

/// A port's protocol, as Istio's `protocol.Parse` knows them (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1.
    Http,
    /// HTTP over TLS (opaque to the mesh unless it terminates TLS).
    Https,
    /// gRPC.
    Grpc,
    /// gRPC-Web.
    GrpcWeb,
    /// HTTP/2.
    Http2,
    /// An HTTP proxy.
    HttpProxy,
    /// TLS, routed by SNI.
    Tls,
    /// Plain TCP.
    Tcp,
    /// UDP.
    Udp,
    /// MongoDB.
    Mongo,
    /// Redis.
    Redis,
    /// MySQL.
    Mysql,
}

/// Every protocol's name, as the form lists them.
pub const PROTOCOLS: &[&str] = &[
    "HTTP",
    "HTTPS",
    "GRPC",
    "GRPC-WEB",
    "HTTP2",
    "HTTP_PROXY",
    "TLS",
    "TCP",
    "UDP",
    "MONGO",
    "REDIS",
    "MYSQL",
];

impl Protocol {
    /// The protocol a name stands for, in any case.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value.to_ascii_uppercase().as_str() {
            "HTTP" => Self::Http,
            "HTTPS" => Self::Https,
            "GRPC" => Self::Grpc,
            "GRPC-WEB" => Self::GrpcWeb,
            "HTTP2" => Self::Http2,
            "HTTP_PROXY" => Self::HttpProxy,
            "TLS" => Self::Tls,
            "TCP" => Self::Tcp,
            "UDP" => Self::Udp,
            "MONGO" => Self::Mongo,
            "REDIS" => Self::Redis,
            "MYSQL" => Self::Mysql,
            _ => return None,
        })
    }

    /// Istio's name for it.
    pub fn as_istio(self) -> &'static str {
        match self {
            Self::Http => "HTTP",
            Self::Https => "HTTPS",
            Self::Grpc => "GRPC",
            Self::GrpcWeb => "GRPC-WEB",
            Self::Http2 => "HTTP2",
            Self::HttpProxy => "HTTP_PROXY",
            Self::Tls => "TLS",
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
            Self::Mongo => "MONGO",
            Self::Redis => "REDIS",
            Self::Mysql => "MYSQL",
        }
    }

    /// Proxied as HTTP: routes, retries and metrics by path.
    pub fn is_http(self) -> bool {
        matches!(
            self,
            Self::Http | Self::Http2 | Self::HttpProxy | Self::Grpc | Self::GrpcWeb
        )
    }

    /// Carried over TLS, routed by SNI.
    pub fn is_tls(self) -> bool {
        matches!(self, Self::Https | Self::Tls)
    }

    /// Seen by the mesh only at the TCP level (HTTPS and TLS included).
    pub fn is_tcp_level(self) -> bool {
        matches!(
            self,
            Self::Tcp | Self::Https | Self::Tls | Self::Mongo | Self::Redis | Self::Mysql
        )
    }
}

/// A port's protocol as written: none, one Istio knows, or another word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PortProtocol {
    Unset,
    Known(Protocol),
    Unknown,
}

impl PortProtocol {
    /// Reads a protocol as written; an unknown word is an error of `rule` at `field`.
    pub(super) fn read(written: &str, rule: &str, field: &str, out: &mut super::Findings) -> Self {
        if written.is_empty() {
            return Self::Unset;
        }
        match Protocol::parse(written) {
            Some(protocol) => Self::Known(protocol),
            None => {
                let message = format!(
                    "unsupported protocol {}: use one of {}",
                    crate::domain::quoted(written),
                    PROTOCOLS.join(", ")
                );
                out.push(super::Finding::error(rule, field, message));
                Self::Unknown
            }
        }
    }

    pub(super) fn known(self) -> Option<Protocol> {
        match self {
            Self::Known(protocol) => Some(protocol),
            Self::Unset | Self::Unknown => None,
        }
    }

    pub(super) fn is_http(self) -> bool {
        self.known().is_some_and(Protocol::is_http)
    }

    pub(super) fn is_tls(self) -> bool {
        self.known().is_some_and(Protocol::is_tls)
    }

    pub(super) fn is_tcp_level(self) -> bool {
        self.known().is_some_and(Protocol::is_tcp_level)
    }
}

/// A Sidecar's `outboundTrafficPolicy.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidecarMode {
    /// Only registered hosts.
    RegistryOnly,
    /// Any host.
    AllowAny,
    /// Any host, resolved on demand.
    AllowAnyDynamicDns,
}

impl SidecarMode {
    /// The mode Istio's enum name stands for.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "REGISTRY_ONLY" => Some(Self::RegistryOnly),
            "ALLOW_ANY" => Some(Self::AllowAny),
            "ALLOW_ANY_DYNAMIC_DNS" => Some(Self::AllowAnyDynamicDns),
            _ => None,
        }
    }
}

/// How a Sidecar listener captures traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureMode {
    /// The proxy's default (iptables where installed).
    Default,
    /// Redirected by iptables.
    Iptables,
    /// Not captured: the application connects to the listener itself.
    None,
}

impl CaptureMode {
    /// The capture mode Istio's enum name stands for.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "DEFAULT" | "" => Some(Self::Default),
            "IPTABLES" => Some(Self::Iptables),
            "NONE" => Some(Self::None),
            _ => None,
        }
    }
}
