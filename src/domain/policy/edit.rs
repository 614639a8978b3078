//! Switching the mode inside the mesh config's text: only the value of
//! `outboundTrafficPolicy.mode` changes (or its line is added); comments, key order, quoting and
//! every other setting stay byte for byte. Re-serialising the document would lose comments and
//! could change YAML 1.1 scalars (`yes`, `on`, `0755`) into other types. The edit is checked by
//! reading both documents: anything but the one field differing refuses the edit.

use super::{MeshConfigError, OutboundPolicyMode};
use crate::domain::yaml;
use serde_json::Value;

const KEY: &str = "outboundTrafficPolicy:";

/// Writes `mode` into a mesh config document, changing nothing else.
pub fn set_mode_in_mesh_yaml(
    document: &str,
    mode: &OutboundPolicyMode,
) -> Result<String, MeshConfigError> {
    let before = read(document)?;
    if !(before.is_object() || before.is_null()) {
        return Err(MeshConfigError::WrongShape {
            field: "meshConfig".into(),
            expected: "a mapping".into(),
        });
    }
    let value = mode.as_istio();
    let mut expected = before;
    if expected.is_null() {
        expected = Value::Object(Default::default());
    }
    let policy = expected
        .as_object_mut()
        .map(|root| {
            root.entry("outboundTrafficPolicy")
                .or_insert_with(|| Value::Object(Default::default()))
        })
        .filter(|p| p.is_object() || p.is_null());
    match policy {
        Some(policy) => {
            if policy.is_null() {
                *policy = Value::Object(Default::default());
            }
            if let Some(policy) = policy.as_object_mut() {
                policy.insert("mode".into(), Value::String(value.to_string()));
            }
        }
        None => {
            return Err(MeshConfigError::WrongShape {
                field: "outboundTrafficPolicy".into(),
                expected: "a mapping".into(),
            })
        }
    }
    let edited = edit(document, value).ok_or_else(|| not_editable(document))?;
    match read(&edited) {
        Ok(after) if after == expected => Ok(edited),
        _ => Err(not_editable(document)),
    }
}

fn read(document: &str) -> Result<Value, MeshConfigError> {
    yaml::document(document).map_err(|e| MeshConfigError::Unreadable(e.to_string()))
}

fn not_editable(document: &str) -> MeshConfigError {
    let line = document
        .lines()
        .find(|l| l.trim_start().starts_with(KEY))
        .unwrap_or("(no outboundTrafficPolicy line)");
    MeshConfigError::NotEditable(format!(
        "mesh-egress changes only the mode's value in the mesh config's text, and cannot do so \
         here without changing something else ({}): set outboundTrafficPolicy.mode by hand",
        line.trim()
    ))
}

/// The document with the mode set, or `None` where the text is not in a form edited here.
fn edit(document: &str, value: &str) -> Option<String> {
    let lines: Vec<&str> = document.split_inclusive('\n').collect();
    let Some(at) = lines.iter().position(|l| l.starts_with(KEY)) else {
        // No policy yet: a new block at the end.
        let mut out = document.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("{KEY}\n  mode: {value}\n"));
        return Some(out);
    };
    let line = lines[at];
    let (body, comment) = split_comment(&line[KEY.len()..]);
    let inline = body.trim();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    if inline.starts_with('{') && inline.ends_with('}') {
        // Flow style on one line: `{}`, `{mode: X}`, `{mode: X, egressProxy: …}`.
        let inner = &inline[1..inline.len() - 1];
        let replaced = match find_mode(inner) {
            Some((start, end)) => format!("{}{value}{}", &inner[..start], &inner[end..]),
            None if inner.trim().is_empty() => format!("mode: {value}"),
            None => format!("mode: {value}, {}", inner.trim_start()),
        };
        out[at] = format!("{KEY} {{{replaced}}}{comment}{}", line_end(line));
        return Some(out.concat());
    }
    if !(inline.is_empty() || inline == "null" || inline == "~") {
        return None;
    }
    // Block style: the lines indented under the key.
    let block: Vec<usize> = (at + 1..lines.len())
        .take_while(|&i| {
            let l = lines[i];
            l.trim().is_empty() || l.trim_start().starts_with('#') || l.starts_with([' ', '\t'])
        })
        .collect();
    let indent = block
        .iter()
        .map(|&i| lines[i])
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| l[..l.len() - l.trim_start().len()].to_string());
    if !inline.is_empty() {
        out[at] = format!("{KEY}{comment}{}", line_end(line));
    }
    if let Some(indent) = &indent {
        for &i in &block {
            let l = lines[i];
            if let Some(rest) = l.strip_prefix(indent.as_str()) {
                if rest.starts_with("mode:") {
                    let (start, end) = find_mode(rest)?;
                    out[i] = format!("{indent}{}{value}{}", &rest[..start], &rest[end..]);
                    return Some(out.concat());
                }
            }
        }
    }
    let indent = indent.unwrap_or_else(|| "  ".to_string());
    out.insert(at + 1, format!("{indent}mode: {value}\n"));
    if !line.ends_with('\n') {
        out[at].push('\n');
        if let Some(last) = out.get_mut(at + 1) {
            last.pop();
        }
    }
    Some(out.concat())
}

/// The byte range of the mode's value in `text` (a flow mapping's inside, or a block line).
fn find_mode(text: &str) -> Option<(usize, usize)> {
    let key = text.find("mode:")?;
    if key > 0 && !text[..key].trim_end().ends_with([',', '{']) && !text[..key].trim().is_empty() {
        return None;
    }
    let after = key + "mode:".len();
    let start = after + (text[after..].len() - text[after..].trim_start().len());
    let rest = &text[start..];
    let len = match rest.chars().next() {
        Some(q @ ('"' | '\'')) => rest[1..].find(q)? + 2,
        _ => rest
            .find(|c: char| c == ',' || c == '}' || c == '#' || c.is_whitespace())
            .unwrap_or(rest.len()),
    };
    Some((start, start + len))
}

/// Splits a line's rest at a ` #` comment (outside quotes), keeping the comment's spacing.
fn split_comment(rest: &str) -> (&str, &str) {
    let body = rest.trim_end_matches(['\n', '\r']);
    let mut quote = None;
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if i == 0 || body[..i].ends_with([' ', '\t']) => {
                let start = body[..i].trim_end().len();
                return (&body[..start], &body[start..]);
            }
            _ => {}
        }
    }
    (body, "")
}

fn line_end(line: &str) -> &str {
    let trimmed = line.trim_end_matches(['\n', '\r']);
    &line[trimmed.len()..]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mesh config as people write it by hand: comments, quoting, YAML 1.1 scalars.
    const HAND_WRITTEN: &str = include_str!("../../../tests/fixtures/mesh/hand-written.yaml");

    fn set(document: &str, mode: OutboundPolicyMode) -> String {
        set_mode_in_mesh_yaml(document, &mode).expect("set")
    }

    #[test]
    fn only_the_mode_changes_byte_for_byte() {
        let switched = set(HAND_WRITTEN, OutboundPolicyMode::RegistryOnly);
        assert_eq!(
            switched,
            HAND_WRITTEN.replace(
                "mode: ALLOW_ANY   # for now",
                "mode: REGISTRY_ONLY   # for now"
            )
        );
        assert_eq!(set(&switched, OutboundPolicyMode::AllowAny), HAND_WRITTEN);
    }

    #[test]
    fn the_mode_is_added_where_it_is_missing() {
        let cases = [
            ("trustDomain: cluster.local", "trustDomain: cluster.local\noutboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n"),
            ("", "outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n"),
            ("outboundTrafficPolicy: {}  # trap\nx: 1\n", "outboundTrafficPolicy: {mode: REGISTRY_ONLY}  # trap\nx: 1\n"),
            ("outboundTrafficPolicy: {mode: ALLOW_ANY}\n", "outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n"),
            (
                "outboundTrafficPolicy: {egressProxy: {host: e.example}}\n",
                "outboundTrafficPolicy: {mode: REGISTRY_ONLY, egressProxy: {host: e.example}}\n",
            ),
            (
                "outboundTrafficPolicy:\n    egressProxy:\n      host: e.example\nx: 1\n",
                "outboundTrafficPolicy:\n    mode: REGISTRY_ONLY\n    egressProxy:\n      host: e.example\nx: 1\n",
            ),
            ("outboundTrafficPolicy: ~\nx: 1\n", "outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\nx: 1\n"),
            ("x: 1\noutboundTrafficPolicy:", "x: 1\noutboundTrafficPolicy:\n  mode: REGISTRY_ONLY"),
            ("outboundTrafficPolicy:\n  mode: \"ALLOW_ANY\"\n", "outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n"),
        ];
        for (before, after) in cases {
            assert_eq!(
                set(before, OutboundPolicyMode::RegistryOnly),
                after,
                "from {before:?}"
            );
        }
    }

    #[test]
    fn what_cannot_be_edited_alone_is_refused_with_the_reason() {
        for document in [
            r#"{"outboundTrafficPolicy": {"mode": "ALLOW_ANY"}, "x": 1}"#,
            "outboundTrafficPolicy: &p\n  mode: ALLOW_ANY\nother: *p\n",
        ] {
            let refused = set_mode_in_mesh_yaml(document, &OutboundPolicyMode::RegistryOnly)
                .expect_err("refused");
            assert!(
                matches!(refused, MeshConfigError::NotEditable(_)),
                "{document}: {refused:?}"
            );
            assert!(refused
                .to_string()
                .contains("set outboundTrafficPolicy.mode by hand"));
        }
        assert!(matches!(
            set_mode_in_mesh_yaml(
                "outboundTrafficPolicy: [1]\n",
                &OutboundPolicyMode::AllowAny
            ),
            Err(MeshConfigError::WrongShape { .. })
        ));
    }
}

#[cfg(test)]
mod round_trip {
    use super::*;

    #[test]
    fn a_document_written_by_our_own_yaml_writer_is_editable() {
        let mut mesh = crate::domain::yaml::document(
            "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  proxyMetadata: {}\noutboundTrafficPolicy:\n  mode: ALLOW_ANY\nrootNamespace: istio-system\n",
        )
        .expect("yaml");
        for i in 0..3 {
            mesh["defaultConfig"]["proxyMetadata"][format!("WRITER_{i}")] =
                Value::from(i.to_string());
            let text = crate::domain::yaml::to_yaml(&mesh);
            let switched = set_mode_in_mesh_yaml(&text, &OutboundPolicyMode::RegistryOnly)
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            mesh = crate::domain::yaml::document(&switched).expect("yaml");
        }
    }
}
