//! Connection pool settings (a listener's `connectionPool`, the Sidecar-wide
//! `inboundConnectionPool`), as istiod's `validateConnectionPool` judges them.

use super::super::read::{A_NUMBER, A_STRING};
use super::super::{Finding, Findings};
use serde_json::Value;

/// HTTP settings of a pool.
pub(super) struct HttpPool {
    counts: Vec<(&'static str, &'static str, Option<i64>)>,
    idle_timeout: Option<String>,
    upgrade: bool,
    use_client_protocol: bool,
    /// `http2KeepAlive`: its interval and timeout, when the block is set.
    keepalive: Option<(Option<String>, Option<String>)>,
}

/// TCP settings of a pool.
pub(super) struct TcpPool {
    max_connections: Option<i64>,
    durations: Vec<(&'static str, Option<String>)>,
    idle_timeout: Option<String>,
}

/// A pool, read once; `field` is where it stands.
pub(super) struct Pool {
    field: String,
    pub(super) http: Option<HttpPool>,
    tcp: Option<TcpPool>,
}

fn block<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    value.get(key).filter(|v| !v.is_null())
}

/// Reads a pool at `field`.
pub(super) fn read(value: &Value, field: &str, out: &mut Findings) -> Pool {
    let http = block(value, "http").map(|http| {
        let at = format!("{field}.http");
        let mut count = |key: &'static str, words: &'static str| {
            (key, words, A_NUMBER.field(http, key, &at, out))
        };
        let counts = vec![
            count("http1MaxPendingRequests", "http1 max pending requests"),
            count("http2MaxRequests", "http2 max requests"),
            count("maxRequestsPerConnection", "max requests per connection"),
            count("maxRetries", "max retries"),
            count("maxConcurrentStreams", "max concurrent streams"),
        ];
        let keepalive = block(http, "http2KeepAlive").map(|k| {
            let at = format!("{at}.http2KeepAlive");
            (
                A_STRING.field(k, "interval", &at, out),
                A_STRING.field(k, "timeout", &at, out),
            )
        });
        HttpPool {
            counts,
            idle_timeout: A_STRING.field(http, "idleTimeout", &at, out),
            upgrade: A_STRING.field(http, "h2UpgradePolicy", &at, out).as_deref()
                == Some("UPGRADE"),
            use_client_protocol: http.get("useClientProtocol") == Some(&Value::Bool(true)),
            keepalive,
        }
    });
    let tcp = block(value, "tcp").map(|tcp| {
        let at = format!("{field}.tcp");
        let keepalive = block(tcp, "tcpKeepalive");
        let keepalive_at = format!("{at}.tcpKeepalive");
        let mut durations = vec![
            (
                "connectTimeout",
                A_STRING.field(tcp, "connectTimeout", &at, out),
            ),
            (
                "maxConnectionDuration",
                A_STRING.field(tcp, "maxConnectionDuration", &at, out),
            ),
        ];
        if let Some(keepalive) = keepalive {
            durations.push((
                "tcpKeepalive.time",
                A_STRING.field(keepalive, "time", &keepalive_at, out),
            ));
            durations.push((
                "tcpKeepalive.interval",
                A_STRING.field(keepalive, "interval", &keepalive_at, out),
            ));
        }
        TcpPool {
            max_connections: A_NUMBER.field(tcp, "maxConnections", &at, out),
            durations,
            idle_timeout: A_STRING.field(tcp, "idleTimeout", &at, out),
        }
    });
    Pool {
        field: field.to_string(),
        http,
        tcp,
    }
}

/// A pool sets HTTP or TCP settings; counts are not negative; durations are whole
/// milliseconds, at least 1ms (a TCP idle timeout of 0 turns it off).
pub(super) fn validate(pool: &Pool, out: &mut Findings) {
    if pool.http.is_none() && pool.tcp.is_none() {
        out.push(Finding::error(
            "SC301",
            pool.field.clone(),
            "connection pool must have at least one field",
        ));
        return;
    }
    if let Some(http) = &pool.http {
        let at = format!("{}.http", pool.field);
        for (key, words, value) in &http.counts {
            if value.is_some_and(|v| v < 0) {
                out.push(Finding::error(
                    "SC302",
                    format!("{at}.{key}"),
                    format!("{words} must be non-negative"),
                ));
            }
        }
        if let Some(timeout) = &http.idle_timeout {
            duration(timeout, &format!("{at}.idleTimeout"), out);
        }
        if http.upgrade && http.use_client_protocol {
            out.push(Finding::error(
                "SC303",
                format!("{at}.useClientProtocol"),
                "use client protocol must not be true when H2UpgradePolicy is UPGRADE",
            ));
        }
        if let Some((interval, timeout)) = &http.keepalive {
            let at = format!("{at}.http2KeepAlive");
            for (key, value) in [("interval", interval), ("timeout", timeout)] {
                match value {
                    Some(value) => duration(value, &format!("{at}.{key}"), out),
                    None => out.push(Finding::error(
                        "SC304",
                        format!("{at}.{key}"),
                        format!("http2 keepalive {key} is required"),
                    )),
                }
            }
        }
    }
    if let Some(tcp) = &pool.tcp {
        let at = format!("{}.tcp", pool.field);
        if tcp.max_connections.is_some_and(|v| v < 0) {
            out.push(Finding::error(
                "SC302",
                format!("{at}.maxConnections"),
                "max connections must be non-negative",
            ));
        }
        for (key, value) in &tcp.durations {
            if let Some(value) = value {
                duration(value, &format!("{at}.{key}"), out);
            }
        }
        if let Some(timeout) = &tcp.idle_timeout {
            if parse_duration(timeout).is_none_or(|nanos| nanos / 1_000_000 != 0) {
                duration(timeout, &format!("{at}.idleTimeout"), out);
            }
        }
    }
}

/// A duration as Istio takes it: at least 1ms, whole milliseconds.
fn duration(text: &str, field: &str, out: &mut Findings) {
    let message = match parse_duration(text) {
        None => format!(
            "{} is not a duration (such as 10s, 1.5s or 250ms)",
            crate::domain::quoted(text)
        ),
        Some(nanos) if nanos < 1_000_000 => "duration must be greater than 1ms".into(),
        Some(nanos) if nanos % 1_000_000 != 0 => {
            "only durations to ms precision are supported".into()
        }
        Some(_) => return,
    };
    out.push(Finding::error("SC305", field, message));
}

/// Nanoseconds of a duration written as protobuf's JSON (`1.5s`) or Go's (`1m30s`, `250ms`).
pub(super) fn parse_duration(text: &str) -> Option<i128> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let mut value = whole.checked_mul(scale)?;
        let mut place = scale;
        for digit in fraction.chars() {
            place /= 10;
            value += i128::from(digit.to_digit(10)?) * place;
        }
        total = total.checked_add(value)?;
        rest = after;
    }
    Some(if negative { -total } else { total })
}
