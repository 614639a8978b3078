//! Reading the JSON of a spec into typed values, once. A field of the wrong JSON type is a
//! finding (`SHAPE…`) at that field, and reads as absent; an absent field or null reads as
//! absent, as protobuf reads it.

use super::{Finding, Findings};
use serde_json::Value;
use std::collections::BTreeMap;

/// Reads `spec.KEY`, a list of strings, with each entry's index. An absent field or null is
/// an empty list, as protobuf reads it.
pub(super) fn string_list(spec: &Value, key: &str, out: &mut Findings) -> Vec<(usize, String)> {
    string_list_at(spec, key, &format!("spec.{key}"), out)
}

/// Reads a list of strings at `field`, with each entry's index; entries that are not strings
/// are reported and left out.
pub(super) fn string_list_at(
    value: &Value,
    key: &str,
    field: &str,
    out: &mut Findings,
) -> Vec<(usize, String)> {
    match value.get(key) {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item {
                Value::String(s) => Some((i, s.clone())),
                _ => {
                    out.push(Finding::error(
                        "SHAPE",
                        format!("{field}[{i}]"),
                        "must be a string",
                    ));
                    None
                }
            })
            .collect(),
        Some(_) => {
            out.push(Finding::error("SHAPE", field.to_string(), "must be a list"));
            vec![]
        }
    }
}

/// Reads a list at `key`, reported at `field` when it is not one.
pub(super) fn list<'a>(spec: &'a Value, key: &str, field: &str, out: &mut Findings) -> &'a [Value] {
    match spec.get(key) {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(_) => {
            out.push(Finding::error("SHAPE", field.to_string(), "must be a list"));
            &[]
        }
    }
}

/// Reads a string field of `value` (reported at `field.key`).
pub(super) fn string_field(
    value: &Value,
    key: &str,
    field: &str,
    out: &mut Findings,
) -> Option<String> {
    match value.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            out.push(Finding::error(
                "SHAPE",
                format!("{field}.{key}"),
                "must be a string",
            ));
            None
        }
    }
}

pub(super) fn number_field(
    value: &Value,
    key: &str,
    field: &str,
    out: &mut Findings,
) -> Option<i64> {
    match value.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) => Some(v),
            None => {
                out.push(Finding::error(
                    "SHAPE",
                    format!("{field}.{key}"),
                    "must be a whole number",
                ));
                None
            }
        },
        Some(_) => {
            out.push(Finding::error(
                "SHAPE",
                format!("{field}.{key}"),
                "must be a number",
            ));
            None
        }
    }
}

pub(super) fn string_map(
    value: Option<&Value>,
    field: &str,
    out: &mut Findings,
) -> Option<BTreeMap<String, String>> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(
            map.iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k.clone(), s.clone())),
                    _ => {
                        out.push(Finding::error(
                            "SHAPE",
                            format!("{field}[{k:?}]"),
                            "must be a string",
                        ));
                        None
                    }
                })
                .collect(),
        ),
        Some(_) => {
            out.push(Finding::error(
                "SHAPE",
                field.to_string(),
                "must be a mapping",
            ));
            None
        }
    }
}

/// A map of port names to numbers (an endpoint's `ports`).
pub(super) fn port_map(
    value: Option<&Value>,
    field: &str,
    out: &mut Findings,
) -> BTreeMap<String, i64> {
    match value {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| match v.as_i64() {
                Some(n) => Some((k.clone(), n)),
                None => {
                    out.push(Finding::error(
                        "SHAPE",
                        format!("{field}[{k:?}]"),
                        "must be a port number",
                    ));
                    None
                }
            })
            .collect(),
        Some(_) => {
            out.push(Finding::error(
                "SHAPE",
                field.to_string(),
                "must be a mapping",
            ));
            BTreeMap::new()
        }
    }
}
