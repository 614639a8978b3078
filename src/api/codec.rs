//! The server functions' answer encoding: JSON, exactly as leptos's `Json`, but read in the
//! browser with `serde_json::from_str`, as leptos reads the resources a page was rendered with.
//! NB: with leptos's `Json` (`from_slice`) every answer type's deserialiser was compiled into
//! the WASM twice, once per reader, which made serde_json the largest part of it.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};

/// `application/json` in a POST answer (the wire format of leptos's `Json`).
pub struct JsonText;

/// Server functions answer with [`JsonText`].
pub type Json = Post<JsonText>;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: serde::Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: serde::de::DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        // NB: invalid UTF-8 is a JSON syntax error either way; from_str reports it as one.
        let text = String::from_utf8_lossy(&bytes);
        serde_json::from_str(&text)
    }
}
