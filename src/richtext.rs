//! Rich text (issue descriptions, comments): what is stored is sanitized HTML that can run
//! no script, plus its plain text for full-text search.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Longest rich text accepted, in characters of the HTML sent.
pub const MAX_HTML: usize = 100_000;
/// Longest rich text stored: sanitising may lengthen what was sent (escaped characters,
/// `rel` on links; `&` becomes `&amp;`, five times longer), so the stored bound is wider
/// than the bound on input.
pub const MAX_STORED_HTML: usize = 5 * MAX_HTML;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    // ammonia's defaults allow formatting, lists, tables, code, links and images and strip
    // scripts, event handlers, styles, forms and `javascript:` URLs. Links get rel=noopener
    // noreferrer (its default). Task lists are kept the way rich-text editors write them
    // (`<ul data-type="taskList"><li data-checked="true">`), without form inputs.
    b.add_tag_attributes("ul", ["data-type"])
        .add_tag_attributes("li", ["data-checked"]);
    b
});

static TEXT_ONLY: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    // Keep the text of every element but drop elements whose content is not text.
    b.clean_content_tags(HashSet::from(["script", "style"]));
    b
});

/// Sanitized HTML and its plain text.
#[derive(Debug, Clone)]
pub struct Rich {
    pub html: String,
    pub text: String,
}

/// Sanitizes `raw`; fails when it is too long.
pub fn parse(raw: &str) -> Result<Rich, String> {
    if raw.chars().count() > MAX_HTML {
        return Err(format!("must be at most {MAX_HTML} characters"));
    }
    let (html, text) = sanitize(raw);
    Ok(Rich { html, text })
}

/// Sanitized HTML and its plain text, without a bound: what the projection stores for
/// any rich text, from the API or from a peer (`docs::rules::derive_fields`). Cleaning
/// sanitized HTML again gives it back, so the API's text is stored as it was sent.
pub fn sanitize(raw: &str) -> (String, String) {
    // Text with nothing HTML would escape or parse comes out of ammonia as it went in.
    let html = if raw.contains(['<', '>', '&', '\u{a0}']) {
        CLEANER.clean(raw).to_string()
    } else {
        raw.to_string()
    };
    let text = plain_text(&html);
    (html, text)
}

/// The text of sanitized HTML, with block boundaries as spaces.
fn plain_text(html: &str) -> String {
    // Tags become spaces so that "<p>a</p><p>b</p>" searches as two words.
    let spaced = html.replace('<', " <");
    let text = TEXT_ONLY.clean(&spaced).to_string();
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_javascript_urls_are_removed() {
        let r = parse(
            r#"<p onclick="x()">Hi <b>there</b></p><script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">l</a><iframe src="https://e.com"></iframe><style>p{}</style>"#,
        )
        .unwrap();
        assert!(!r.html.contains("script"), "{}", r.html);
        assert!(!r.html.contains("onclick") && !r.html.contains("onerror"), "{}", r.html);
        assert!(!r.html.contains("javascript:"), "{}", r.html);
        assert!(!r.html.contains("iframe") && !r.html.contains("style"), "{}", r.html);
        assert!(r.html.contains("<b>there</b>"), "{}", r.html);
        assert_eq!(r.text, "Hi there l");
    }

    #[test]
    fn text_keeps_words_apart_and_decodes_entities() {
        let r = parse("<p>alpha</p><p>beta &amp; gamma &lt;3</p><ul><li>one</li><li>two</li></ul>").unwrap();
        assert_eq!(r.text, "alpha beta & gamma <3 one two");
    }

    #[test]
    fn task_lists_survive_but_form_inputs_do_not() {
        let r = parse(r#"<ul data-type="taskList"><li data-checked="true">done</li></ul><input type="text" value="x"><form action="/x"><button>go</button></form>"#).unwrap();
        assert!(r.html.contains(r#"<li data-checked="true">done</li>"#), "{}", r.html);
        assert!(!r.html.contains("input") && !r.html.contains("form"), "{}", r.html);
    }

    #[test]
    fn too_long_is_refused() {
        assert!(parse(&"a".repeat(MAX_HTML + 1)).is_err());
        assert!(parse(&"a".repeat(MAX_HTML)).is_ok());
    }
}
