//! Search, filter and sort of destinations, and how numbers read.

use super::{Destination, Verdict};
use serde::{Deserialize, Serialize};

/// How the traffic page sorts destinations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortBy {
    /// The most calls first.
    #[default]
    Calls,
    /// By host name.
    Host,
    /// Blocked, then passthrough, then registered.
    Verdict,
    /// The highest error rate first.
    Errors,
}

impl SortBy {
    /// Reads `calls`, `host`, `verdict` or `errors` (default: calls).
    pub fn parse(text: &str) -> SortBy {
        match text.trim() {
            "host" => SortBy::Host,
            "verdict" => SortBy::Verdict,
            "errors" => SortBy::Errors,
            _ => SortBy::Calls,
        }
    }

    /// How it is written in URLs.
    pub fn key(self) -> &'static str {
        match self {
            SortBy::Calls => "calls",
            SortBy::Host => "host",
            SortBy::Verdict => "verdict",
            SortBy::Errors => "errors",
        }
    }
}

/// Destinations matching `query` and `verdict` (empty: any), sorted.
pub fn select<'a>(
    destinations: &'a [Destination],
    query: &str,
    verdict: Option<&Verdict>,
    sort: SortBy,
) -> Vec<&'a Destination> {
    let mut out: Vec<&Destination> = destinations
        .iter()
        .filter(|d| d.matches(query) && verdict.is_none_or(|v| &d.verdict == v))
        .collect();
    let by_calls = |a: &&Destination, b: &&Destination| b.calls().total_cmp(&a.calls());
    match sort {
        SortBy::Calls => out.sort_by(by_calls),
        SortBy::Host => out.sort_by_key(|d| d.host_label()),
        SortBy::Verdict => out.sort_by(|a, b| {
            let rank = |v: &Verdict| match v {
                Verdict::Blocked => 0,
                Verdict::Passthrough => 1,
                Verdict::Registered => 2,
            };
            rank(&a.verdict).cmp(&rank(&b.verdict)).then(by_calls(a, b))
        }),
        SortBy::Errors => out.sort_by(|a, b| b.error_rate().total_cmp(&a.error_rate())),
    }
    out
}

/// A count as the pages show it: whole numbers, `1.2k`, `3.4M`.
pub fn count_label(value: f64) -> String {
    match value {
        v if v >= 1e6 => format!("{:.1}M", v / 1e6),
        v if v >= 1e4 => format!("{:.0}k", v / 1e3),
        v if v >= 1e3 => format!("{:.1}k", v / 1e3),
        v => format!("{}", v.round() as i64),
    }
}

/// Bytes as the pages show them.
pub fn bytes_label(value: f64) -> String {
    match value {
        v if v >= 1_048_576.0 => format!("{:.1} MiB", v / 1_048_576.0),
        v if v >= 1024.0 => format!("{:.1} KiB", v / 1024.0),
        v => format!("{} B", v.round() as i64),
    }
}
