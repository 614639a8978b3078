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
    /// Not YAML, or over a bound (the parser's words).
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
    serde_saphyr::from_multiple_with_options(text, options())
        .map_err(|e| YamlError::Invalid(first_line(&e.to_string())))
}

/// One YAML (or JSON) document as a JSON value (an empty document is `null`).
pub fn document(text: &str) -> Result<Value, YamlError> {
    bounded(text)?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_saphyr::from_str_with_options(text, options())
        .map_err(|e| YamlError::Invalid(first_line(&e.to_string())))
}

/// A value as YAML, as the pages show it and people download it.
pub fn to_yaml(value: &Value) -> String {
    serde_saphyr::to_string(value).unwrap_or_else(|_| {
        // NB: JSON is YAML; a value serde_json holds always serialises.
        serde_json::to_string_pretty(value).unwrap_or_default()
    })
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
