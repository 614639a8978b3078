//! Who the dashboard acts as. Local mode: the kubeconfig's identity, loopback only. Shared
//! mode: each user signs in with a Kubernetes bearer token, kept in an encrypted, HttpOnly,
//! SameSite=Strict cookie that expires; or a trusted authenticating proxy names the user in a
//! header and the server impersonates them. The token is never logged and never sent back.

use axum::http::HeaderMap;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// The session cookie's name.
pub const COOKIE: &str = "mesh_egress_session";
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
    },
    /// A trusted proxy in front names the user; the server impersonates them.
    Proxy {
        /// Header with the user name (e.g. X-Forwarded-User).
        user_header: String,
        /// Header with comma-separated groups, if any.
        groups_header: Option<String>,
    },
}

impl AuthMode {
    /// Whether users are told apart (shared mode).
    pub fn is_shared(&self) -> bool {
        !matches!(self, Self::Local)
    }

    /// A short name for the mode.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Token { .. } => "token",
            Self::Proxy { .. } => "proxy",
        }
    }
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

    /// Seals a token and its expiry into a cookie value.
    pub fn seal(&self, token: &str, expires_at: u64) -> Option<String> {
        let nonce: [u8; 12] = rand::random();
        let plain = format!("{expires_at}\n{token}");
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .ok()?;
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Opens a cookie value: the token, if the cookie is authentic and not expired.
    pub fn open(&self, value: &str, now: u64) -> Option<String> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value)
            .ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), sealed).ok()?;
        let plain = String::from_utf8(plain).ok()?;
        let (expires_at, token) = plain.split_once('\n')?;
        (expires_at.parse::<u64>().ok()? > now).then(|| token.to_string())
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The Set-Cookie value for a session (or, with `None`, one that ends it).
pub fn set_cookie(value: Option<&str>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match value {
        Some(value) => format!(
            "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{secure}"
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_sealed_authentic_and_expire() {
        let keys = SessionKeys::random();
        let sealed = keys.seal("secret-token", 1_000).expect("seal");
        assert!(
            !sealed.contains("secret-token"),
            "the token is not readable in the cookie"
        );
        assert_eq!(keys.open(&sealed, 999).as_deref(), Some("secret-token"));
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
    fn cookies_are_http_only_and_same_site_strict() {
        let c = set_cookie(Some("abc"), true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(set_cookie(None, false).contains("Max-Age=0"));
        let mut headers = HeaderMap::new();
        headers.insert(
            "cookie",
            "a=1; mesh_egress_session=xyz".parse().expect("header"),
        );
        assert_eq!(cookie(&headers, COOKIE), Some("xyz"));
    }
}
