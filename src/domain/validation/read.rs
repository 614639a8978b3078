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

/// What a field may hold: its name in words, and how it is read.
pub(super) struct Expect<T> {
    what: &'static str,
    read: fn(&Value) -> Option<T>,
}

pub(super) const A_STRING: Expect<String> = Expect {
    what: "a string",
    read: |v| v.as_str().map(str::to_string),
};

pub(super) const A_NUMBER: Expect<i64> = Expect {
    what: "a whole number",
    read: Value::as_i64,
};

pub(super) const A_PORT: Expect<i64> = Expect {
    what: "a port number",
    read: Value::as_i64,
};

impl<T> Expect<T> {
    /// Reads `found`; what it is not is reported at `field`.
    fn check(&self, found: &Value, field: String, out: &mut Findings) -> Option<T> {
        let read = (self.read)(found);
        if read.is_none() {
            out.push(Finding::error(
                "SHAPE",
                field,
                format!("must be {}", self.what),
            ));
        }
        read
    }

    /// `value.key`, reported at `field.key`; absent or null reads as absent.
    pub(super) fn field(
        &self,
        value: &Value,
        key: &str,
        field: &str,
        out: &mut Findings,
    ) -> Option<T> {
        let found = value.get(key).filter(|v| !v.is_null())?;
        self.check(found, format!("{field}.{key}"), out)
    }

    /// A mapping of such values at `field`; entries that are not are reported and left out.
    pub(super) fn map(
        &self,
        value: Option<&Value>,
        field: &str,
        out: &mut Findings,
    ) -> Option<Map<T>> {
        match value? {
            Value::Null => None,
            Value::Object(map) => Some(
                map.iter()
                    .filter_map(|(k, v)| {
                        let read =
                            self.check(v, format!("{field}[{}]", crate::domain::quoted(k)), out);
                        read.map(|r| (k.clone(), r))
                    })
                    .collect(),
            ),
            _ => {
                out.push(Finding::error(
                    "SHAPE",
                    field.to_string(),
                    "must be a mapping",
                ));
                None
            }
        }
    }
}

/// A mapping by key.
pub(super) type Map<T> = BTreeMap<String, T>;

/// The spec itself: required, and a mapping (`rule` reports a missing one).
pub(super) fn spec_object<'v>(spec: Option<&'v Value>, rule: &str) -> Result<&'v Value, Finding> {
    match spec {
        None | Some(Value::Null) => Err(Finding::error(rule, "spec", "Required value")),
        Some(spec @ Value::Object(_)) => Ok(spec),
        Some(_) => Err(Finding::error("SHAPE", "spec", "must be a mapping")),
    }
}

/// A list entry that must be a mapping; anything else is reported at `field`.
pub(super) fn mapping<'v>(value: &'v Value, field: &str, out: &mut Findings) -> Option<&'v Value> {
    if value.is_object() {
        return Some(value);
    }
    out.push(Finding::error(
        "SHAPE",
        field.to_string(),
        "must be a mapping",
    ));
    None
}
