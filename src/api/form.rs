//! How every server function reads its request: an HTML form's fields
//! (`application/x-www-form-urlencoded`), read once at the edge, every refusal a 400 that names
//! the field and says what is allowed.
//!
//! NB: leptos's own `PostUrl` reads any body as a form (`text/plain`, UTF-16, JSON alike), lets a
//! field given twice become a list that then fails in serde's words, and answers every such
//! request 500. Server functions therefore take their fields through [`FormArgs`], a wrapper
//! (`#[server(custom = FormArgs, input = Form)]`) whose readers are ours: the fields are
//! checked as a whole here (body type, UTF-8, each field once, no `field[]` lists), then
//! deserialised by `serde_qs` with `serde_path_to_error` tracking which field failed.

use crate::error::AppError;
use leptos::server_fn::request::{ClientReq, Req};
use leptos::server_fn::{
    codec::{Encoding, FromReq, IntoReq},
    ContentType,
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// The request encoding of every server function: a form post.
pub struct Form;

impl ContentType for Form {
    const CONTENT_TYPE: &'static str = "application/x-www-form-urlencoded";
}

impl Encoding for Form {
    const METHOD: http::Method = http::Method::POST;
}

/// A server function's fields, read and written as a [`Form`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FormArgs<T>(pub T);

impl<T, R> IntoReq<Form, R, AppError> for FormArgs<T>
where
    T: Serialize,
    R: ClientReq<AppError>,
{
    fn into_req(self, path: &str, accepts: &str) -> Result<R, AppError> {
        let body = serde_qs::to_string(&self.0).map_err(|_| AppError::Request {
            message: "the form's fields could not be written".into(),
        })?;
        R::try_new_post(path, Form::CONTENT_TYPE, accepts, body)
    }
}

impl<T, R> FromReq<Form, R, AppError> for FormArgs<T>
where
    T: DeserializeOwned + Send,
    R: Req<AppError> + Send + 'static,
{
    async fn from_req(req: R) -> Result<Self, AppError> {
        #[cfg(feature = "ssr")]
        {
            let content_type = req.to_content_type().map(|c| c.into_owned());
            let body = req.try_into_bytes().await?;
            let read = read(content_type.as_deref(), &body).map(FormArgs);
            // NB: the status of a refusal is set as for every other error of a server function.
            crate::api::ssr::respond(read)
        }
        #[cfg(not(feature = "ssr"))]
        {
            let _ = req;
            Err(AppError::Internal {
                message: "server functions are read on the server".into(),
            })
        }
    }
}

/// A field whose reading failed, and why, in words for people.
#[cfg(feature = "ssr")]
fn invalid(field: impl Into<String>, reason: impl Into<String>) -> AppError {
    AppError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Reads a form body into `T`: the body must be a form (or empty), UTF-8, each field given
/// once and none as a list; then every field of `T` must be there and parse.
#[cfg(feature = "ssr")]
pub fn read<T: DeserializeOwned>(content_type: Option<&str>, body: &[u8]) -> Result<T, AppError> {
    check_content_type(content_type, body)?;
    let text = std::str::from_utf8(body).map_err(|_| {
        invalid(
            "body",
            "is not UTF-8 text: send the fields as an HTML form does \
             (application/x-www-form-urlencoded, UTF-8)",
        )
    })?;
    if text.contains('\0') {
        return Err(invalid(
            "body",
            "holds NUL characters (UTF-16?): send the fields as UTF-8, as an HTML form does",
        ));
    }
    check_fields(text)?;
    let config = serde_qs::Config::new(5, false);
    let deserializer = serde_qs::Deserializer::with_config(&config, text.as_bytes())
        .map_err(|e| invalid("body", shape_reason(&e.to_string())))?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = form_path(e.path());
        let message = e.inner().to_string();
        match missing_field(&message) {
            Some(name) => invalid(
                join_field(&path, name),
                "is missing: give it (empty if it may be empty)",
            ),
            None => invalid(
                if path.is_empty() { "body".into() } else { path },
                shape_reason(&message),
            ),
        }
    })
}

/// Only a form, or nothing at all: any other body type (`text/plain`, JSON, multipart) is
/// refused rather than read as if it were a form.
#[cfg(feature = "ssr")]
fn check_content_type(content_type: Option<&str>, body: &[u8]) -> Result<(), AppError> {
    let Some(content_type) = content_type else {
        return if body.is_empty() {
            Ok(())
        } else {
            Err(invalid(
                "Content-Type",
                "is missing: send the fields as application/x-www-form-urlencoded",
            ))
        };
    };
    let mut parts = content_type.split(';').map(str::trim);
    let essence = parts.next().unwrap_or_default();
    if !essence.eq_ignore_ascii_case(Form::CONTENT_TYPE) {
        return Err(invalid(
            "Content-Type",
            "must be application/x-www-form-urlencoded (an HTML form's fields)",
        ));
    }
    for parameter in parts {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let value = value.trim_matches('"');
        if name.trim().eq_ignore_ascii_case("charset") && !value.eq_ignore_ascii_case("utf-8") {
            return Err(invalid("Content-Type", "charset must be UTF-8"));
        }
    }
    Ok(())
}

/// Each field once, and none given as a list (`field[]=`) or with an empty name; every name and
/// value UTF-8 once percent-decoded.
#[cfg(feature = "ssr")]
fn check_fields(text: &str) -> Result<(), AppError> {
    let decoded = |raw: &str| {
        let raw = raw.replace('+', " ");
        percent_encoding::percent_decode_str(&raw)
            .decode_utf8()
            .map(|text| text.into_owned())
    };
    let mut seen = std::collections::BTreeSet::new();
    for pair in text.split('&').filter(|pair| !pair.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decoded(raw_key)
            .map_err(|_| invalid("body", "has a field name that is not UTF-8 once decoded"))?;
        if key.is_empty() {
            return Err(invalid("body", "has a value without a field name"));
        }
        if decoded(raw_value).is_err() {
            return Err(invalid(key, "is not UTF-8 text once decoded"));
        }
        if key.contains("[]") {
            return Err(invalid(
                key.replace("[]", ""),
                "is given as a list (field[]=…): give it once, as one value",
            ));
        }
        if !seen.insert(key.clone()) {
            return Err(invalid(key, "is given more than once: give it once"));
        }
    }
    Ok(())
}

/// serde_path_to_error's path (`form.hosts`) as the form names it (`form[hosts]`).
#[cfg(feature = "ssr")]
fn form_path(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for segment in path.iter() {
        let name = segment.to_string();
        if name == "?" {
            continue;
        }
        out = join_field(&out, &name);
    }
    out
}

/// `parent[child]`, or `child` at the top.
#[cfg(feature = "ssr")]
fn join_field(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}[{child}]")
    }
}

/// The field a "missing field `x`" names.
#[cfg(feature = "ssr")]
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
}

/// Why a field's value does not fit, in words for people (never the parser's own).
#[cfg(feature = "ssr")]
fn shape_reason(message: &str) -> &'static str {
    let message = message.to_ascii_lowercase();
    if message.contains("invalid type: sequence") || message.contains("expected a sequence") {
        "is given as a list: give it once, as one value"
    } else if message.contains("invalid type: map") {
        "is given with parts (field[part]=…): give it as one value"
    } else if message.contains("expected struct") || message.contains("could not convert") {
        "must be given field by field, as field[name]=value"
    } else if message.contains("digit")
        || message.contains("integer")
        || message.contains("number")
        || message.contains("i64")
    {
        "must be a whole number"
    } else if message.contains("depth") {
        "is nested too deeply"
    } else if message.contains("utf-8") || message.contains("utf8") {
        "is not UTF-8 text once decoded"
    } else {
        "does not parse as this field's value"
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::domain::form::ServiceEntryForm;
    use proptest::prelude::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Delete {
        namespace: String,
        name: String,
        uid: Option<String>,
        generation: Option<i64>,
    }

    #[derive(Debug, Deserialize)]
    struct Create {
        #[allow(dead_code)]
        form: ServiceEntryForm,
    }

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    fn field(result: Result<impl std::fmt::Debug, AppError>) -> (String, String) {
        match result {
            Err(AppError::Invalid { field, reason }) => (field, reason),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn reads_a_form_and_its_optional_fields() {
        let delete: Delete = read(FORM, b"namespace=ns&name=a%2Fb&generation=3").expect("read");
        assert_eq!(
            delete,
            Delete {
                namespace: "ns".into(),
                name: "a/b".into(),
                uid: None,
                generation: Some(3)
            }
        );
        let charset = Some("application/x-www-form-urlencoded; charset=UTF-8");
        assert!(read::<Delete>(charset, b"namespace=ns&name=n").is_ok());
    }

    #[test]
    fn a_missing_field_is_named() {
        assert_eq!(
            field(read::<Delete>(FORM, b"namespace=ns")),
            (
                "name".into(),
                "is missing: give it (empty if it may be empty)".into()
            )
        );
        assert_eq!(field(read::<Delete>(None, b"")).0, "namespace");
        let (name, _) = field(read::<Create>(FORM, b"form[name]=a&form[namespace]=b"));
        assert_eq!(name, "form[hosts]");
    }

    #[test]
    fn a_field_given_twice_or_as_a_list_is_named() {
        let (name, reason) = field(read::<Delete>(FORM, b"namespace=a&namespace=b&name=n"));
        assert_eq!(name, "namespace");
        assert!(reason.contains("more than once"), "{reason}");
        let (name, reason) = field(read::<Delete>(FORM, b"namespace[]=a&name=n"));
        assert_eq!(name, "namespace");
        assert!(reason.contains("list"), "{reason}");
    }

    #[test]
    fn a_mistyped_field_is_named_in_plain_words() {
        let (name, reason) = field(read::<Delete>(FORM, b"namespace=a&name=n&generation=x"));
        assert_eq!(
            (name.as_str(), reason.as_str()),
            ("generation", "must be a whole number")
        );
        let (name, reason) = field(read::<Create>(FORM, b"form=abc"));
        assert_eq!(name, "form");
        assert!(reason.contains("field[name]"), "{reason}");
        let (name, _) = field(read::<Delete>(FORM, b"namespace[x]=a&name=n"));
        assert_eq!(name, "namespace");
    }

    #[test]
    fn other_bodies_are_refused_not_read_as_forms() {
        for content_type in [
            "text/plain",
            "application/json",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded; charset=UTF-16",
        ] {
            let (name, _) = field(read::<Delete>(Some(content_type), b"namespace=a&name=n"));
            assert_eq!(name, "Content-Type", "{content_type}");
        }
        assert_eq!(
            field(read::<Delete>(None, b"namespace=a&name=n")).0,
            "Content-Type"
        );
        let utf16: Vec<u8> = "namespace=a&name=n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(field(read::<Delete>(FORM, &utf16)).0, "body");
        assert_eq!(
            field(read::<Delete>(FORM, b"namespace=%FF&name=n")).0,
            "namespace"
        );
    }

    proptest! {
        // NB: tests write only under target/: no regression files beside the source.
        #![proptest_config(ProptestConfig { failure_persistence: None, ..Default::default() })]
        /// Whatever the body, the reader answers a value or a refusal that names a field in
        /// words of its own: never a panic, never the parser's wording.
        #[test]
        fn any_body_is_read_or_refused_in_plain_words(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Err(error) = read::<Delete>(FORM, &body) {
                let AppError::Invalid { field, reason } = error else {
                    panic!("not Invalid: {error:?}");
                };
                prop_assert!(!field.is_empty());
                for leaked in ["invalid type", "serde", "expected", "`"] {
                    prop_assert!(!reason.contains(leaked), "{reason}");
                }
            }
        }

        /// Hostile field names and values round-trip exactly through the writer and reader.
        #[test]
        fn values_round_trip(namespace in ".*", name in ".*") {
            #[derive(Serialize)]
            struct Out<'a> { namespace: &'a str, name: &'a str }
            let body = serde_qs::to_string(&Out { namespace: &namespace, name: &name }).expect("written");
            let delete: Delete = read(FORM, body.as_bytes()).expect("read");
            prop_assert_eq!(delete.namespace, namespace);
            prop_assert_eq!(delete.name, name);
        }
    }
}
