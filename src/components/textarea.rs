//! The one way text goes into a `<textarea>`.
//!
//! NB: leptos (tachys 0.2) writes a `<textarea>`'s children raw on the server, like a
//! `<script>`'s, so a value holding `</textarea>` would close the element and the rest would be
//! page markup (upstream: leptos PRs #4730, #4819, #4821). A textarea's content is escapable raw
//! text: the browser decodes `&lt;` and `&amp;` in it, so escaping gives back the exact value.
//! The browser does not hydrate a textarea's children, and in the browser text is a text node,
//! never markup, so only the server escapes. Every `<textarea>` in `src/` takes its content
//! from [`textarea_text`] (ARCHITECTURE.md greps for it).

/// `text` as a `<textarea>`'s content: escaped on the server, with a leading newline, which the
/// HTML parser drops (so a value that starts with a newline keeps it).
pub fn textarea_text(text: impl Into<String>) -> String {
    let text = text.into();
    #[cfg(feature = "ssr")]
    {
        format!("\n{}", html_escape::encode_text(&text))
    }
    #[cfg(not(feature = "ssr"))]
    {
        text
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use leptos::prelude::*;

    /// Renders `text` wherever the pages put text: a textarea, a text node, an attribute, an
    /// SVG text, a title.
    fn rendered(text: &str) -> String {
        let (title, area, span) = (text.to_string(), textarea_text(text), text.to_string());
        let (svg, svg_title, link) = (text.to_string(), text.to_string(), text.to_string());
        let href = format!("/services?q={text}");
        view! {
            <div title=title>
                <textarea name="x">{area}</textarea>
                <span>{span}</span>
                <svg><text x="1">{svg}</text><title>{svg_title}</title></svg>
                <a href=href>{link}</a>
            </div>
        }
        .to_html()
    }

    /// The tags of the markup, in order: what the browser builds elements from.
    fn tags(html: &str) -> Vec<String> {
        html.split('<')
            .skip(1)
            .map(|rest| {
                rest.split(|c: char| c.is_whitespace() || c == '>')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    proptest::proptest! {
        // NB: tests write only under target/: no regression files beside the source.
        #![proptest_config(proptest::prelude::ProptestConfig { failure_persistence: None, ..Default::default() })]
        /// Whatever the text, the markup is the same: the text adds no tag and closes none.
        #[test]
        fn text_never_changes_the_markup(text in "[<>\"'&/=a-z !-]{0,40}|.{0,40}") {
            proptest::prop_assert_eq!(tags(&rendered(&text)), tags(&rendered("")));
        }
    }

    #[test]
    fn a_closing_tag_stays_text() {
        let html = view! { <textarea name="x">{textarea_text("</textarea><b id=injected>x</b>&amp;")}</textarea> }
            .to_html();
        assert!(!html.contains("<b"), "{html}");
        assert!(
            html.contains("&lt;/textarea&gt;&lt;b id=injected&gt;x&lt;/b&gt;&amp;amp;"),
            "{html}"
        );
        assert_eq!(html.matches("</textarea>").count(), 1, "{html}");
    }
}
