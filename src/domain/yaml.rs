//! YAML in and out, in one place, bounded: what people paste (manifests) and what the cluster
//! holds (the mesh config) is read with a size bound, a nesting bound, and a bound on alias
//! expansion, so a small request cannot take the server's memory ("billion laughs").

use serde_json::Value;

/// The largest manifest or mesh config read, in bytes (well under the request body limit).
pub const MAX_YAML_BYTES: usize = 256 * 1024;
/// The deepest nesting read (a ServiceEntry or mesh config is a few levels deep).
pub const MAX_DEPTH: usize = 32;
/// How many documents one manifest may hold.
pub const MAX_DOCUMENTS: usize = 100;
/// How many alias uses, and replayed events from aliases, one read may make.
pub const MAX_ALIASES: usize = 100;
const MAX_REPLAYED_EVENTS: usize = 10_000;

/// Why YAML was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    /// Larger than [`MAX_YAML_BYTES`].
    #[error("is {0} bytes; at most {MAX_YAML_BYTES} are read")]
    TooLarge(usize),
    /// Not YAML, or over a bound: what is wrong, and where.
    #[error("{0}")]
    Invalid(String),
}

fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_documents = MAX_DOCUMENTS;
    budget.max_aliases = MAX_ALIASES;
    budget.max_nodes = 100_000;
    budget.max_total_scalar_bytes = MAX_YAML_BYTES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = MAX_REPLAYED_EVENTS;
    options.alias_limits.max_alias_expansions_per_anchor = MAX_ALIASES;
    options
}

fn bounded(text: &str) -> Result<(), YamlError> {
    match text.len() {
        n if n > MAX_YAML_BYTES => Err(YamlError::TooLarge(n)),
        _ => Ok(()),
    }
}

/// Every document of a YAML stream (or one JSON document), as JSON values.
pub fn documents(text: &str) -> Result<Vec<Value>, YamlError> {
    bounded(text)?;
    serde_saphyr::from_multiple_with_options(text, options()).map_err(|e| invalid(&e))
}

/// One YAML (or JSON) document as a JSON value (an empty document is `null`).
pub fn document(text: &str) -> Result<Value, YamlError> {
    bounded(text)?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| invalid(&e))
}

/// A value as YAML, as the pages show it and people download it.
pub fn to_yaml(value: &Value) -> String {
    serde_saphyr::to_string(value).unwrap_or_else(|_| {
        // NB: JSON is YAML; a value serde_json holds always serialises.
        serde_json::to_string_pretty(value).unwrap_or_default()
    })
}

/// The parser's refusal in words for people: what is wrong and where, never the library's own
/// wording (its option names, its budget's debug form).
fn invalid(error: &serde_saphyr::Error) -> YamlError {
    use serde_saphyr::Error as E;
    let what = match error {
        E::Budget { .. } | E::AliasReplayStackDepthExceeded { .. } => format!(
            "is larger or deeper than is read (at most {MAX_DEPTH} levels of nesting, \
             {MAX_DOCUMENTS} documents, {MAX_ALIASES} aliases)"
        ),
        E::AliasReplayCounterOverflow { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. } => {
            format!("repeats aliases (*name) more than is read (at most {MAX_ALIASES})")
        }
        E::UnknownAnchor { .. } => "uses an alias (*name) with no anchor (&name)".into(),
        E::DuplicateMappingKey { key, .. } => match key {
            Some(key) => format!("gives the key {} twice in one mapping", super::quoted(key)),
            None => "gives a key twice in one mapping".into(),
        },
        E::InvalidUtf8Input => "is not UTF-8 text".into(),
        E::IndentationError { .. } => "is not indented consistently".into(),
        E::QuotingRequired { .. } => "has a value that must be quoted".into(),
        E::Eof { .. } => "ends in the middle of a value".into(),
        E::InvalidBinaryBase64 { .. } | E::BinaryNotUtf8 { .. } => {
            "has a !!binary value that is not base64 of UTF-8 text".into()
        }
        other => {
            let text = other.to_string().to_ascii_lowercase();
            if text.contains("budget") || text.contains("depth") || text.contains("limit") {
                format!(
                    "is larger or deeper than is read (at most {MAX_DEPTH} levels of nesting, \
                     {MAX_DOCUMENTS} documents, {MAX_ALIASES} aliases)"
                )
            } else if text.contains("anchor") || text.contains("alias") {
                "uses an alias (*name) with no anchor (&name)".into()
            } else if text.contains("non-finite") || text.contains("out of range") {
                "has a number out of range".into()
            } else if text.contains("duplicate") {
                "gives a key twice in one mapping".into()
            } else {
                "is not valid YAML or JSON".into()
            }
        }
    };
    YamlError::Invalid(match error.location() {
        Some(at) if at.line() > 0 => format!("{what} (line {}, column {})", at.line(), at.column()),
        _ => what,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        // NB: tests write only under target/: no regression files beside the source.
        #![proptest_config(proptest::prelude::ProptestConfig { failure_persistence: None, ..Default::default() })]
        /// Whatever is pasted, it is read or refused in our words: never the library's option
        /// names or debug forms, and never a panic.
        #[test]
        fn any_text_is_read_or_refused_in_plain_words(text in "[a-z:{}\\[\\],&*!\n -]{0,80}|.{0,80}") {
            if let Err(YamlError::Invalid(reason)) = documents(&text) {
                for leaked in ["Options", "Policy", "Budget", "Depth {", "\\u{", "configured"] {
                    proptest::prop_assert!(!reason.contains(leaked), "{}", reason);
                }
            }
        }
    }

    #[test]
    fn refusals_name_what_is_wrong_in_plain_words() {
        let reason = |text: &str| match documents(text) {
            Err(YamlError::Invalid(reason)) => reason,
            other => panic!("refused: {other:?}"),
        };
        assert!(
            reason("a: 1\na: 2\n").starts_with("gives a key twice"),
            "{}",
            reason("a: 1\na: 2\n")
        );
        assert!(reason("x: 1e400\n").starts_with("has a number out of range"));
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        assert!(
            reason(&deep).contains("at most 32 levels"),
            "{}",
            reason(&deep)
        );
        assert!(reason("a: *nowhere\n").contains("no anchor"));
    }

    #[test]
    fn reads_documents_and_json() {
        let docs = documents("a: 1\n---\nb: [x, z]\n").expect("reads");
        assert_eq!(
            docs,
            vec![
                serde_json::json!({"a": 1}),
                serde_json::json!({"b": ["x", "z"]})
            ]
        );
        // YAML 1.1 booleans, as Kubernetes' own YAML reader (go-yaml v2) takes them.
        assert_eq!(
            document("a: yes\nb: off\n").expect("reads"),
            serde_json::json!({"a": true, "b": false})
        );
        assert_eq!(
            document(r#"{"a": true}"#).expect("reads"),
            serde_json::json!({"a": true})
        );
        assert_eq!(document("  \n").expect("reads"), Value::Null);
    }

    #[test]
    fn an_alias_bomb_is_refused_small() {
        // Nine levels of nine aliases: about 387 million strings if expanded.
        let mut bomb = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (prev, next) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let refs = vec![format!("*{prev}"); 9].join(",");
            bomb.push_str(&format!("{next}: &{next} [{refs}]\n"));
        }
        assert!(bomb.len() < 1_000, "the request is small");
        let refused = documents(&bomb).expect_err("refused");
        assert!(matches!(refused, YamlError::Invalid(_)), "{refused:?}");
    }

    #[test]
    fn deep_nesting_and_large_input_are_refused() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(document(&deep).is_err());
        let large = format!("a: \"{}\"\n", "x".repeat(MAX_YAML_BYTES));
        assert!(matches!(document(&large), Err(YamlError::TooLarge(_))));
    }

    #[test]
    fn yaml_out_reads_back_the_same() {
        let value = serde_json::json!({"spec": {"hosts": ["a.example"], "ports": [{"number": 80}]}, "on": "yes"});
        assert_eq!(document(&to_yaml(&value)).expect("reads"), value);
    }
}
