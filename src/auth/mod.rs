//! Who the dashboard acts as. Local mode: the kubeconfig's identity, loopback only. Shared
//! mode: each user signs in with a Kubernetes bearer token, kept in an encrypted, HttpOnly,
//! SameSite=Strict cookie that expires; or a trusted authenticating proxy names the user in a
//! header and the server impersonates them. The token is never logged and never sent back.

use crate::domain::access::SessionMode;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::convert::Infallible;
use std::sync::Arc;

mod proxy;
pub use proxy::{Cidr, ProxyAuth, PROXY_SECRET_HEADER};

/// The session cookie's name.
pub const COOKIE: &str = "mesh_egress_session";
/// The session cookie's name when it is Secure.
pub const SECURE_COOKIE: &str = "__Host-mesh_egress_session";
/// How long a session lasts.
pub const SESSION_SECONDS: u64 = 8 * 3600;

/// How users are identified.
#[derive(Clone)]
pub enum AuthMode {
    /// The server's own identity for everyone (loopback only unless allowed).
    Local,
    /// Users sign in with a bearer token.
    Token {
        /// Seals and opens session cookies.
        sessions: SessionKeys,
        /// Mark the cookie Secure (served over TLS, directly or behind a proxy).
        secure_cookies: bool,
        /// Sessions signed out before their cookie expired (kept in the cluster, for every
        /// replica).
        revoked: Revoked,
    },
    /// A trusted proxy in front names the user; the server impersonates them.
    Proxy(ProxyAuth),
}

impl AuthMode {
    /// Whether users are told apart (shared mode).
    pub fn is_shared(&self) -> bool {
        !matches!(self, Self::Local)
    }

    /// The mode, as the pages know it.
    pub fn mode(&self) -> SessionMode {
        match self {
            Self::Local => SessionMode::Local,
            Self::Token { .. } => SessionMode::Token,
            Self::Proxy { .. } => SessionMode::Proxy,
        }
    }

    /// A short name for the mode.
    pub fn name(&self) -> &'static str {
        self.mode().name()
    }

    /// Who sent a request, by this mode's rules.
    pub fn caller(&self, headers: &HeaderMap, peer: Option<std::net::IpAddr>) -> Caller {
        match self {
            Self::Local => Caller::Local,
            Self::Token {
                sessions,
                secure_cookies,
                revoked,
            } => match cookie(headers, cookie_name(*secure_cookies))
                .and_then(|value| sessions.open(value, now()))
            {
                Some(session) if revoked.contains(&session.id) => Caller::Anonymous {
                    why: "this session was signed out".into(),
                },
                Some(session) => Caller::SignedIn {
                    token: session.token,
                    session: session.id,
                    expires_at: session.expires_at,
                },
                None => Caller::Anonymous {
                    why: "no valid session (it may have expired)".into(),
                },
            },
            Self::Proxy(proxy) if !proxy.trusts(peer, headers) => Caller::Anonymous {
                why: "identity headers are accepted only from the trusted authenticating proxy"
                    .into(),
            },
            Self::Proxy(ProxyAuth {
                user_header,
                groups_header,
                ..
            }) => {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                };
                let Some(user) = header(user_header) else {
                    return Caller::Anonymous {
                        why: format!("the authenticating proxy sent no {user_header} header"),
                    };
                };
                let groups = groups_header
                    .as_deref()
                    .and_then(header)
                    .map(|g| {
                        g.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                Caller::Proxied {
                    user: user.to_string(),
                    groups,
                }
            }
        }
    }
}

/// Who sent a request: an axum extractor, so server functions and handlers identify the
/// caller the same way. It reads the [`AuthMode`] the router put in the request's extensions;
/// without one nobody is identified (it never falls back to the server's identity).
#[derive(Clone, PartialEq, Eq)]
pub enum Caller {
    /// Local mode: the server's own identity.
    Local,
    /// A user signed in with this bearer token.
    SignedIn {
        /// The token (never logged, never sent back).
        token: String,
        /// The session's id (revoked at sign-out).
        session: String,
        /// When the session's cookie expires (seconds since the epoch).
        expires_at: u64,
    },
    /// A user named by the trusted proxy, to be impersonated.
    Proxied {
        /// The user name.
        user: String,
        /// The user's groups.
        groups: Vec<String>,
    },
    /// Shared mode, and nobody is signed in.
    Anonymous {
        /// What is missing.
        why: String,
    },
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local => write!(f, "Local"),
            Self::SignedIn { .. } => write!(f, "SignedIn(<token>)"),
            Self::Proxied { user, groups } => write!(f, "Proxied({user}, {groups:?})"),
            Self::Anonymous { why } => write!(f, "Anonymous({why})"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(match parts.extensions.get::<Arc<AuthMode>>() {
            Some(mode) => {
                let peer = parts
                    .extensions
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                    .map(|c| c.0.ip());
                mode.caller(&parts.headers, peer)
            }
            None => Caller::Anonymous {
                why: "this server does not know how to identify users".into(),
            },
        })
    }
}

/// The sessions signed out before they expired, by id, with their expiry: fed by a watch on
/// the cluster's record of them, so a sign-out on one replica ends the session on all.
#[derive(Clone, Default)]
pub struct Revoked(Arc<std::sync::RwLock<std::collections::BTreeMap<String, u64>>>);

impl Revoked {
    /// Whether the session `id` was signed out.
    pub fn contains(&self, id: &str) -> bool {
        self.0.read().map(|r| r.contains_key(id)).unwrap_or(true)
    }

    /// Adds one signed-out session (at once, before the cluster's record comes back).
    pub fn insert(&self, id: &str, expires_at: u64) {
        if let Ok(mut revoked) = self.0.write() {
            revoked.insert(id.to_string(), expires_at);
        }
    }

    /// Replaces the set with the cluster's record of it.
    pub fn replace(&self, record: std::collections::BTreeMap<String, u64>) {
        if let Ok(mut revoked) = self.0.write() {
            *revoked = record;
        }
    }
}

/// An opened session cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedSession {
    /// The session's random id.
    pub id: String,
    /// The bearer token.
    pub token: String,
    /// When it expires (seconds since the epoch).
    pub expires_at: u64,
}

/// The key that seals session cookies (ChaCha20-Poly1305: encrypted and authenticated).
#[derive(Clone)]
pub struct SessionKeys {
    cipher: ChaCha20Poly1305,
}

impl SessionKeys {
    /// A random key: sessions end when the server restarts.
    pub fn random() -> Self {
        let key: [u8; 32] = rand::random();
        Self::from_key(&key)
    }

    /// A key from 32 bytes (for a key file shared by replicas).
    pub fn from_key(key: &[u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    /// Seals a token and its expiry, under a new random session id, into a cookie value.
    pub fn seal(&self, token: &str, expires_at: u64) -> Option<String> {
        let nonce: [u8; 12] = rand::random();
        let id: [u8; 16] = rand::random();
        let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let plain = format!("{expires_at}\n{id}\n{token}");
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .ok()?;
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Opens a cookie value: the session, if the cookie is authentic and not expired.
    pub fn open(&self, value: &str, now: u64) -> Option<OpenedSession> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value)
            .ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), sealed).ok()?;
        let plain = String::from_utf8(plain).ok()?;
        let (expires_at, rest) = plain.split_once('\n')?;
        let (id, token) = rest.split_once('\n')?;
        let expires_at = expires_at.parse::<u64>().ok()?;
        (expires_at > now).then(|| OpenedSession {
            id: id.to_string(),
            token: token.to_string(),
            expires_at,
        })
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A cookie's value from the request headers (every `Cookie` header, read by the `cookie`
/// crate; a malformed pair is passed over).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
}

/// The Set-Cookie value for a session (or, with `None`, one that ends it).
pub fn set_cookie(value: Option<&str>, secure: bool) -> String {
    let name = cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    match value {
        Some(value) => format!(
            "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{secure}"
        ),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

/// The session cookie's name: with `__Host-` when it is Secure, so the browser keeps it to this
/// exact host over TLS (no Domain, Path=/), out of reach of sibling subdomains.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE
    } else {
        COOKIE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_an_auth_mode_nobody_is_identified() {
        let (mut parts, ()) = axum::http::Request::new(()).into_parts();
        let caller = Caller::from_request_parts(&mut parts, &()).await;
        assert!(matches!(caller, Ok(Caller::Anonymous { .. })), "{caller:?}");
        parts.extensions.insert(Arc::new(AuthMode::Local));
        let caller = Caller::from_request_parts(&mut parts, &()).await;
        assert_eq!(caller.ok(), Some(Caller::Local));
    }

    #[test]
    fn sessions_are_sealed_authentic_and_expire() {
        let keys = SessionKeys::random();
        let sealed = keys.seal("secret-token", 1_000).expect("seal");
        assert!(
            !sealed.contains("secret-token"),
            "the token is not readable in the cookie"
        );
        let opened = keys.open(&sealed, 999).expect("opens");
        assert_eq!(
            (opened.token.as_str(), opened.expires_at),
            ("secret-token", 1_000)
        );
        let again = keys.seal("secret-token", 1_000).expect("seal");
        assert_ne!(
            keys.open(&again, 999).map(|s| s.id),
            Some(opened.id),
            "each sign-in is a session of its own"
        );
        assert_eq!(keys.open(&sealed, 1_000), None, "expired");
        assert_eq!(
            SessionKeys::random().open(&sealed, 0),
            None,
            "another key cannot open it"
        );
        let mut tampered = sealed.into_bytes();
        tampered[20] ^= 1;
        assert_eq!(keys.open(&String::from_utf8_lossy(&tampered), 0), None);
    }

    #[test]
    fn the_proxy_names_the_caller_and_nobody_else_does() {
        let proxy: std::net::IpAddr = "10.1.2.3".parse().expect("ip");
        let mode = AuthMode::Proxy(ProxyAuth {
            user_header: "x-forwarded-user".into(),
            groups_header: Some("x-forwarded-groups".into()),
            trusted_peers: vec!["10.1.0.0/16".parse().expect("cidr")],
            secret: None,
        });
        let mut headers = HeaderMap::new();
        assert!(matches!(
            mode.caller(&headers, Some(proxy)),
            Caller::Anonymous { .. }
        ));
        headers.insert("x-forwarded-user", "alice".parse().expect("header"));
        headers.insert("x-forwarded-groups", "dev, ops,".parse().expect("header"));
        assert_eq!(
            mode.caller(&headers, Some(proxy)),
            Caller::Proxied {
                user: "alice".into(),
                groups: vec!["dev".into(), "ops".into()]
            }
        );
        // Any other peer saying the same is nobody.
        let pod: std::net::IpAddr = "10.2.0.9".parse().expect("ip");
        assert!(matches!(
            mode.caller(&headers, Some(pod)),
            Caller::Anonymous { .. }
        ));
        assert!(matches!(
            mode.caller(&headers, None),
            Caller::Anonymous { .. }
        ));
        let token = AuthMode::Token {
            sessions: SessionKeys::random(),
            secure_cookies: false,
            revoked: Default::default(),
        };
        assert!(matches!(
            token.caller(&headers, Some(proxy)),
            Caller::Anonymous { .. }
        ));
        assert_eq!(AuthMode::Local.caller(&headers, None), Caller::Local);
    }

    #[test]
    fn cookies_are_http_only_and_same_site_strict() {
        let c = set_cookie(Some("abc"), true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(
            c.starts_with("__Host-mesh_egress_session=abc; Path=/;") && !c.contains("Domain"),
            "{c}"
        );
        // A Secure session is read only from its __Host- cookie.
        let mode = AuthMode::Token {
            sessions: SessionKeys::random(),
            secure_cookies: true,
            revoked: Default::default(),
        };
        let AuthMode::Token { sessions, .. } = &mode else {
            unreachable!()
        };
        let sealed = sessions.seal("t", now() + 60).expect("seal");
        let with_cookie = |name: &str| {
            let mut headers = HeaderMap::new();
            let value = format!("{name}={sealed}").parse().expect("header");
            headers.insert("cookie", value);
            headers
        };
        let (plain, host) = (with_cookie(COOKIE), with_cookie(SECURE_COOKIE));
        assert!(matches!(
            mode.caller(&plain, None),
            Caller::Anonymous { .. }
        ));
        assert!(matches!(
            mode.caller(&host, None),
            Caller::SignedIn { token, .. } if token == "t"
        ));
        // Signed out (here or on another replica): the same cookie is nobody.
        let AuthMode::Token { revoked, .. } = &mode else {
            unreachable!()
        };
        let id = sessions.open(&sealed, now()).expect("opens").id;
        revoked.replace([(id, now() + 60)].into());
        assert!(matches!(
            mode.caller(&host, None),
            Caller::Anonymous { why } if why.contains("signed out")
        ));
        assert!(set_cookie(None, false).contains("Max-Age=0"));
        let mut headers = HeaderMap::new();
        headers.insert(
            "cookie",
            "a=1; mesh_egress_session=xyz".parse().expect("header"),
        );
        assert_eq!(cookie(&headers, COOKIE), Some("xyz"));
    }
}
