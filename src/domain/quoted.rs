//! Text from users or the cluster, quoted in a message for people: what was written, with what
//! cannot be seen (controls, bidirectional and zero-width marks) named by its code point, and
//! long values cut. Never Rust's debug escapes (`\u{202e}`), which read as code.

use std::fmt;

/// The longest part of a value a message repeats.
const MAX_SHOWN: usize = 80;

/// `value` as `"value"` for a message.
pub fn quoted(value: impl fmt::Display) -> Quoted {
    Quoted(value.to_string())
}

/// A value quoted for a message (see [`quoted`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted(String);

/// Characters a person would not see, or that would change how the text around them reads.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}'
            | '\u{17B5}' | '\u{180B}'..='\u{180E}' | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}')
}

impl fmt::Display for Quoted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for (shown, c) in self.0.chars().enumerate() {
            if shown == MAX_SHOWN {
                f.write_str("…")?;
                break;
            }
            match c {
                '\n' => f.write_str("⏎")?,
                c if is_hidden(c) => write!(f, "<U+{:04X}>", u32::from(c))?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_named_not_escaped() {
        let shown = quoted("fuzz\u{202e}abc\u{200f}").to_string();
        assert_eq!(shown, "\"fuzz<U+202E>abc<U+200F>\"");
        assert!(!shown.contains("\\u"));
        assert_eq!(quoted("a\tb\nc").to_string(), "\"a<U+0009>b⏎c\"");
        assert_eq!(quoted(443).to_string(), "\"443\"");
    }

    #[test]
    fn long_values_are_cut() {
        let shown = quoted("x".repeat(500)).to_string();
        assert_eq!(shown.chars().count(), MAX_SHOWN + 3);
    }
}
